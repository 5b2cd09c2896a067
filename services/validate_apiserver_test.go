package services_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"
)

// TestValidateYAMLAgreesWithAPIServer sends every document of the validate
// corpus to the real API server (server-side dry run with strict field
// validation, as `kubectl apply --dry-run=server` does) and checks that
// gitops.validateYAML gives the same verdict.
func TestValidateYAMLAgreesWithAPIServer(t *testing.T) {
	c := fluxCluster.Get(t)
	svc := newSvc(t)
	// The Flux CRDs, as installFlux installs them.
	c.AddReadyNode(t, "node-1")
	registerCluster(t, svc, "cluster-123", c.Kubeconfig(t))
	if err := callProc(t, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil); err != nil && !isCode(err, "FLUX_ALREADY_INSTALLED") {
		t.Fatal(err)
	}
	dir := filepath.Join("validate", "testdata", "corpus")
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Documents []struct {
			File  string `json:"file"`
			Valid bool   `json:"valid"`
		} `json:"documents"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config())
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.Config())))
	ctx := context.Background()
	for _, doc := range m.Documents {
		data, err := os.ReadFile(filepath.Join(dir, doc.File))
		if err != nil {
			t.Fatal(err)
		}
		server := apiServerVerdict(t, ctx, dyn, mapper, data)
		var ours struct {
			Valid bool `json:"valid"`
		}
		mustCall(t, svc, "gitops.validateYAML", map[string]any{"yaml": string(data)}, &ours)
		if ours.Valid != server {
			t.Errorf("%s: validateYAML says valid=%v, the API server says valid=%v", doc.File, ours.Valid, server)
		}
		if server != doc.Valid {
			t.Errorf("%s: the corpus manifest says valid=%v, the API server says %v", doc.File, doc.Valid, server)
		}
	}
}

func isCode(err error, code string) bool {
	b, _ := json.Marshal(err)
	var e struct{ Code string }
	_ = json.Unmarshal(b, &e)
	return e.Code == code
}

// apiServerVerdict creates the object with dryRun=All and strict field validation.
func apiServerVerdict(t *testing.T, ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, data []byte) bool {
	t.Helper()
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil || obj == nil {
		return false
	}
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return false
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false // a kind or version the server does not serve
	}
	ri := dyn.Resource(mapping.Resource)
	var r dynamic.ResourceInterface = ri
	if mapping.Scope.Name() == "namespace" {
		ns := u.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		r = ri.Namespace(ns)
	}
	_, err = r.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	return err == nil
}
