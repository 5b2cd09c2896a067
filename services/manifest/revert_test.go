package manifest

import (
	"strings"
	"testing"
	"testing/fstest"
)

const revertDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          env:
            - name: LOG_LEVEL
              value: info
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
`

func TestFieldAt(t *testing.T) {
	src := []byte(revertDeployment)
	lineOf := func(s string) int {
		for i, l := range strings.Split(revertDeployment, "\n") {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("no line %q", s)
		return 0
	}
	for text, want := range map[string]string{
		"replicas: 2":            "Deployment/web spec.replicas",
		"image: ghcr.io":         "Deployment/web spec.template.spec.containers[name=web].image",
		"value: info":            "Deployment/web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value",
		"- name: LOG_LEVEL":      "Deployment/web spec.template.spec.containers[name=web].env[name=LOG_LEVEL].name",
		"- port: 80":             "Service/web spec.ports[0].port",
		"matchLabels: {app: web": "Deployment/web spec.selector.matchLabels",
	} {
		obj, field := FieldAt("d.yaml", src, lineOf(text))
		if got := obj + " " + field; got != want {
			t.Errorf("FieldAt(%q) = %q, want %q", text, got, want)
		}
	}
	kust := []byte("resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.2.4\n")
	if obj, field := FieldAt("kustomization.yaml", kust, 5); obj != "" || field != "images[name=ghcr.io/acme/web].newTag" {
		t.Fatalf("kustomization FieldAt: %q %q", obj, field)
	}
	if v := FieldValue("kustomization.yaml", kust, "", "images[name=ghcr.io/acme/web].newTag"); v == nil || *v != "1.2.4" {
		t.Fatalf("FieldValue: %v", v)
	}
	if v := FieldValue("d.yaml", src, "Deployment/web", "spec.template.spec.containers[name=web].image"); v == nil || *v != "ghcr.io/acme/web:1.0.0" {
		t.Fatalf("FieldValue of the image: %v", v)
	}
	if v := FieldValue("d.yaml", src, "Deployment/web", "spec.selector"); v != nil {
		t.Fatalf("FieldValue of a mapping: %v", *v)
	}
}

func TestBuildImpactSeesOverlayImages(t *testing.T) {
	fsys := fstest.MapFS{
		"base/deployment.yaml":         {Data: []byte(revertDeployment)},
		"base/kustomization.yaml":      {Data: []byte("resources:\n  - deployment.yaml\n")},
		"overlay/kustomization.yaml":   {Data: []byte("resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.2.4\n")},
		"overlay/unrelated/notes.yaml": {Data: []byte("a: b\n")},
	}
	im, warnings := BuildImpact(fsys, "overlay", map[string][]byte{
		"overlay/kustomization.yaml": []byte("resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.2.3\n")}, nil)
	if !im.WillRestartPods || len(im.AffectedResources) != 1 || im.AffectedResources[0] != "Deployment/web" {
		t.Fatalf("image through images: %+v %v", im, warnings)
	}
	im, _ = BuildImpact(fsys, "overlay", map[string][]byte{
		"overlay/kustomization.yaml": []byte("resources:\n  - ../base\nreplicas:\n  - name: web\n    count: 3\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.2.4\n")}, nil)
	if im.WillRestartPods || len(im.AffectedResources) != 1 {
		t.Fatalf("replicas through replicas: %+v", im)
	}
	_, warnings = BuildImpact(fsys, "overlay", map[string][]byte{"overlay/kustomization.yaml": []byte("resources:\n  - missing.yaml\n")}, nil)
	if len(warnings) == 0 || !strings.Contains(strings.Join(warnings, " "), "kustomize build after the change failed") {
		t.Fatalf("broken build: %v", warnings)
	}
}
