package services_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/store"
)

// fuzzProcedures are the procedures FuzzDecodeInput calls: every catalog
// procedure whose input is decoded and validated and that needs no cluster.
// (Deletes are left out so that the fixtures stay for deeper paths.)
var fuzzProcedures = []string{
	"projects.create",
	"projects.get",
	"projects.list",
	"environments.create",
	"environments.list",
	"environments.get",
	"environments.update",
	"environments.configureGitOps",
	"environments.getGitOpsConfig",
	"repositories.create",
	"repositories.list",
	"repositories.get",
	"repositories.update",
	"deployments.create",
	"deployments.list",
	"deployments.get",
	"audit.list",
}

func procIndex(name string) uint8 {
	for i, p := range fuzzProcedures {
		if p == name {
			return uint8(i)
		}
	}
	panic("not a fuzzed procedure: " + name)
}

// knownCodes are the codes of DESIGN.md §3.
var knownCodes = map[model.Code]bool{
	model.CodeFluxAlreadyInstalled: true, model.CodeFluxNotInstalled: true, model.CodeK3sNotReady: true,
	model.CodeInsufficientPermission: true, model.CodeRepositoryNotFound: true, model.CodeGitOpsNotEnabled: true,
	model.CodeGitAuthFailed: true, model.CodeYAMLInvalid: true, model.CodeConflictDetected: true,
	model.CodeBadRequest: true, model.CodeNotFound: true, model.CodeStoreLocked: true, model.CodeInternal: true,
}

// fuzzFixtures stores a cluster, a project, an environment, a repository and
// a deployment so that fuzzed inputs reach the code past the references.
func fuzzFixtures(tb testing.TB, db *store.DB) {
	tb.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := db.Update(func(tx *store.Tx) error {
		return errors.Join(
			store.Clusters.Put(tx, model.Cluster{ID: "cluster-1", Name: "k3s", Kubeconfig: filepath.Join(tb.TempDir(), "no-kubeconfig"), Context: "default", CreatedAt: now, UpdatedAt: now}),
			store.Projects.Put(tx, model.Project{ID: "proj-1", Name: "One", CreatedAt: now, UpdatedAt: now}),
			store.Environments.Put(tx, model.Environment{ID: "env-1", ProjectID: "proj-1", Name: "prod", ClusterID: "cluster-1", Namespace: "one",
				GitOpsConfig: model.GitOpsConfig{GitBranch: "main", GitPath: "./k8s/overlays/prod", SyncInterval: "5m"}, CreatedAt: now, UpdatedAt: now}),
			store.Repositories.Put(tx, model.Repository{ID: "repo-1", ProjectID: "proj-1", FullName: "acme/one", URL: "https://git.example/acme/one.git",
				DefaultBranch: "main", CreatedAt: now, UpdatedAt: now}),
			store.Deployments.Put(tx, model.Deployment{ID: "dep-1", ProjectID: "proj-1", EnvironmentID: "env-1", DeploymentMethod: model.MethodManual,
				Status: model.DeploySuccess, CreatedAt: now, UpdatedAt: now}),
		)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// FuzzDecodeInput feeds arbitrary bytes as the JSON input of the catalog
// procedures. Whatever the input: no panic; success or a typed *model.Error
// with a known code, never INTERNAL; input that is not a JSON object, or an
// object with a field the procedure does not have, is BAD_REQUEST naming it.
// The seeds (below and testdata/fuzz/FuzzDecodeInput) run in every `go test`.
func FuzzDecodeInput(f *testing.F) {
	seeds := fuzzSeeds()
	for name, inputs := range seeds {
		for _, in := range inputs {
			f.Add(procIndex(name), []byte(in))
		}
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	f.Add(procIndex("projects.create"), []byte(`{"name":`+deep+`}`))
	f.Add(procIndex("environments.configureGitOps"), []byte(`{"environmentId":"env-1","config":{"gitBranch":`+deep+`}}`))

	db, err := store.Open(f.TempDir(), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	fuzzFixtures(f, db)
	svc := services.New(services.Config{DataDir: f.TempDir(), DB: db})
	reg := svc.Registry()
	ctx := model.WithActor(context.Background(), model.Actor{User: "fuzz", Role: model.RoleAdmin, Source: "test"})

	f.Fuzz(func(t *testing.T, proc uint8, input []byte) {
		checkFuzzedCall(t, reg, ctx, fuzzProcedures[int(proc)%len(fuzzProcedures)], input)
	})
}

// fuzzSeeds are FuzzDecodeInput's seed inputs by procedure: valid inputs,
// each kind of invalid value, unknown fields, references to nothing and
// oversized strings.
func fuzzSeeds() map[string][]string {
	return map[string][]string{
		"projects.create": {
			`{"name":"Shop"}`, `{"id":"proj-x","name":"X"}`, `{"id":"-bad","name":" x "}`, `{"name":"a\u0000b"}`,
			`{"name":5}`, `{"name":null}`, `{"name":"x","extra":{}}`, `[]`, `"str"`, `42`, `null`, ``, `   `, `{`, `{"name":"x"}{}`,
			`{"name":"` + strings.Repeat("n", 300) + `"}`, `{"id":"` + strings.Repeat("i", 64) + `","name":"long id"}`,
		},
		"projects.get":  {`{"id":"proj-1"}`, `{"id":"nope"}`, `{"id":""}`, `{"id":["proj-1"]}`, `{"ID":"proj-1"}`, `{"id":"` + strings.Repeat("k", 40000) + `"}`},
		"projects.list": {`{}`, `{"x":1}`, `[]`, `null`},
		"environments.create": {
			`{"projectId":"proj-1","name":"dev","clusterId":"cluster-1","namespace":"one-dev"}`,
			`{"projectId":"proj-1","name":"Bad_Name","clusterId":"cluster-1","namespace":"UPPER"}`,
			`{"projectId":"nope","name":"dev","clusterId":"cluster-1","namespace":"x"}`,
			`{"projectId":"proj-1","name":"dev","clusterId":"nope","namespace":"x"}`,
			`{"projectId":"proj-1","name":"` + strings.Repeat("a", 64) + `","clusterId":"cluster-1","namespace":"x"}`,
			`{"projectId":1,"name":true,"clusterId":[],"namespace":{}}`,
		},
		"environments.list": {`{"projectId":"proj-1"}`, `{"clusterId":"cluster-1"}`, `{"projectId":"proj-1","clusterId":"nope"}`, `{"projectId":null}`},
		"environments.get":  {`{"id":"env-1"}`, `{"id":"env-none"}`},
		"environments.update": {
			`{"id":"env-1","namespace":"one-new"}`, `{"id":"env-1","name":""}`, `{"id":"env-1","clusterId":"nope"}`,
			`{"id":"env-1","name":null}`, `{"id":"env-1","namespace":"No"}`, `{"id":"nope","name":"x"}`,
		},
		"environments.configureGitOps": {
			`{"environmentId":"env-1","config":{"enabled":true,"autoSync":false,"gitBranch":"main","gitPath":"./k8s/overlays/prod","syncInterval":"10m","repositoryId":"repo-1"}}`,
			`{"environmentId":"env-1","config":{"syncInterval":"5x"}}`, `{"environmentId":"env-1","config":{"syncInterval":"1h30m"}}`,
			`{"environmentId":"env-1","config":{"gitPath":"../../etc"}}`, `{"environmentId":"env-1","config":{"gitPath":"/abs"}}`,
			`{"environmentId":"env-1","config":{"gitBranch":"a..b"}}`, `{"environmentId":"env-1","config":{"repositoryId":"nope"}}`,
			`{"environmentId":"env-1","config":{"repositoryId":""}}`, `{"environmentId":"env-1","config":null}`,
			`{"environmentId":"env-1","config":[]}`, `{"environmentId":"env-1","config":{"enabled":"yes","extra":1}}`,
			`{"environmentId":"env-1","config":{"gitPath":"` + strings.Repeat("d/", 20000) + `"}}`,
		},
		"environments.getGitOpsConfig": {`{"environmentId":"env-1"}`, `{"environmentId":"env-none"}`, `{"id":"env-1"}`},
		"repositories.create": {
			`{"projectId":"proj-1","fullName":"acme/shop","url":"https://github.com/acme/shop.git"}`,
			`{"projectId":"proj-1","fullName":"acme/ssh","url":"git@github.com:acme/ssh.git","auth":{"type":"ssh-key","keyFile":"/home/me/.ssh/id"}}`,
			`{"projectId":"proj-1","fullName":"acme/tok","url":"https://github.com/acme/tok.git","auth":{"type":"token-env","tokenEnv":"GITHUB_TOKEN"}}`,
			`{"projectId":"proj-1","fullName":"acme/bad","url":"https://u:secret@github.com/acme/bad.git","auth":{"type":"token-env","tokenEnv":"1BAD"}}`,
			`{"projectId":"proj-1","fullName":"nosl","url":"ftp://x"}`, `{"projectId":"proj-1","fullName":"a/b","url":"https://x","auth":{}}`,
			`{"projectId":"proj-1","fullName":"a/b","url":"https://x","auth":{"type":"none","secret":"x"}}`,
			`{"projectId":"proj-1","fullName":"acme/` + strings.Repeat("r", 40000) + `","url":"https://github.com/acme/r.git"}`,
		},
		"repositories.list": {`{"projectId":"proj-1"}`, `{"projectId":7}`},
		"repositories.get":  {`{"id":"repo-1"}`, `{"id":"repo-none"}`},
		"repositories.update": {
			`{"id":"repo-1","defaultBranch":"develop"}`, `{"id":"repo-1","url":""}`, `{"id":"repo-1","auth":{"type":"ssh-agent"}}`,
			`{"id":"repo-1","auth":{"type":"basic-env"}}`, `{"id":"repo-none","url":"https://x"}`, `{"id":"repo-1","fullName":"x y"}`,
			`{"id":"repo-1","fullName":"acme/` + strings.Repeat("u", 40000) + `"}`,
		},
		"deployments.create": {
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"manual","image":"nginx:1.27","replicas":3}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"gitops-git","gitCommitSha":"0123456789abcdef0123456789abcdef01234567","status":"success"}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"gitops-ui"}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"ftp","status":"done","replicas":-1}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"manual","replicas":99999999999}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"manual","replicas":1.5}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"manual","gitopsResourceId":"res-none"}`,
			`{"projectId":"proj-1","environmentId":"env-none","deploymentMethod":"pipeline"}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"pipeline","gitCommitSha":"XYZ"}`,
		},
		"deployments.list": {
			`{"limit":50}`, `{"limit":0}`, `{"limit":-1}`, `{"limit":1001}`, `{"limit":"5"}`, `{"limit":1e3}`, `{"limit":1e400}`,
			`{"projectId":"proj-1","environmentId":"env-1","deploymentMethod":"manual","status":"success"}`,
			`{"deploymentMethod":"ftp","status":"done"}`, `{"cursor":"zz"}`, `{"cursor":"00"}`, `{"cursor":"` + strings.Repeat("ab", 30000) + `"}`,
			`{"gitopsResourceId":"res-1"}`,
		},
		"deployments.get": {`{"id":"dep-1"}`, `{"id":"dep-none"}`},
		"audit.list":      {`{"limit":2}`, `{"limit":-5,"cursor":"ff"}`, `{"cursor":"` + strings.Repeat("0", 41) + `"}`},
	}
}

// checkFuzzedCall calls procedure name with input through reg: no panic;
// success or a typed *model.Error with a known code, never INTERNAL; input
// that is not a JSON object, or an object with a field the procedure does not
// have, is BAD_REQUEST naming it.
func checkFuzzedCall(t *testing.T, reg *gate.Registry, ctx context.Context, name string, input []byte) {
	t.Helper()
	p, ok := reg.Lookup(name)
	if !ok {
		t.Fatalf("procedure %s is not registered", name)
	}
	res, err := reg.Call(ctx, name, input)
	if err == nil {
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("%s %q: result does not encode: %v", name, short(input), err)
		}
		checkAcceptedInput(t, name, p, input)
		return
	}
	var me *model.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s %q: untyped error %T: %v", name, short(input), err, err)
	}
	if !knownCodes[me.Code] || me.Message == "" {
		t.Fatalf("%s %q: error without a known code and a message: %#v", name, short(input), me)
	}
	if me.Code == model.CodeInternal {
		t.Fatalf("%s %q: INTERNAL for a caller's input: %s", name, short(input), me.Message)
	}
	if want := expectedBadRequest(p, input); want != "" {
		if me.Code != model.CodeBadRequest {
			t.Fatalf("%s %q: %s, want BAD_REQUEST (%s)", name, short(input), me.Code, want)
		}
	}
	if unknown := unknownField(p, input); unknown != "" {
		fields, _ := me.Details["fields"].(map[string]any)
		if fields[unknown] != "unknown field" {
			t.Fatalf("%s %q: details.fields does not name unknown field %q: %v", name, short(input), unknown, me.Details)
		}
	}
	if _, err := json.Marshal(me); err != nil {
		t.Fatalf("%s %q: error does not encode: %v", name, short(input), err)
	}
}

// expectedBadRequest says why input must be refused as BAD_REQUEST whatever
// the store holds ("" when it may be valid).
func expectedBadRequest(p api.Info, input []byte) string {
	trimmed := bytes.TrimSpace(input)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return ""
	}
	if !json.Valid(trimmed) {
		return "not JSON"
	}
	if !utf8.Valid(trimmed) {
		return "not UTF-8" // refused as a whole (details.offset), before any field
	}
	if trimmed[0] != '{' {
		return "not an object"
	}
	if f := unknownField(p, input); f != "" {
		return "unknown field " + f
	}
	return ""
}

// unknownField returns a top-level key of input that p has no field for
// ("" for input that is not a JSON object in valid UTF-8).
func unknownField(p api.Info, input []byte) string {
	var obj map[string]json.RawMessage
	if !utf8.Valid(input) || json.Unmarshal(bytes.TrimSpace(input), &obj) != nil {
		return ""
	}
	known := map[string]bool{}
	for _, f := range p.Fields {
		known[f.Name] = true
	}
	for k := range obj {
		if !known[k] {
			return k
		}
	}
	return ""
}

func checkAcceptedInput(t *testing.T, name string, p api.Info, input []byte) {
	t.Helper()
	if why := expectedBadRequest(p, input); why != "" {
		t.Fatalf("%s accepted %q, which is %s", name, short(input), why)
	}
}

// short abbreviates an input for a failure message.
func short(input []byte) string {
	if len(input) <= 300 {
		return string(input)
	}
	return fmt.Sprintf("%s...(%d bytes)...%s", input[:200], len(input), input[len(input)-60:])
}
