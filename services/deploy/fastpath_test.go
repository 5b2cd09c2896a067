package deploy

import (
	"encoding/json"
	"testing"

	"github.com/gitopstui/gitopstui/model"
)

// The fast path asks only resources that apply what the environment's
// GitRepository fetches: every Kustomization, and HelmReleases whose chart
// comes from Git (the default), not from a HelmRepository.
func TestFollowsGit(t *testing.T) {
	for _, c := range []struct {
		typ, config string
		want        bool
	}{
		{model.ResourceKustomization, `{"path":"./k8s"}`, true},
		{model.ResourceKustomization, ``, true},
		{model.ResourceHelm, `{"chartName":"./charts/web"}`, true},
		{model.ResourceHelm, `{"chartName":"./charts/web","sourceType":"GitRepository"}`, true},
		{model.ResourceHelm, `{"chartName":"redis","sourceType":"HelmRepository","source":{"url":"https://charts.example.com"}}`, false},
		{model.ResourceHelm, `{not json`, false},
	} {
		r := model.GitOpsResource{Type: c.typ, Config: json.RawMessage(c.config)}
		if got := followsGit(r); got != c.want {
			t.Errorf("followsGit(%s %s) = %v, want %v", c.typ, c.config, got, c.want)
		}
	}
}
