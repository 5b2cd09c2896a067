package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/services/proctest"
	"github.com/gitopstui/gitopstui/services/testcluster"
	"github.com/gitopstui/gitopstui/store"
)

// This file holds the harness of the reference tests (reference_test.go and
// reference_flows_test.go): the catalog records that the reference's example
// ids name, on a real API server and a real git server with basic auth, and a
// checker of result shapes that reads the raw JSON a front end receives.

// refTokenEnv holds the loopback git server's password for the repositories.
const refTokenEnv = "REF_GIT_TOKEN"

const refDeployment = `# my-app, as the reference deploys it.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
spec:
  replicas: 2
  selector:
    matchLabels: {app: my-app}
  template:
    metadata:
      labels:
        app: my-app
    spec:
      containers:
        - name: my-app
          image: ghcr.io/org/my-app:v1.0.0
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
`

// refOverlay is an overlay of the base that pins the image tag, so that a
// deploy and an upstream commit can change the same field (newTag).
func refOverlay(name, ns string) string {
	return "# " + name + " overlay\nresources:\n  - ../../base\nnamespace: " + ns + "\nimages:\n  - name: ghcr.io/org/my-app\n    newTag: v1.0.0\n"
}

// refRepoFiles is the content of both repositories: a kustomize base and the
// overlays the reference's paths name (./k8s/overlays/production and
// ./k8s/overlays/development), plus staging for the batch flow.
var refRepoFiles = map[string]string{
	"k8s/base/deployment.yaml":                    refDeployment,
	"k8s/base/kustomization.yaml":                 "resources:\n  - deployment.yaml\n",
	"k8s/overlays/production/kustomization.yaml":  refOverlay("production", "my-app-prod"),
	"k8s/overlays/development/kustomization.yaml": refOverlay("development", "my-app-dev"),
	"k8s/overlays/staging/kustomization.yaml":     refOverlay("staging", "my-app-staging"),
	"README.md": "my-app config\n",
}

// refEnv is the world the reference's examples run in.
type refEnv struct {
	svc *services.Services
	db  *store.DB
	c   *testcluster.Cluster
	dyn dynamic.Interface
	git *gittest.HTTPServer
}

// appRepo is the bare repository of repo-456 on the git server.
func (r refEnv) appRepo() string { return r.git.Dir("acme/my-app.git") }

// setupReferenceCatalog starts a control plane of its own (the examples
// install and uninstall Flux, which other tests of the package must not see)
// and a git server, and creates the records the examples' ids name: cluster
// cluster-123, project project-123, environments env-prod and env-dev (the
// examples) and dev, staging, prod (the batch flow), repositories repo-456
// and repo-123. Nothing here needs Flux.
func setupReferenceCatalog(t *testing.T) refEnv {
	t.Helper()
	srv := gittest.NewHTTPServer(t)
	for _, name := range []string{"acme/my-app.git", "acme/platform.git"} {
		srv.CreateRepo(t, name, refRepoFiles)
		gittest.Git(t, srv.Dir(name), "branch", "develop", "main")
	}
	t.Setenv(refTokenEnv, srv.Password)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	c := testcluster.Start(t)
	c.AddReadyNode(t, "node-1")
	dir := t.TempDir()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	r := refEnv{svc: services.New(services.Config{DataDir: dir, DB: db}), db: db, c: c, dyn: dynamic.NewForConfigOrDie(c.Config()), git: srv}
	registerCluster(t, r.svc, "cluster-123", c.Kubeconfig(t))
	mustCall(t, r.svc, "projects.create", map[string]any{"id": "project-123", "name": "my-app"}, nil)
	for _, e := range [][3]string{{"env-prod", "production", "my-app-prod"}, {"env-dev", "development", "my-app-dev"},
		{"dev", "dev", "batch-dev"}, {"staging", "staging", "batch-staging"}, {"prod", "prod", "batch-prod"}} {
		mustCall(t, r.svc, "environments.create", map[string]any{"id": e[0], "projectId": "project-123", "name": e[1], "clusterId": "cluster-123", "namespace": e[2]}, nil)
	}
	for id, name := range map[string]string{"repo-456": "acme/my-app", "repo-123": "acme/platform"} {
		mustCall(t, r.svc, "repositories.create", map[string]any{"id": id, "projectId": "project-123", "fullName": name, "url": srv.RepoURL(name + ".git"),
			"auth": map[string]any{"type": "basic-env", "username": srv.User, "tokenEnv": refTokenEnv}}, nil)
	}
	return r
}

// setupReferenceGitOps runs once Flux is installed: repo-456 gets its Flux
// source, and every environment names repo-456 (the project has two
// GitOps-enabled repositories once the enableGitOps example ran, so an
// environment must name its own; repositoryId is the product's extension of
// configureGitOps). The reference's examples do not show these steps.
func setupReferenceGitOps(t *testing.T, r refEnv) {
	t.Helper()
	mustCall(t, r.svc, "repositories.enableGitOps", map[string]any{"repositoryId": "repo-456", "config": map[string]any{"fluxNamespace": "flux-system", "syncInterval": "1m"}}, nil)
	mustCall(t, r.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-prod",
		"config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/production"}}, nil)
	mustCall(t, r.svc, "environments.configureGitOps", map[string]any{"environmentId": "env-dev",
		"config": map[string]any{"enabled": true, "repositoryId": "repo-456", "gitPath": "./k8s/overlays/development"}}, nil)
	for _, id := range []string{"dev", "staging", "prod"} {
		mustCall(t, r.svc, "environments.configureGitOps", map[string]any{"environmentId": id, "config": map[string]any{"repositoryId": "repo-456"}}, nil)
	}
}

// rekeyResource gives the GitOps resource id the id want, in the store and
// in the resource-id label of its Flux object. gitops.createGitOpsResource
// generates ids (its input has no id), so the reference's 'resource-123'
// cannot be chosen by a caller; this stands in for a catalog that already
// holds it.
func rekeyResource(t *testing.T, r refEnv, id, want string) {
	t.Helper()
	var rec model.GitOpsResource
	err := r.db.Update(func(tx *store.Tx) error {
		var err error
		if rec, err = store.Resources.Get(tx, id); err != nil {
			return err
		}
		if err := store.Resources.Delete(tx, id); err != nil {
			return err
		}
		rec.ID = want
		return store.Resources.Put(tx, rec)
	})
	if err != nil {
		t.Fatalf("rekey %s: %v", id, err)
	}
	p, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{"gitopstui.dev/resource-id": want}}})
	if _, err := r.dyn.Resource(ksGVR).Namespace(rec.Namespace).Patch(context.Background(), rec.Name, types.MergePatchType, p, metav1.PatchOptions{}); err != nil {
		t.Fatalf("relabel %s: %v", rec.Name, err)
	}
}

// callJSON runs name with the JSON text input through the registry, as every
// front end does, and returns the result as a front end decodes it: the raw
// JSON into map[string]any / []any, so that a renamed field is caught.
func callJSON(t *testing.T, svc *services.Services, name, input string) (any, error) {
	t.Helper()
	if !json.Valid([]byte(input)) {
		t.Fatalf("%s: example input is not JSON: %s", name, input)
	}
	ctx, cancel := context.WithTimeout(model.WithActor(context.Background(), model.LocalActor("test")), proctest.Timeout)
	defer cancel()
	res, err := svc.Registry().Call(ctx, name, []byte(input))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("%s: encode result: %v", name, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: decode result: %v", name, err)
	}
	return out, nil
}

// mustJSON is callJSON that fails the test on an error.
func mustJSON(t *testing.T, svc *services.Services, name, input string) any {
	t.Helper()
	out, err := callJSON(t, svc, name, input)
	if err != nil {
		t.Fatalf("%s %s: %v", name, input, err)
	}
	return out
}

// A shape is a result type of the reference: "string", "number", "boolean",
// "object", "any", a string enum written "a|b|c", an object
// (map[string]any: field -> shape; a field whose shape ends in "?" is
// optional, as in TypeScript; opt{...} makes any shape optional) or an
// array ([]any{element shape}).
type shape = any

// opt marks an optional field of any shape (errors?: Array<...>).
type opt struct{ s shape }

// checkShape reports every place where got (decoded JSON) does not have the
// documented shape want.
func checkShape(t *testing.T, where string, got any, want shape) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		obj, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %s", where, jsonKind(got))
			return
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fw := w[k]
			s, isLeaf := fw.(string)
			optional := isLeaf && strings.HasSuffix(s, "?")
			if o, ok := fw.(opt); ok {
				optional, fw = true, o.s
			}
			v, present := obj[k]
			if !present {
				if !optional {
					t.Errorf("%s.%s: documented field missing (fields: %s)", where, k, strings.Join(fieldNames(obj), ", "))
				}
				continue
			}
			if optional && isLeaf {
				fw = strings.TrimSuffix(s, "?")
			}
			checkShape(t, where+"."+k, v, fw)
		}
	case []any:
		arr, ok := got.([]any)
		if !ok {
			t.Errorf("%s: want an array, got %s", where, jsonKind(got))
			return
		}
		for i, e := range arr {
			checkShape(t, fmt.Sprintf("%s[%d]", where, i), e, w[0])
		}
	case string:
		checkLeaf(t, where, got, w)
	default:
		t.Fatalf("%s: bad shape %T", where, want)
	}
}

func checkLeaf(t *testing.T, where string, got any, want string) {
	t.Helper()
	kind := jsonKind(got)
	switch want {
	case "any":
	case "string", "number", "boolean", "object":
		if kind != want {
			t.Errorf("%s: want %s, got %s (%v)", where, want, kind, got)
		}
	default:
		s, ok := got.(string)
		if !ok || !contains(strings.Split(want, "|"), s) {
			t.Errorf("%s: want one of %s, got %s %v", where, want, kind, got)
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func fieldNames(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// field returns m's value at a dotted path of object keys.
func field(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not an object: %v", path, k, v)
		}
		v = m[k]
	}
	return v
}

// writeHook installs an executable hook in a bare repository.
func writeHook(t *testing.T, repoDir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(repoDir, "hooks", name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// errJSON is an error as a front end receives it: {code, message, details?}.
func errJSON(t *testing.T, e *model.Error) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(mustMarshal(t, e), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
