package manifest

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestPlanNamePrefix checks edits through an overlay that renames the
// workload (namePrefix) and through two layers of overlays.
func TestPlanNamePrefix(t *testing.T) {
	repo := loadRepo(t)
	repo["apps/overlays/eu/kustomization.yaml"] = []byte("namePrefix: eu-\nresources:\n- ../staging\n")
	repo["apps/overlays/eu-prod/kustomization.yaml"] = []byte("nameSuffix: -x\nresources:\n- ../eu\nimages:\n- name: ghcr.io/acme/web\n  newTag: 1.3.9\n")
	changes := []Change{
		{Replicas: i32(7)},
		{Image: "ghcr.io/acme/web:2.0.0"},
		{Env: map[string]*string{"LOG_LEVEL": sp("trace")}, Resources: &Resources{Limits: ResourceValues{Memory: "1Gi"}}},
	}
	for _, gp := range []string{"apps/overlays/eu", "apps/overlays/eu-prod"} {
		for _, ch := range changes {
			for _, wl := range []string{"", "web", "eu-web"} {
				ch.Workload = wl
				res, err := Plan(repo, gp, ch)
				if err != nil {
					t.Fatalf("%s %q: %v", gp, wl, err)
				}
				after := map[string][]byte{}
				for k, v := range repo {
					after[k] = v
				}
				for k, v := range res.Files {
					after[k] = v
				}
				b, a := built(t, repo, gp), built(t, after, gp)
				if len(b) != 1 || len(a) != 1 {
					t.Fatalf("built %d/%d deployments", len(b), len(a))
				}
				for name, want := range b {
					want = want.DeepCopy()
					intended(want, ch, "web")
					sortEnv(want)
					got := a[name]
					sortEnv(got)
					if !equality.Semantic.DeepEqual(want, got) {
						gy, _ := sigsyaml.Marshal(got)
						t.Errorf("%s %+v: built %s differs from the intent\n%s\n%s", gp, ch, name, res.Diff, gy)
					}
				}
				if len(res.Impact.AffectedResources) != 1 {
					t.Errorf("affected = %v", res.Impact.AffectedResources)
				}
			}
		}
	}
}
