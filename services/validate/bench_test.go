package validate

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// mixedStream builds n resources of mixed built-in and Flux kinds.
func mixedStream(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString("---\n")
		}
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-%d
  labels: {app: web-%d}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web-%d}
  template:
    metadata:
      labels: {app: web-%d}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.%d.0
          ports: [{containerPort: 8080, name: http}]
          env: [{name: MODE, value: prod}]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
`, i, i, i, i, i)
		case 1:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata: {name: web-%d}\nspec:\n  selector: {app: web-%d}\n  ports: [{name: http, port: 80, targetPort: http}]\n", i, i)
		case 2:
			fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg-%d}\ndata:\n  LOG_LEVEL: info\n  FEATURES: a,b,c\n", i)
		case 3:
			fmt.Fprintf(&b, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: app-%d, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/%d
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`, i, i)
		case 4:
			fmt.Fprintf(&b, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: rel-%d, namespace: flux-system}
spec:
  interval: 30m
  chart:
    spec:
      chart: redis
      version: "18.x"
      sourceRef: {kind: HelmRepository, name: bitnami}
  values: {replica: {replicaCount: 2}}
`, i)
		}
	}
	return b.Bytes()
}

func TestMixedStreamIsValid(t *testing.T) {
	v := newValidator(t)
	res := v.Validate(context.Background(), mixedStream(1000))
	if !res.Valid || res.Documents != 1000 || len(res.Warnings) != 0 {
		t.Fatalf("valid=%v documents=%d errors=%v warnings=%d", res.Valid, res.Documents, res.Errors[:min(3, len(res.Errors))], len(res.Warnings))
	}
}

// BenchmarkValidate1000Resources validates a 1,000-resource stream of
// Deployments, Services, ConfigMaps, Kustomizations and HelmReleases.
func BenchmarkValidate1000Resources(b *testing.B) {
	v := newValidator(b)
	in := mixedStream(1000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if res := v.Validate(context.Background(), in); !res.Valid {
			b.Fatal(res.Errors[0])
		}
	}
}
