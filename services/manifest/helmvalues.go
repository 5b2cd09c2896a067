package manifest

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// HelmChart is what the planner needs of the chart a release will use.
type HelmChart struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Defaults is the chart's values.yaml.
	Defaults map[string]any `json:"-"`
	// Schema is the chart's values.schema.json (nil when it has none): a
	// top-level property counts as a value the chart has.
	Schema []byte `json:"-"`
	// ValuesFile names where Defaults come from, for errors
	// ("podinfo-6.5.4.tgz: podinfo/values.yaml", "charts/web/values.yaml").
	ValuesFile string `json:"valuesFile"`
}

// HelmChange is a change to an environment whose path holds a HelmRelease.
// The image, replicas, env and resources of Change map onto the chart's
// values by the common conventions (image.repository + image.tag, or image
// as one string; replicaCount or replicas; resources; env, extraEnv or
// extraEnvVars); Change.Workload names the HelmRelease ("podinfo" or
// "HelmRelease/podinfo") when the path builds several.
type HelmChange struct {
	Change
	// Values are merged into the release's values (JSON merge semantics: a
	// nil value removes the key, a list replaces the list).
	Values map[string]any `json:"values,omitempty"`
	// ChartVersion sets spec.chart.spec.version.
	ChartVersion string `json:"chartVersion,omitempty"`
}

// has reports whether the chart has the top-level value key: in its
// values.yaml or as a property of its values schema.
func (c HelmChart) has(key string) bool {
	if _, ok := c.Defaults[key]; ok {
		return true
	}
	if len(c.Schema) == 0 {
		return false
	}
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(c.Schema, &s) != nil {
		return false
	}
	_, ok := s.Properties[key]
	return ok
}

func (c HelmChart) missing(fe model.FieldErrors, field, want string) {
	fe.Add(field, fmt.Sprintf("chart %s %s has no %s value in %s; set the chart's own key with values", c.Name, c.Version, want, c.ValuesFile))
}

// Coalesce merges over into base as Helm does for values: maps merge
// recursively, anything else replaces, a nil value removes the key. It
// returns a new map and leaves both inputs alone.
func Coalesce(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	maps.Copy(out, base)
	for k, v := range over {
		if v == nil {
			delete(out, k)
			continue
		}
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = Coalesce(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// helmDelta maps a change onto the values to write: a tree of the keys to
// set (lists whole, nil to remove). eff is the release's values over the
// chart's defaults. Fields the chart has no value for are BAD_REQUEST.
func helmDelta(ch HelmChange, c HelmChart, eff map[string]any) (map[string]any, error) {
	delta := map[string]any{}
	fe := model.FieldErrors{}
	if ch.Image != "" {
		imageDelta(fe, ch.Image, c, eff, delta)
	}
	if ch.Replicas != nil {
		switch {
		case c.has("replicaCount"):
			delta["replicaCount"] = int64(*ch.Replicas)
		case c.has("replicas"):
			delta["replicas"] = int64(*ch.Replicas)
		default:
			c.missing(fe, "replicas", "replicaCount (or replicas)")
		}
	}
	if r := ch.Resources; r != nil {
		if !c.has("resources") {
			c.missing(fe, "resources", "resources")
		} else {
			res := map[string]any{}
			for part, v := range map[string]ResourceValues{"requests": r.Requests, "limits": r.Limits} {
				m := map[string]any{}
				if v.CPU != "" {
					m["cpu"] = v.CPU
				}
				if v.Memory != "" {
					m["memory"] = v.Memory
				}
				if len(m) > 0 {
					res[part] = m
				}
			}
			delta["resources"] = res
		}
	}
	if len(ch.Env) > 0 {
		envDelta(fe, ch.Env, c, eff, delta)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	mergeDelta(delta, ch.Values)
	return delta, nil
}

// mergeDelta merges the caller's values into the mapped ones (the caller's
// win), keeping nil values (they remove keys).
func mergeDelta(delta, values map[string]any) {
	for k, v := range values {
		dm, ok1 := delta[k].(map[string]any)
		vm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			mergeDelta(dm, vm)
			continue
		}
		delta[k] = v
	}
}

// imageDelta maps an image reference onto image.repository + image.tag
// (image.registry too when the chart splits it, image.digest for a digest),
// or onto image as one string.
func imageDelta(fe model.FieldErrors, image string, c HelmChart, eff, delta map[string]any) {
	ref, err := ParseImage(image)
	if err != nil {
		fe.Add("image", model.AsError(err).Message)
		return
	}
	cur, isMap := eff["image"].(map[string]any)
	if _, isStr := eff["image"].(string); isStr {
		delta["image"] = ref.String()
		return
	}
	if !isMap {
		c.missing(fe, "image", "image (image.repository and image.tag, or image as one string)")
		return
	}
	m := map[string]any{}
	repo := ref.Name
	if _, ok := cur["registry"]; ok {
		reg, rest := "", repo
		if i := strings.IndexByte(repo, '/'); i > 0 && strings.ContainsAny(repo[:i], ".:") {
			reg, rest = repo[:i], repo[i+1:]
		}
		if reg != "" && reg != str(cur["registry"]) {
			m["registry"] = reg
		}
		repo = rest
		if reg == "" && str(cur["registry"]) != "" {
			m["registry"] = "docker.io"
		}
	}
	if _, ok := cur["repository"]; ok {
		if repo != str(cur["repository"]) {
			m["repository"] = repo
		}
	} else if _, ok := cur["name"]; ok {
		if repo != str(cur["name"]) {
			m["name"] = repo
		}
	} else {
		c.missing(fe, "image", "image.repository")
		return
	}
	switch {
	case ref.Digest != "" && hasKey(cur, "digest"):
		m["digest"] = ref.Digest
		if ref.Tag != "" {
			m["tag"] = ref.Tag
		}
	case ref.Digest != "":
		fe.Add("image", fmt.Sprintf("chart %s %s has no image.digest value in %s: give a tag", c.Name, c.Version, c.ValuesFile))
		return
	default:
		m["tag"] = ref.Tag
		if ref.Tag == "" {
			m["tag"] = "latest"
		}
		if hasKey(cur, "digest") && str(cur["digest"]) != "" {
			m["digest"] = ""
		}
	}
	delta["image"] = m
}

// envDelta maps env onto env, extraEnv or extraEnvVars: as a list of
// {name, value} (written whole: Helm replaces lists) or a map.
func envDelta(fe model.FieldErrors, env map[string]*string, c HelmChart, eff, delta map[string]any) {
	key := ""
	for _, k := range []string{"env", "extraEnv", "extraEnvVars"} {
		if c.has(k) {
			key = k
			break
		}
	}
	if key == "" {
		c.missing(fe, "env", "env (or extraEnv, extraEnvVars)")
		return
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	if cur, ok := eff[key].(map[string]any); ok {
		m := map[string]any{}
		for _, n := range names {
			if v := env[n]; v != nil {
				m[n] = *v
			} else if _, ok := cur[n]; ok {
				m[n] = nil
			}
		}
		delta[key] = m
		return
	}
	cur, _ := eff[key].([]any)
	var list []any
	seen := map[string]bool{}
	for _, it := range cur {
		im, ok := it.(map[string]any)
		n := str(im["name"])
		if !ok || n == "" {
			list = append(list, it)
			continue
		}
		v, changed := env[n]
		seen[n] = true
		switch {
		case !changed:
			list = append(list, it)
		case v != nil:
			list = append(list, map[string]any{"name": n, "value": *v})
		}
	}
	for _, n := range names {
		if v := env[n]; v != nil && !seen[n] {
			list = append(list, map[string]any{"name": n, "value": *v})
		}
	}
	if list == nil {
		list = []any{}
	}
	delta[key] = list
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// leafPaths lists the paths of delta's leaves (a list or a nil is a leaf),
// "a.b.c", with their values.
func leafPaths(prefix string, delta map[string]any, out map[string]any) {
	for k, v := range delta {
		p := joinField(prefix, k)
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			leafPaths(p, m, out)
			continue
		}
		out[p] = v
	}
}

// valueAt returns the value at a dotted path of values, and whether it is there.
func valueAt(values map[string]any, p string) (any, bool) {
	var cur any = values
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// sameValue compares two values as JSON does (1 and 1.0 are the same).
func sameValue(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return reflect.DeepEqual(a, b)
	}
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}
