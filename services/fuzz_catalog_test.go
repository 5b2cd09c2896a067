package services_test

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// catalogFuzzOps are the catalog inputs FuzzCatalogInputs builds from four
// fuzzed strings: creates and updates of projects, environments,
// repositories and clusters, and an environment's GitOps settings.
var catalogFuzzOps = []struct {
	proc  string
	input func(kubeconfig, a, b, c, d string) map[string]any
}{
	{"projects.create", func(_, a, b, _, _ string) map[string]any { return map[string]any{"id": a, "name": b} }},
	{"environments.create", func(_, a, b, c, d string) map[string]any {
		return map[string]any{"id": a, "projectId": "proj-1", "name": b, "clusterId": "cluster-1", "namespace": c}
	}},
	{"environments.update", func(_, a, b, c, _ string) map[string]any {
		return map[string]any{"id": "env-1", "name": b, "namespace": c}
	}},
	{"repositories.create", func(_, a, b, c, d string) map[string]any {
		return map[string]any{"projectId": "proj-1", "fullName": a, "url": b, "defaultBranch": c, "auth": fuzzAuth(d)}
	}},
	{"repositories.update", func(_, a, b, c, d string) map[string]any {
		return map[string]any{"id": "repo-1", "fullName": a, "url": b, "defaultBranch": c, "auth": fuzzAuth(d)}
	}},
	{"clusters.register", func(kc, a, b, _, d string) map[string]any {
		return map[string]any{"id": a, "name": b, "kubeconfig": kc, "context": d}
	}},
	{"environments.configureGitOps", func(_, a, b, c, d string) map[string]any {
		return map[string]any{"environmentId": "env-1", "config": map[string]any{"gitBranch": a, "gitPath": b, "syncInterval": c, "repositoryId": d}}
	}},
}

// FuzzCatalogInputs builds catalog inputs from fuzzed strings and calls them
// through the real registry over a real store: every outcome keeps the
// invariants of checkCallOutcome, the store stays readable, and what was
// accepted is stored in a form the input rules accept again (names NFC,
// ids, labels, URLs and paths valid) and reads back as it was returned.
func FuzzCatalogInputs(f *testing.F) {
	seeds := []struct {
		op         uint8
		a, b, c, d string
	}{
		{0, "", "Shop", "", ""}, {0, "proj-x", "Café", "", ""}, {0, "-bad", " x ", "", ""}, {0, "", "shop\u200b", "", ""},
		{0, "", "e\u0301", "", ""}, {0, "", "a\u202eb", "", ""}, {0, "x", strings.Repeat("n", 254), "", ""},
		{1, "", "dev", "shop-dev", ""}, {1, "env-x", "Bad_Name", "UPPER", ""}, {1, "", strings.Repeat("a", 64), "x", ""},
		{2, "", "staging", "shop-staging", ""}, {2, "", "", "", ""}, {2, "", "ok", "-no-", ""},
		{3, "acme/shop", "https://github.com/acme/shop.git", "main", "none"},
		{3, "acme/ssh", "git@github.com:acme/ssh.git", "develop", "ssh-key:::/home/me/.ssh/id_ed25519"},
		{3, "acme/tok", "https://u:secret@github.com/acme/tok.git", "a..b", "token-env:1BAD"},
		{3, "acme/basic", "https://git.example/acme/basic.git", "release/1.0", "basic-env:GIT_TOKEN:GIT_USER"},
		{3, "nosl", "ftp://x", "", "basic-env"}, {3, "a/b", "file:///srv/git/x.git", "main", "credential-helper"},
		{3, "acme/agent", "ssh://git@host:2222/acme/agent.git", "", "ssh-agent"}, {3, "acme/x", "https://h/x.git", "", "ssh-key"},
		{4, "acme/renamed", "ssh://git@host/acme/r.git", "trunk", "ssh-agent"}, {4, "", "", "", ""},
		{4, "", "https://x@host/p.git", "", "token-env:TOKEN"}, {4, "acme/y", "", "-bad", "weird"},
		{5, "", "k3s", "", "c"}, {5, "k3s-2", "Edge", "", "missing"}, {5, "", "bad\u0000name", "", ""},
		{6, "main", "./k8s/overlays/prod", "5m", "repo-1"}, {6, "a..b", "../../etc", "5x", "nope"}, {6, "", "/abs", "1h30m", ""},
	}
	for _, s := range seeds {
		f.Add(s.op, s.a, s.b, s.c, s.d)
	}
	h := newFuzzHarness(f)
	kubeconfig := offlineKubeconfig(f)
	f.Fuzz(func(t *testing.T, op uint8, a, b, c, d string) {
		o := catalogFuzzOps[int(op)%len(catalogFuzzOps)]
		input, err := json.Marshal(dropEmpty(o.input(kubeconfig, a, b, c, d)))
		if err != nil {
			t.Fatal(err)
		}
		res, me := h.call(t, o.proc, input)
		if me == nil {
			checkCatalogAccepted(t, h, o.proc, input, res)
		}
	})
}

// fuzzAuth reads "type:tokenEnv:usernameEnv:keyFile" (any part may be
// missing) as a repository's auth.
func fuzzAuth(s string) map[string]any {
	p := strings.SplitN(s, ":", 4)
	p = append(p, "", "", "", "")
	return map[string]any{"type": p[0], "tokenEnv": p[1], "usernameEnv": p[2], "keyFile": p[3]}
}

// dropEmpty leaves out empty strings (absent fields), so that both an
// absent and a present field are fuzzed.
func dropEmpty(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if v == "" {
				continue
			}
		case map[string]any:
			v = dropEmpty(v)
			if len(v) == 0 {
				continue
			}
			out[k] = v
			continue
		}
		out[k] = v
	}
	return out
}

// checkCatalogAccepted: what an accepted call returned passes the rules of
// its create input again and reads back the same.
func checkCatalogAccepted(t *testing.T, h *fuzzHarness, proc string, input []byte, res any) {
	t.Helper()
	fe := model.FieldErrors{}
	var get, id string
	switch proc {
	case "projects.create":
		p := convert[model.Project](t, proc, res)
		checkNFC(t, proc, p.Name)
		in := api.CreateProjectInput{ID: p.ID, Name: p.Name}
		in.Validate(fe)
		get, id = "projects.get", p.ID
	case "environments.create", "environments.update":
		e := convert[model.Environment](t, proc, res)
		in := api.CreateEnvironmentInput{ID: e.ID, ProjectID: e.ProjectID, Name: e.Name, ClusterID: e.ClusterID, Namespace: e.Namespace}
		in.Validate(fe)
		get, id = "environments.get", e.ID
	case "repositories.create", "repositories.update":
		r := convert[model.Repository](t, proc, res)
		in := api.CreateRepositoryInput{ID: r.ID, ProjectID: r.ProjectID, FullName: r.FullName, URL: r.URL, DefaultBranch: r.DefaultBranch, Auth: r.Auth}
		in.Validate(fe)
		get, id = "repositories.get", r.ID
	case "clusters.register":
		c := convert[api.ClusterView](t, proc, res)
		checkNFC(t, proc, c.Name)
		in := api.RegisterClusterInput{ID: c.ID, Name: c.Name}
		in.Validate(fe)
	case "environments.configureGitOps":
		c := convert[api.ConfigureGitOpsResult](t, proc, res).Config
		for field, problem := range map[string]string{"gitBranch": api.BranchProblem(c.GitBranch), "gitPath": api.GitPathProblem(c.GitPath),
			"syncInterval": api.DurationProblem(c.SyncInterval)} {
			if problem != "" {
				fe.Add("config."+field, problem)
			}
		}
	}
	if err := fe.Err(); err != nil {
		t.Fatalf("%s accepted %q and stored what its rules refuse: %v", proc, short(input), err)
	}
	if get == "" {
		return
	}
	back, me := h.call(t, get, []byte(`{"id":`+quote(id)+`}`))
	if me != nil {
		t.Fatalf("%s accepted %q, then %s %q: %v", proc, short(input), get, id, me)
	}
	want, _ := json.Marshal(res)
	var gotMap, wantMap map[string]any
	raw, _ := json.Marshal(back)
	_ = json.Unmarshal(raw, &gotMap)
	_ = json.Unmarshal(want, &wantMap)
	for k, v := range wantMap {
		if g, _ := json.Marshal(gotMap[k]); string(g) != mustJSONString(v) {
			t.Fatalf("%s %q: %s reads back %s = %s, returned %s", proc, short(input), get, k, g, mustJSONString(v))
		}
	}
}

func convert[O any](t *testing.T, proc string, res any) O {
	t.Helper()
	o, err := api.Convert[O](proc, res)
	if err != nil {
		t.Fatalf("%s result: %v", proc, err)
	}
	return o
}

func checkNFC(t *testing.T, proc, name string) {
	t.Helper()
	if !norm.NFC.IsNormalString(name) {
		t.Fatalf("%s stored the name %q, which is not NFC", proc, name)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func mustJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
