package manifest

import (
	"bytes"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/gitopstui/gitopstui/model"
	yaml "go.yaml.in/yaml/v3"
)

// HelmRelease is a Flux HelmRelease as an environment's path builds it
// (kustomize patches applied): what helm-controller will install.
type HelmRelease struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// ReleaseName is the Helm release's name as helm-controller derives it:
	// spec.releaseName, else [targetNamespace-]name.
	ReleaseName string `json:"releaseName"`
	// TargetNamespace is where the chart's objects go: spec.targetNamespace,
	// else the HelmRelease's namespace. StorageNamespace holds the release.
	TargetNamespace  string `json:"targetNamespace"`
	StorageNamespace string `json:"storageNamespace"`
	// Chart is spec.chart.spec.chart: a chart name in a HelmRepository, a
	// directory in a GitRepository.
	Chart string `json:"chart"`
	// Version is spec.chart.spec.version: a version or semver range ("" is
	// the latest, as "*").
	Version string         `json:"version,omitempty"`
	Source  HelmSource     `json:"source"`
	Values  map[string]any `json:"values,omitempty"`
	// ValuesFrom and PostRenderers report settings the preview cannot
	// follow (values from the cluster, post-render kustomize patches).
	ValuesFrom    bool `json:"valuesFrom,omitempty"`
	PostRenderers bool `json:"postRenderers,omitempty"`
	// File is the repository file of the HelmRelease document.
	File string `json:"file"`
}

// ID is "HelmRelease/<name>".
func (r *HelmRelease) ID() string { return "HelmRelease/" + r.Name }

// HelmSource is the Flux source of a HelmRelease's chart.
type HelmSource struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// URL is the HelmRepository's or GitRepository's spec.url ("" when the
	// source is not in the repository).
	URL string `json:"url,omitempty"`
	// Type is a HelmRepository's spec.type ("default" or "oci").
	Type string `json:"type,omitempty"`
	// Branch, Tag, Semver and Commit are a GitRepository's spec.ref.
	Branch string `json:"branch,omitempty"`
	Tag    string `json:"tag,omitempty"`
	Semver string `json:"semver,omitempty"`
	Commit string `json:"commit,omitempty"`
	// File is where the source is defined in the repository.
	File string `json:"file,omitempty"`
}

// maxSourceScan bounds the files read when looking for a chart source
// outside the environment's build.
const maxSourceScan = 5000

// FindHelmRelease returns the HelmRelease that gitPath builds and that name
// selects ("podinfo", "HelmRelease/podinfo"; "" when the path builds one),
// nil without an error when the path builds no HelmRelease. The chart's
// source is looked up in the build, then in the whole repository.
func FindHelmRelease(fsys fs.FS, gitPath, name string) (*HelmRelease, error) {
	rels, err := findHelmReleases(fsTree{fsys}, gitPath, nil)
	if err != nil || len(rels) == 0 {
		return nil, err
	}
	rel, err := pickRelease(rels, name)
	if err != nil {
		return nil, err
	}
	if rel.Source.URL == "" {
		findSourceInRepo(fsys, &rel.Source)
	}
	return rel, nil
}

// findHelmReleases builds gitPath (over files when given) and returns its
// HelmReleases; nil when no file of the build mentions HelmRelease, or when
// the path's files cannot be read for an offline build (a remote base): the
// Deployment planner then reports on the path as it always has.
func findHelmReleases(t tree, gitPath string, over map[string][]byte) ([]*HelmRelease, error) {
	e, err := loadEnv(t, gitPath)
	if err != nil {
		return nil, nil
	}
	files := e.files
	if over != nil {
		files = withFiles(files, over)
	}
	mentions := false
	for _, b := range files {
		if bytes.Contains(b, []byte("HelmRelease")) {
			mentions = true
			break
		}
	}
	if !mentions {
		return nil, nil
	}
	objs, err := e.build(files, false)
	if err != nil {
		return nil, err
	}
	var out []*HelmRelease
	for _, o := range objs {
		if o.kind == "HelmRelease" && o.group == "helm.toolkit.fluxcd.io" {
			rel, err := releaseOf(o)
			if err != nil {
				return nil, err
			}
			out = append(out, rel)
		}
	}
	for _, rel := range out {
		for _, o := range objs {
			if o.kind == rel.Source.Kind && o.name == rel.Source.Name && o.namespace == rel.Source.Namespace {
				sourceFrom(o.root, &rel.Source)
				rel.Source.File = o.file
			}
		}
	}
	return out, nil
}

// releaseOf reads a built HelmRelease.
func releaseOf(o *builtObj) (*HelmRelease, error) {
	var obj struct {
		Spec struct {
			ReleaseName      string `yaml:"releaseName"`
			TargetNamespace  string `yaml:"targetNamespace"`
			StorageNamespace string `yaml:"storageNamespace"`
			Chart            *struct {
				Spec struct {
					Chart     string `yaml:"chart"`
					Version   string `yaml:"version"`
					SourceRef struct {
						Kind, Name, Namespace string
					} `yaml:"sourceRef"`
				} `yaml:"spec"`
			} `yaml:"chart"`
			Values        map[string]any `yaml:"values"`
			ValuesFrom    []any          `yaml:"valuesFrom"`
			PostRenderers []any          `yaml:"postRenderers"`
		} `yaml:"spec"`
	}
	if err := o.root.Decode(&obj); err != nil {
		return nil, model.Errorf(model.CodeYAMLInvalid, "HelmRelease/%s in %s: %v", o.name, o.file, err).WithDetail("path", o.file)
	}
	s := obj.Spec
	if s.Chart == nil {
		return nil, model.Errorf(model.CodeBadRequest, "HelmRelease/%s in %s has no spec.chart (a chartRef to an OCIRepository or HelmChart is not supported)", o.name, o.file).
			WithDetail("path", o.file)
	}
	rel := &HelmRelease{Name: o.name, Namespace: o.namespace, ReleaseName: s.ReleaseName, TargetNamespace: s.TargetNamespace,
		StorageNamespace: s.StorageNamespace, Chart: s.Chart.Spec.Chart, Version: s.Chart.Spec.Version, Values: s.Values,
		ValuesFrom: len(s.ValuesFrom) > 0, PostRenderers: len(s.PostRenderers) > 0, File: o.file}
	if rel.ReleaseName == "" {
		rel.ReleaseName = rel.Name
		if rel.TargetNamespace != "" {
			rel.ReleaseName = rel.TargetNamespace + "-" + rel.Name
		}
	}
	if rel.TargetNamespace == "" {
		rel.TargetNamespace = rel.Namespace
	}
	if rel.StorageNamespace == "" {
		rel.StorageNamespace = rel.Namespace
	}
	ref := s.Chart.Spec.SourceRef
	rel.Source = HelmSource{Kind: ref.Kind, Name: ref.Name, Namespace: ref.Namespace}
	if rel.Source.Namespace == "" {
		rel.Source.Namespace = rel.Namespace
	}
	return rel, nil
}

// sourceFrom reads a HelmRepository's or GitRepository's spec into s.
func sourceFrom(root *yaml.Node, s *HelmSource) {
	spec := mapValue(root, "spec")
	s.URL, s.Type = scalarAt(spec, "url"), scalarAt(spec, "type")
	ref := mapValue(spec, "ref")
	s.Branch, s.Tag, s.Semver, s.Commit = scalarAt(ref, "branch"), scalarAt(ref, "tag"), scalarAt(ref, "semver"), scalarAt(ref, "commit")
}

// pickRelease selects the HelmRelease name names.
func pickRelease(rels []*HelmRelease, name string) (*HelmRelease, error) {
	name = strings.TrimPrefix(name, "HelmRelease/")
	var ids []string
	for _, r := range rels {
		if r.Name == name || (name == "" && len(rels) == 1) {
			return r, nil
		}
		ids = append(ids, r.ID())
	}
	sort.Strings(ids)
	fe := model.FieldErrors{}
	if name == "" {
		fe.Add("workload", "the path builds several HelmReleases; name one of: "+strings.Join(ids, ", "))
	} else {
		fe.Add("workload", "no HelmRelease "+name+" in the path; it builds "+strings.Join(ids, ", "))
	}
	return nil, fe.Err()
}

// findSourceInRepo looks for the source's definition anywhere in the
// repository (Flux sources often live in an infrastructure directory).
func findSourceInRepo(fsys fs.FS, s *HelmSource) {
	n := 0
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if s.URL != "" {
			return fs.SkipAll
		}
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != "." {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if n++; n > maxSourceScan {
			return fs.SkipAll
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil || !bytes.Contains(b, []byte(s.Kind)) || !bytes.Contains(b, []byte(s.Name)) {
			return nil
		}
		f, err := parseYAMLKinds(p, b, func(k string, _ []byte) bool { return k == s.Kind })
		if err != nil {
			return nil
		}
		for _, d := range f.docs {
			if d.root != nil && d.kind == s.Kind && d.name == s.Name && (d.namespa == "" || d.namespa == s.Namespace) {
				sourceFrom(d.root, s)
				s.File = p
				return fs.SkipAll
			}
		}
		return nil
	})
}
