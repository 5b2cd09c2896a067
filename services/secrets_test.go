package services_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// TestNoSecretAtRest plants secrets in every input family that can carry
// one (a clone URL, env values, Secret YAML), runs the procedures for real
// (a real git server, a real bbolt file), and then finds none of them in the
// store file nor in any answer.
func TestNoSecretAtRest(t *testing.T) {
	d := setupDeploy(t, nil)
	planted := []string{"ghp_PLANTEDTOKEN123", "planted-env-value-42", "planted-secret-data-77"}
	var answers [][]byte
	keep := func(v any) {
		b, _ := json.Marshal(v)
		answers = append(answers, b)
	}
	err := callProc(t, d.svc, "repositories.create", map[string]any{"projectId": "proj-shop", "fullName": "acme/leak",
		"url": "https://alice:ghp_PLANTEDTOKEN123@git.example.com/acme/leak.git"}, nil)
	keep(wantCode(t, err, model.CodeBadRequest))

	var dep, preview, deps, audit, commit, valid any
	mustCall(t, d.svc, "gitops.previewChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"changes": map[string]any{"env": map[string]any{"API_TOKEN": "planted-env-value-42"}}}, &preview)
	mustCall(t, d.svc, "gitops.deployWithGitOps", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"env": map[string]any{"API_TOKEN": "planted-env-value-42"}}, &dep)
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop-prod\nstringData:\n  password: planted-secret-data-77\n"
	mustCall(t, d.svc, "gitops.validateYAML", map[string]any{"yaml": secret}, &valid)
	if err := callProc(t, d.svc, "gitops.commitConfigChanges", map[string]any{"projectId": "proj-shop", "environmentId": "env-prod",
		"yaml": secret, "commitMessage": "add db secret"}, &commit); err != nil {
		keep(model.AsError(err))
	}
	mustCall(t, d.svc, "deployments.list", map[string]any{"projectId": "proj-shop"}, &deps)
	mustCall(t, d.svc, "audit.list", map[string]any{"limit": 1000}, &audit)
	for _, v := range []any{dep, preview, deps, audit, commit, valid} {
		keep(v)
	}
	file, err := os.ReadFile(filepath.Join(d.dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range planted {
		if bytes.Contains(file, []byte(p)) {
			t.Errorf("%s is in the store file", p)
		}
		for i, a := range answers {
			if bytes.Contains(a, []byte(p)) {
				t.Errorf("%s is in answer %d: %s", p, i, a)
			}
		}
	}
}
