package validate

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	sigsjson "sigs.k8s.io/json"
)

// clusterScoped lists the built-in kinds that are not namespaced.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "StorageClass": true, "CSIDriver": true, "CSINode": true,
	"VolumeAttachment": true, "PriorityClass": true, "RuntimeClass": true, "IngressClass": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"CertificateSigningRequest": true, "ClusterTrustBundle": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
	"APIService": true, "CustomResourceDefinition": true, "DeviceClass": true, "ResourceSlice": true, "IPAddress": true,
	"ServiceCIDR": true, "StorageVersion": true, "StorageVersionMigration": true, "VolumeAttributesClass": true,
	"SelfSubjectReview": true, "SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true, "SubjectAccessReview": true,
	"TokenReview": true, "DeviceTaintRule": true,
}

type lifecycleRemoved interface{ APILifecycleRemoved() (int, int) }
type lifecycleDeprecated interface{ APILifecycleDeprecated() (int, int) }
type lifecycleReplacement interface {
	APILifecycleReplacement() schema.GroupVersionKind
}

func (v *Validator) atLeast(major, minor int) bool {
	return v.k8sMajor > major || (v.k8sMajor == major && v.k8sMinor >= minor)
}

// builtin checks an object of a built-in API group.
func (r *run) builtin(c *docCtx) {
	c.namespaced = !clusterScoped[c.gvk.Kind]
	obj, err := scheme.Scheme.New(c.gvk)
	if err != nil || strings.HasSuffix(c.gvk.Kind, "List") && c.gvk.Kind != "List" {
		known := kindsInVersion(c.gvk.GroupVersion())
		sugg := "check the spelling of kind and apiVersion"
		if alt := closest(c.gvk.Kind, known); alt != "" {
			sugg = fmt.Sprintf("did you mean kind %q?", alt)
		} else if gvs := versionsOfKind(c.gvk.GroupKind()); len(gvs) > 0 {
			sugg = fmt.Sprintf("%s is served as %s", c.gvk.Kind, strings.Join(gvs, ", "))
		}
		r.errorAt(c, "kind", fmt.Sprintf("no kind %q is served in %s", c.gvk.Kind, c.gvk.GroupVersion()), sugg)
		return
	}
	repl := ""
	if l, ok := obj.(lifecycleReplacement); ok {
		if g := l.APILifecycleReplacement(); !g.Empty() {
			repl = fmt.Sprintf("use apiVersion %s (kind %s)", g.GroupVersion(), g.Kind)
		}
	}
	if l, ok := obj.(lifecycleRemoved); ok {
		if maj, min := l.APILifecycleRemoved(); maj > 0 && r.v.atLeast(maj, min) {
			r.errorAt(c, "apiVersion", fmt.Sprintf("%s %s is no longer served since Kubernetes %d.%d", c.gvk.GroupVersion(), c.gvk.Kind, maj, min), orDefault(repl, "use the current apiVersion"))
			return
		}
	}
	if l, ok := obj.(lifecycleDeprecated); ok {
		if maj, min := l.APILifecycleDeprecated(); maj > 0 && r.v.atLeast(maj, min) {
			r.warnAt(c, "apiVersion", fmt.Sprintf("%s %s is deprecated since Kubernetes %d.%d", c.gvk.GroupVersion(), c.gvk.Kind, maj, min), orDefault(repl, "use the current apiVersion"))
		}
	}
	if strings.Contains(c.gvk.Version, "alpha") {
		r.warnAt(c, "apiVersion", fmt.Sprintf("%s is an alpha API, disabled on clusters by default", c.gvk.GroupVersion()), "use a beta or GA version if there is one")
	}

	data := c.d.json
	if c.d.sops {
		data = stripSOPS(c.d)
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, obj)
	if err != nil {
		r.typeErrors(c, obj)
		return
	}
	errCount := len(r.res.Errors)
	for _, se := range strictErrs {
		path := ""
		if fe, ok := se.(sigsjson.FieldError); ok {
			path = fe.FieldPath()
		}
		msg := se.Error()
		sugg := ""
		if strings.HasPrefix(msg, "unknown field") {
			sugg = "remove it or fix its spelling; the API server rejects unknown fields"
			if alt := closest(lastField(path), siblingFields(reflect.TypeOf(obj), path)); alt != "" {
				sugg = fmt.Sprintf("did you mean %q?", alt)
			}
		}
		r.errorAt(c, path, msg, sugg)
	}
	if len(r.res.Errors) == errCount {
		r.fieldErrors(c, builtinRules(obj, c.namespaced))
	}
	r.builtinWarnings(c, obj)
	r.duplicate(c)
}

func orDefault(s, d string) string {
	if s != "" {
		return s
	}
	return d
}

// stripSOPS returns the document's JSON without the sops key (and without
// encrypted Secret values), which Flux removes before applying.
func stripSOPS(d *document) []byte {
	var m map[string]any
	if err := json.Unmarshal(d.json, &m); err != nil {
		return d.json
	}
	delete(m, "sops")
	if m["kind"] == "Secret" {
		delete(m, "data")
		delete(m, "stringData")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return d.json
	}
	return b
}

func kindsInVersion(gv schema.GroupVersion) []string {
	var out []string
	for k := range scheme.Scheme.KnownTypes(gv) {
		if !strings.HasSuffix(k, "List") && !strings.HasSuffix(k, "Options") && k != "WatchEvent" && k != "Status" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func versionsOfKind(gk schema.GroupKind) []string {
	var out []string
	for _, gv := range scheme.Scheme.VersionsForGroupKind(gk) {
		if gv.Group == gk.Group {
			out = append(out, gv.String())
		}
	}
	return out
}

// ---- type errors -------------------------------------------------------

var jsonTypeErrRE = regexp.MustCompile(`cannot unmarshal (.+?) into Go (?:value|struct field \S+) of type (\S+)`)

// typeErrors walks the document against the Go type and reports every
// value that does not decode, at its own line and column. The decoding
// of each leaf is done by the same decoder the API server uses.
func (r *run) typeErrors(c *docCtx, obj runtime.Object) {
	var found []typeErr
	walkTypes(c.d.root, reflect.TypeOf(obj), "", &found, 0)
	if len(found) == 0 {
		r.errorAt(c, "", "object does not decode as "+c.gvk.Kind, "")
		return
	}
	for _, f := range found {
		msg := strings.TrimPrefix(f.err.Error(), "json: ")
		if m := jsonTypeErrRE.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("wrong type: must be %s, not %s", goTypeName(m[2]), m[1])
		}
		sugg := ""
		if s, ok := scalarString(f.node); ok {
			if _, isBool := yaml11Bools[s]; isBool && f.node.Style == 0 {
				sugg = fmt.Sprintf("quote it (\"%s\"): unquoted %s is a boolean in Kubernetes YAML", s, s)
			} else if strings.Contains(s, "${") {
				sugg = "this looks like a Flux post-build substitution variable; it is replaced before apply, so check the substituted value"
			} else if strings.Contains(msg, "must be string") {
				sugg = fmt.Sprintf("quote it (\"%s\")", s)
			}
		}
		if f.unknown {
			r.errorAt(c, f.path, msg, "remove it or fix its spelling; the API server rejects unknown fields")
			continue
		}
		r.add(false, c.issueAt(f.path, true, f.path+": "+msg, sugg))
	}
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	}
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return "a " + t + " (mapping)"
}

type typeErr struct {
	path    string
	node    *yaml.Node
	err     error
	unknown bool
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func walkTypes(n *yaml.Node, t reflect.Type, path string, out *[]typeErr, depth int) {
	n = deref(n)
	if n == nil || len(*out) >= 20 || depth > 100 {
		return
	}
	if n.Kind == yaml.ScalarNode {
		if tag, _ := resolveScalar(n); tag == "!!null" {
			return
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	leaf := func() {
		b, err := nodeJSON(n)
		if err != nil {
			return
		}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b, reflect.New(t).Interface()); err != nil {
			*out = append(*out, typeErr{path: path, node: n, err: err})
		}
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		leaf()
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			leaf()
			return
		}
		fields := jsonFields(t)
		pairs, err := mappingPairs(n, new(int(1<<30)))
		if err != nil {
			return
		}
		for _, p := range pairs {
			k, _ := keyString(p[0])
			if ft, ok := fields[k]; ok {
				walkTypes(p[1], ft, joinPath(path, k), out, depth+1)
			} else if len(*out) < 20 {
				*out = append(*out, typeErr{path: joinPath(path, k), node: p[0], err: fmt.Errorf("unknown field %q", joinPath(path, k)), unknown: true})
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 || n.Kind != yaml.SequenceNode {
			leaf()
			return
		}
		for i, e := range n.Content {
			walkTypes(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out, depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			leaf()
			return
		}
		pairs, err := mappingPairs(n, new(int(1<<30)))
		if err != nil {
			return
		}
		for _, p := range pairs {
			k, _ := keyString(p[0])
			walkTypes(p[1], t.Elem(), fmt.Sprintf("%s[%s]", path, k), out, depth+1)
		}
	default:
		leaf()
	}
}

// nodeJSON is the JSON of one node.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	c := converter{maxDepth: 1000, budget: new(int(1 << 20))}
	if err := c.value(n, 0); err != nil {
		return nil, err
	}
	return c.buf.Bytes(), nil
}

// jsonFields maps the JSON names of a struct's fields (inline and embedded
// structs flattened) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// siblingFields lists the JSON field names of the struct that holds the
// last element of path.
func siblingFields(t reflect.Type, path string) []string {
	parts := splitPath(path)
	if len(parts) == 0 {
		return nil
	}
	for _, p := range parts[:len(parts)-1] {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		ft, ok := jsonFields(t)[p]
		if !ok {
			return nil
		}
		t = ft
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for k := range jsonFields(t) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// splitPath splits "a.b[0].c" into field names, dropping indexes.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, ".") {
		if i := strings.IndexByte(s, '['); i >= 0 {
			s = s[:i]
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// closest returns the candidate nearest to s (edit distance at most 2, or
// equal ignoring case), or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if strings.EqualFold(c, s) && c != s {
			return c
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD && c != s {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
