package services_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// thousandResources is a 1,000-document stream of Deployments, Services,
// ConfigMaps and Flux Kustomizations in namespace default.
func thousandResources() string {
	var b strings.Builder
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-%[1]d, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web-%[1]d}}
  template:
    metadata: {labels: {app: web-%[1]d}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.%[1]d.0
          resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 256Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web-%[1]d, namespace: default}
spec:
  selector: {app: web-%[1]d}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-%[1]d, namespace: default}
data: {LOG_LEVEL: info}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web-%[1]d, namespace: default}
spec:
  interval: 5m
  path: ./apps/web-%[1]d
  prune: true
  sourceRef: {kind: GitRepository, name: fleet}
`, i)
	}
	return b.String()
}

// BenchmarkValidateYAML1000 is gitops.validateYAML over 1,000 resources;
// compare with BenchmarkKubectlDryRun1000 on the same stream.
func BenchmarkValidateYAML1000(b *testing.B) {
	svc := newSvc(b)
	raw, _ := json.Marshal(map[string]any{"yaml": thousandResources()})
	ctx := context.Background()
	if _, err := svc.Registry().Call(ctx, "gitops.validateYAML", raw); err != nil { // builds the validator once
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := svc.Registry().Call(ctx, "gitops.validateYAML", raw)
		if err != nil {
			b.Fatal(err)
		}
		if out, _ := json.Marshal(res); !strings.Contains(string(out), `"valid":true`) {
			b.Fatalf("the stream should be valid: %.300s", out)
		}
	}
}

// BenchmarkKubectlDryRun1000 is `kubectl apply --dry-run=server` of the same
// stream against the test API server with Flux's CRDs.
func BenchmarkKubectlDryRun1000(b *testing.B) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		b.Fatal("kubectl is needed for this anchor benchmark: apt-get install kubectl, or build k8s.io/kubernetes/cmd/kubectl")
	}
	c := fluxCluster.Get(b)
	c.AddReadyNode(b, "node-1")
	svc := newSvc(b)
	registerCluster(b, svc, "cluster-123", c.Kubeconfig(b))
	if err := callProc(b, svc, "gitops.installFlux", map[string]any{"clusterId": "cluster-123"}, nil); err != nil && !isCode(err, "FLUX_ALREADY_INSTALLED") {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "stream.yaml")
	if err := os.WriteFile(file, []byte(thousandResources()), 0o644); err != nil {
		b.Fatal(err)
	}
	kc := c.Kubeconfig(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(kubectl, "--kubeconfig", kc, "apply", "--dry-run=server", "--server-side", "-f", file)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kubectl: %v\n%.2000s", err, out)
		}
	}
}
