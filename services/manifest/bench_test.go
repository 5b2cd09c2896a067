package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// bigManifest builds a plain manifest file of about n lines: Deployments
// (with comments, probes, env), Services and ConfigMaps.
func bigManifest(n int) []byte {
	var b strings.Builder
	for i := 0; strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, `---
# app-%[1]d: generated fixture
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: team-%[2]d
  labels:
    app: app-%[1]d # selector label
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app: app-%[1]d
  template:
    metadata:
      labels:
        app: app-%[1]d
    spec:
      containers:
      - name: app
        image: ghcr.io/acme/app-%[1]d:1.0.%[1]d
        ports:
        - containerPort: 8080
        env:
        - name: MODE
          value: "production"
        - name: SLOT
          value: "%[1]d"
        readinessProbe:
          httpGet: {path: /ready, port: 8080}
          periodSeconds: 5
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits:
            memory: 256Mi
---
apiVersion: v1
kind: Service
metadata:
  name: app-%[1]d
  namespace: team-%[2]d
spec:
  selector:
    app: app-%[1]d
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-%[1]d-config
  namespace: team-%[2]d
data:
  LOG_LEVEL: info
  FEATURE: "on"
`, i, i%7, 1+i%4)
	}
	return []byte(b.String())
}

func TestBigManifest(t *testing.T) {
	src := bigManifest(5000)
	files := map[string][]byte{"clusters/prod/apps.yaml": src}
	res, err := Plan(files, "clusters/prod", Change{Workload: "app-40", Image: "ghcr.io/acme/app-40:2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary != (Summary{Additions: 1, Deletions: 1, Files: 1}) {
		t.Errorf("summary = %+v\n%s", res.Summary, res.Diff)
	}
	gitApply(t, files, res)
}

func BenchmarkPlan5000Lines(b *testing.B) {
	src := bigManifest(5000)
	b.Logf("manifest: %d lines, %d bytes", strings.Count(string(src), "\n"), len(src))
	files := map[string][]byte{"clusters/prod/apps.yaml": src}
	ch := Change{Workload: "app-40", Image: "ghcr.io/acme/app-40:2.0.0"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Plan(files, "clusters/prod", ch)
		if err != nil || res.Summary.Files != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlan5000LinesOverlay is the same edit when the big file is a
// resource of a kustomize overlay: every workload document is parsed and
// the image goes into the overlay's images: list.
func BenchmarkPlan5000LinesOverlay(b *testing.B) {
	files := map[string][]byte{
		"apps/base/apps.yaml":                   bigManifest(5000),
		"apps/base/kustomization.yaml":          []byte("resources:\n- apps.yaml\n"),
		"apps/overlays/prod/kustomization.yaml": []byte("resources:\n- ../../base\nimages:\n- name: ghcr.io/acme/app-1\n  newTag: 1.0.9\n"),
	}
	ch := Change{Workload: "app-40", Image: "ghcr.io/acme/app-40:2.0.0"}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Plan(files, "apps/overlays/prod", ch)
		if err != nil || res.Summary.Files != 1 {
			b.Fatal(err, res)
		}
	}
}
