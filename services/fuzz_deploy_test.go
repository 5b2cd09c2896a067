package services_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
	"github.com/gitopstui/gitopstui/store"
)

// deployFuzzOps are the procedures FuzzDeployInputs calls.
var deployFuzzOps = []string{"gitops.previewChanges", "gitops.deployWithGitOps", "gitops.commitConfigChanges"}

// deployFuzzInput builds the input of deployFuzzOps[op%3] from the fuzzed
// values: a change (image, replicas when set, one env variable, a cpu limit)
// for previewChanges and deployWithGitOps; YAML, a subject and a file for
// commitConfigChanges.
func deployFuzzInput(op uint8, image string, setReplicas bool, replicas int64, envKey, envVal, cpu, text string) map[string]any {
	in := map[string]any{"projectId": "proj-shop", "environmentId": "env-prod"}
	change := map[string]any{"image": image}
	if setReplicas {
		change["replicas"] = replicas
	}
	if envKey != "" {
		change["env"] = map[string]any{envKey: envVal}
	}
	if cpu != "" {
		change["resources"] = map[string]any{"limits": map[string]any{"cpu": cpu}}
	}
	switch op % 3 {
	case 0:
		in["changes"] = change
	case 1:
		for k, v := range change {
			in[k] = v
		}
		in["commitMessage"] = text
	default:
		in["yaml"], in["commitMessage"], in["file"] = text, image, envKey
	}
	return dropEmpty(in)
}

// FuzzDeployInputs fuzzes previewChanges, deployWithGitOps and
// commitConfigChanges through the real registry, with the environment's
// repository on a real git server. Whatever the input: the outcome keeps
// checkCallOutcome's invariants and the store stays readable; a refused call
// or a preview leaves the remote branch and the deployment history as they
// were; a deploy that succeeds is the branch's new head, is recorded once, and
// its commit builds with kustomize to the change it asked for. The remote is
// set back to the seed tree after each commit, so every input starts alike.
func FuzzDeployInputs(f *testing.F) {
	type seed struct {
		op                        uint8
		image                     string
		setReplicas               bool
		replicas                  int64
		envKey, envVal, cpu, text string
	}
	for _, s := range []seed{
		{0, "ghcr.io/acme/web:1.4.2", false, 0, "", "", "", ""}, {0, "", true, 5, "", "", "", ""},
		{0, "", false, 0, "LOG_LEVEL", "debug", "750m", ""}, {0, "UPPER/x:tag", true, -1, "A=B", "x", "lots", ""},
		{0, "", false, 0, "", "", "", ""}, {0, "", true, 1 << 40, "", "", "", ""},
		{0, "nginx@sha256:" + strings.Repeat("a", 64), false, 0, "", "", "", ""}, {0, "web:1", false, 0, "", "", "1e3", ""},
		{1, "ghcr.io/acme/web:2.0.0", false, 0, "", "", "", "release 2.0"}, {1, "", true, 3, "ROUND", "7", "", "scale\n\nbody"},
		{1, "", false, 0, "SECRET_TOKEN", "s3cr3t", "", ""}, {1, "ghcr.io/acme/web:1.0.0", false, 0, "", "", "", ""},
		{1, "", true, 0, "", "", "2", ""}, {1, "registry.local:5000/web", false, 0, "EMPTY", "", "", ""},
		{2, "add a ConfigMap", false, 0, "", "", "", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"},
		{2, "bad yaml", false, 0, "", "", "", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: three\n"},
		{2, "replace the overlay", false, 0, "k8s/overlays/prod/kustomization.yaml", "", "", "resources:\n  - ../../base\nnamespace: shop-prod\nnamePrefix: p-\n"},
		{2, "outside", false, 0, "../etc/passwd", "", "", "a: 1\n"}, {2, "two\nlines", false, 0, "", "", "", "{"},
		{2, "kustomization", false, 0, "", "", "", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"},
	} {
		f.Add(s.op, s.image, s.setReplicas, s.replicas, s.envKey, s.envVal, s.cpu, s.text)
	}
	d := setupDeploy(f, nil)
	d.svc.DB().Bolt().NoSync = true
	repoDir := d.server.Dir("acme/shop.git")
	seedTree := gittest.Git(f, repoDir, "rev-parse", "main^{tree}")
	reg := d.svc.Registry()
	ctx := model.WithActor(context.Background(), model.Actor{User: "fuzz", Role: model.RoleAdmin, Source: "test"})
	f.Fuzz(func(t *testing.T, op uint8, image string, setReplicas bool, replicas int64, envKey, envVal, cpu, text string) {
		name := deployFuzzOps[op%3]
		input := catalogRaw(deployFuzzInput(op, image, setReplicas, replicas, envKey, envVal, cpu, text))
		p, _ := reg.Lookup(name)
		head, deployments := gittest.Git(t, repoDir, "rev-parse", "main"), countDeployments(t, d.svc.DB())
		res, err := reg.Call(ctx, name, input)
		me := checkCallOutcome(t, p, input, res, err)
		checkStoreReadable(t, d.svc.DB())
		newHead, newDeployments := gittest.Git(t, repoDir, "rev-parse", "main"), countDeployments(t, d.svc.DB())
		switch {
		case me != nil || name == "gitops.previewChanges":
			if newHead != head || newDeployments != deployments {
				t.Fatalf("%s %q (%v) moved main %s -> %s, deployments %d -> %d", name, short(input), err, head, newHead, deployments, newDeployments)
			}
			return
		case name == "gitops.deployWithGitOps":
			r := convert[api.DeployResult](t, name, res)
			if r.CommitSha != newHead || newDeployments != deployments+1 {
				t.Fatalf("deploy %q: result %s, main %s, deployments %d -> %d", short(input), r.CommitSha, newHead, deployments, newDeployments)
			}
			checkDeployBuilt(t, repoDir, newHead, input)
		default:
			if r := convert[api.CommitConfigResult](t, name, res); r.CommitSha != newHead {
				t.Fatalf("commit %q: result %s, main %s", short(input), r.CommitSha, newHead)
			}
		}
		resetBranch(t, repoDir, seedTree)
	})
}

func countDeployments(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.View(func(tx *store.Tx) (err error) { n, err = store.Deployments.Count(tx, "", ""); return err }); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkDeployBuilt: the deployed commit builds with kustomize, and its web
// Deployment has the replicas, variable and image the deploy asked for (as
// the input said them: JSON spells invalid UTF-8 as U+FFFD).
func checkDeployBuilt(t *testing.T, repoDir, rev string, input []byte) {
	t.Helper()
	var in map[string]any
	if err := json.Unmarshal(input, &in); err != nil {
		t.Fatal(err)
	}
	rm, err := buildAt(repoDir, rev, "k8s/overlays/prod")
	if err != nil {
		t.Fatalf("deploy %q committed an overlay that does not build: %v", short(input), err)
	}
	dep, err := webDeployment(rm)
	if err != nil {
		t.Fatalf("deploy %q: %v", short(input), err)
	}
	if r, ok := in["replicas"].(float64); ok && (dep.Spec.Replicas == nil || float64(*dep.Spec.Replicas) != r) {
		t.Fatalf("deploy %q: built replicas %v", short(input), dep.Spec.Replicas)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if img, ok := in["image"].(string); ok && withTag(c.Image) != withTag(img) {
		t.Fatalf("deploy %q: built image %q", short(input), c.Image)
	}
	if env, ok := in["env"].(map[string]any); ok {
		for k, v := range env {
			found := false
			for _, e := range c.Env {
				found = found || (e.Name == k && e.Value == v)
			}
			if !found {
				t.Fatalf("deploy %q: built env %v lacks %s=%q", short(input), c.Env, k, v)
			}
		}
	}
}

// withTag spells out the tag an image without tag or digest means: latest.
func withTag(image string) string {
	name := image[strings.LastIndex(image, "/")+1:]
	if strings.ContainsAny(name, ":@") {
		return image
	}
	return image + ":latest"
}

// resetBranch commits the seed tree on top of main (a fast-forward, as
// another writer would), when main holds anything else.
func resetBranch(t *testing.T, repoDir, seedTree string) {
	t.Helper()
	if gittest.Git(t, repoDir, "rev-parse", "main^{tree}") == seedTree {
		return
	}
	c := gittest.Git(t, repoDir, "commit-tree", seedTree, "-p", "main", "-m", "fuzz: back to the seed")
	gittest.Git(t, repoDir, "update-ref", "refs/heads/main", c)
}
