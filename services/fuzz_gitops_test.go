package services_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// gitopsFuzzResources are the stored resources FuzzGitOpsInputs updates.
var gitopsFuzzResources = []model.GitOpsResource{
	{ID: "res-k", Type: model.ResourceKustomization, Config: json.RawMessage(`{"path":"./k8s/overlays/prod","prune":true,"interval":"5m"}`)},
	{ID: "res-h", Type: model.ResourceHelm, Config: json.RawMessage(`{"chartName":"web","chartVersion":"1.x","values":{"replicas":2}}`)},
}

// FuzzGitOpsInputs fuzzes the GitOps resource inputs through the real
// registry: createGitOpsResource with a fuzzed type, name, namespace and
// config, and updateGitOpsResource with a fuzzed config patch on a stored
// Kustomization or HelmRelease. The cluster is unreachable, so what passes
// the rules ends at K3S_NOT_READY; whatever the input, the outcome keeps
// checkCallOutcome's invariants, the store stays readable, and a refused
// update leaves the stored resource as it was.
func FuzzGitOpsInputs(f *testing.F) {
	seeds := []struct {
		op                  uint8
		typ, name, ns, conf string
	}{
		{0, "kustomization", "web", "", `{"path":"./k8s/overlays/prod","prune":true,"interval":"5m","timeout":"2m"}`},
		{0, "helm", "redis", "flux-system", `{"chartName":"redis","chartVersion":"17.x","sourceType":"HelmRepository","source":{"url":"https://charts.example"},"values":{"a":1}}`},
		{0, "helm", "web", "", `{"chartName":"","path":"./x"}`}, {0, "kustomization", "Web_1", "NS", `{"chartName":"x"}`},
		{0, "ftp", "web", "", `[]`}, {0, "kustomization", "web", "", `{"healthChecks":[{"kind":"Deployment"}],"dependsOn":[{}]}`},
		{0, "kustomization", "web", "", `{"interval":"5x","retryInterval":"-1s","path":"../../etc"}`},
		{0, "helm", "web", "", `{"chartName":"c","values":[1],"install":{"remediation":{}},"upgrade":{"remediation":{"retries":1}}}`},
		{0, "helm", "web", "", `{"chartName":"c","valuesFrom":[{"kind":"Secret","name":"s"}],"source":{"url":"http://x"}}`},
		{1, "", "", "", `{"interval":"10m"}`}, {1, "", "", "", `{"path":null,"prune":false}`}, {1, "", "", "", `"x"`},
		{1, "", "", "", `null`}, {1, "", "", "", `{"chartName":"x"}`}, {1, "", "", "", `{"healthChecks":[{"apiVersion":"v1","kind":"Pod","name":"p"}]}`},
		{2, "", "", "", `{"values":{"replicas":null,"x":{"y":[1]}}}`}, {2, "", "", "", `{"chartName":null}`},
		{2, "", "", "", `{"path":"./k8s"}`}, {2, "", "", "", `{"values":"text"}`}, {2, "", "", "", `{"install":{"remediation":{"retries":-1}}}`},
	}
	for _, s := range seeds {
		f.Add(s.op, s.typ, s.name, s.ns, []byte(s.conf))
	}
	h := newFuzzHarness(f)
	putFuzzResources(f, h.db)
	f.Fuzz(func(t *testing.T, op uint8, typ, name, ns string, conf []byte) {
		config := json.RawMessage(conf)
		if !json.Valid(conf) {
			config, _ = json.Marshal(string(conf)) // still fuzzes the text, as a value of the wrong type
		}
		switch op % 3 {
		case 0:
			input, err := json.Marshal(dropEmpty(map[string]any{"projectId": "proj-1", "environmentId": "env-g", "type": typ, "name": name,
				"namespace": ns, "config": config}))
			if err != nil {
				t.Fatal(err)
			}
			h.call(t, "gitops.createGitOpsResource", input)
		default:
			r := gitopsFuzzResources[int(op%3)-1]
			input, err := json.Marshal(map[string]any{"id": r.ID, "config": config})
			if err != nil {
				t.Fatal(err)
			}
			if _, me := h.call(t, "gitops.updateGitOpsResource", input); me != nil {
				checkResourceUnchanged(t, h.db, r, input)
			}
		}
	})
}

// putFuzzResources stores a GitOps-enabled repository, an environment that
// deploys from it (on the unreachable cluster) and gitopsFuzzResources there.
func putFuzzResources(f *testing.F, db *store.DB) {
	f.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := db.Update(func(tx *store.Tx) error {
		err := errors.Join(
			store.Repositories.Put(tx, model.Repository{ID: "repo-g", ProjectID: "proj-1", FullName: "acme/gitops", URL: "https://git.example/acme/gitops.git",
				DefaultBranch: "main", GitOpsConfig: model.RepoGitOpsConfig{Enabled: true, FluxNamespace: "flux-system"}, CreatedAt: now, UpdatedAt: now}),
			store.Environments.Put(tx, model.Environment{ID: "env-g", ProjectID: "proj-1", Name: "gitops", ClusterID: "cluster-1", Namespace: "gitops",
				GitOpsConfig: model.GitOpsConfig{Enabled: true, AutoSync: true, GitBranch: "main", GitPath: "./k8s/overlays/prod", SyncInterval: "5m", RepositoryID: "repo-g"},
				CreatedAt:    now, UpdatedAt: now}),
		)
		if err != nil {
			return err
		}
		for _, r := range gitopsFuzzResources {
			r.ProjectID, r.EnvironmentID, r.RepositoryID, r.Name, r.Namespace = "proj-1", "env-g", "repo-g", r.ID, "flux-system"
			r.Status, r.CreatedAt, r.UpdatedAt = model.StatusReady, now, now
			if err := store.Resources.Put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// checkResourceUnchanged: a refused update wrote nothing.
func checkResourceUnchanged(t *testing.T, db *store.DB, want model.GitOpsResource, input []byte) {
	t.Helper()
	var got model.GitOpsResource
	if err := db.View(func(tx *store.Tx) (err error) { got, err = store.Resources.Get(tx, want.ID); return err }); err != nil {
		t.Fatalf("resource %s after a refused update: %v", want.ID, err)
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, got.Config); err != nil {
		t.Fatal(err)
	}
	_ = json.Compact(&b, want.Config)
	if a.String() != b.String() || !got.UpdatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("refused update %q changed resource %s: config %s", short(input), want.ID, a.String())
	}
}
