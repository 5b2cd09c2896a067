package manifest

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

const placeRoot = "testdata/place/repo"

func placeFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(placeRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(placeRoot, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// kustomizeBuild writes the tree to a temporary directory and runs
// kustomize on gitPath from disk; a plain directory gets a kustomization
// listing its YAML files, as Flux generates it.
func kustomizeBuild(t *testing.T, files map[string][]byte, gitPath string) []map[string]any {
	t.Helper()
	dir := t.TempDir()
	for p, b := range files {
		fp := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fp, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := files[path.Join(gitPath, "kustomization.yaml")]; !ok {
		var res []string
		for p := range files {
			if strings.HasPrefix(p, gitPath+"/") && strings.HasSuffix(p, ".yaml") {
				res = append(res, strings.TrimPrefix(p, gitPath+"/"))
			}
		}
		sort.Strings(res)
		k := "resources:\n- " + strings.Join(res, "\n- ") + "\n"
		if err := os.WriteFile(filepath.Join(dir, gitPath, "kustomization.yaml"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), filepath.Join(dir, gitPath))
	if err != nil {
		t.Fatalf("kustomize build %s of the result: %v", gitPath, err)
	}
	var out []map[string]any
	for _, r := range rm.Resources() {
		j, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := sigsyaml.Unmarshal(j, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// subset reports the first field of want that got lacks or differs in;
// lists of objects with names are matched by name.
func subset(want, got any, field string, skip ...string) string {
	for _, f := range skip {
		if f == field {
			return ""
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return field
		}
		for k, v := range w {
			if field == ".metadata" && (k == "name" || k == "namespace") {
				continue
			}
			if s := subset(v, g[k], field+"."+k, skip...); s != "" {
				return s
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return field
		}
		for i, it := range w {
			m, _ := it.(map[string]any)
			name, _ := m["name"].(string)
			var match any
			if name == "" && i < len(g) {
				match = g[i]
			}
			for _, gi := range g {
				if m, ok := gi.(map[string]any); ok && name != "" && m["name"] == name {
					match = gi
				}
			}
			if s := subset(it, match, field+"[]", skip...); s != "" {
				return s
			}
		}
	default:
		if want != got {
			return field
		}
	}
	return ""
}

func docsOf(t *testing.T, yamlText string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, part := range strings.Split("\n"+yamlText, "\n---") {
		var m map[string]any
		if err := sigsyaml.Unmarshal([]byte(part), &m); err != nil {
			t.Fatal(err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// checkPlacement checks a placement against the real tools: git applies
// the diff to the tree and gets Files, kustomize builds the result, every
// document is in the build with its fields, and kustomization files stay
// kustomizations.
func checkPlacement(t *testing.T, files map[string][]byte, c placeCase, pl *Placement) {
	t.Helper()
	gitPath, prefix, input := c.gitPath, c.prefix, c.yaml
	if len(pl.Files) > 0 {
		gitApply(t, files, &Result{Files: pl.Files, Diff: pl.Diff, Summary: pl.Summary})
	} else if pl.Diff != "" || pl.Summary != (Summary{}) {
		t.Errorf("no files, but diff %q and summary %+v", pl.Diff, pl.Summary)
	}
	after := withFiles(files, pl.Files)
	for p, b := range pl.Files {
		if !strings.HasPrefix(p, gitPath+"/") {
			t.Errorf("wrote %s, outside %s", p, gitPath)
		}
		if path.Base(p) == "kustomization.yaml" {
			var k types.Kustomization
			if err := sigsyaml.UnmarshalStrict(b, &k); err != nil || k.Kind != "Kustomization" {
				t.Errorf("%s is no longer a Kustomization (kind %q, %v):\n%s", p, k.Kind, err, b)
			}
		}
	}
	built := kustomizeBuild(t, after, gitPath)
	for i, want := range docsOf(t, input) {
		md := want["metadata"].(map[string]any)
		name := md["name"].(string)
		var got map[string]any
		for _, o := range built {
			n := o["metadata"].(map[string]any)["name"]
			if o["apiVersion"] == want["apiVersion"] && o["kind"] == want["kind"] && (n == name || n == prefix+name) {
				got = o
			}
		}
		if got == nil {
			t.Errorf("document %d: no %s %s in the build of the result", i+1, want["kind"], name)
			continue
		}
		if f := subset(want, got, "", c.skip...); f != "" {
			t.Errorf("document %d: the build of the result differs at %s:\nbuilt: %v\ndocument: %v", i+1, f, got, want)
		}
	}
}

func actions(pl *Placement) []string {
	var out []string
	for _, d := range pl.Documents {
		out = append(out, d.Action+" "+d.File)
	}
	return out
}

type placeCase struct {
	name    string
	gitPath string
	prefix  string // the overlay's namePrefix
	yaml    string
	actions []string            // "action file" per document
	has     []string            // substrings of the diff
	hasNot  []string            // nor these
	files   map[string][]string // substrings of written files
	skip    []string            // fields an overlay transform sets (the build differs from the document there)
	exact   map[string]string   // whole written files
	objects []string            // Placed.Object per document
	warn    string
}

// placeCases are the documents placed in testdata/place/repo.
var placeCases = []placeCase{{
	name: "overlay-replace-local", gitPath: "clusters/prod", prefix: "prod-",
	// As built: namespace and prefix applied; the file keeps its own name.
	yaml: `apiVersion: v1
kind: Service
metadata:
  name: prod-web
  namespace: prod
spec:
  selector:
    app: web
  ports:
    - port: 443 # https now
      targetPort: 8443
`,
	actions: []string{"replace clusters/prod/config.yaml"},
	objects: []string{"Service/prod-web (namespace prod)"},
	has:     []string{"-    - port: 80\n-      targetPort: 8080\n+    - port: 443 # https now\n+      targetPort: 8443"},
	hasNot:  []string{"namespace: prod", "greeting", "prod-web"},
	files:   map[string][]string{"clusters/prod/config.yaml": {"  greeting: hello # shown on the home page\n", "# Public entry point.\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"}},
}, {
	name: "overlay-patch-existing", gitPath: "clusters/prod", prefix: "prod-",
	yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 5
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: debug
`,
	actions: []string{"patch clusters/prod/web-patch.yaml"},
	has: []string{"-  replicas: 3\n+  replicas: 5\n", "+            - name: LOG_LEVEL\n+              value: debug\n",
		"+            - name: FEATURE_X\n+              $patch: delete"},
	hasNot: []string{"image:", "kustomization.yaml", ": null"},
	files:  map[string][]string{"clusters/prod/web-patch.yaml": {"# Prod runs three replicas.\napiVersion: apps/v1\n"}},
	// The image as the base writes it: the overlay's images: pins 1.2.0.
	skip: []string{".spec.template.spec.containers[].image"},
}, {
	name: "overlay-patch-new", gitPath: "clusters/prod", prefix: "prod-",
	yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-worker
  namespace: prod
  labels:
    app: worker
spec:
  replicas: 1
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:2.1.0
          args: ["--queue", "jobs", "--verbose"]
          resources:
            requests:
              cpu: 250m
              memory: 128Mi
`,
	actions: []string{"patch clusters/prod/patch-deployment-worker.yaml"},
	has: []string{"+++ b/clusters/prod/patch-deployment-worker.yaml", "+  name: worker\n", "+          image: ghcr.io/acme/worker:2.1.0\n",
		"   - path: web-patch.yaml # replicas for prod\n+  - path: patch-deployment-worker.yaml\n", "+              cpu: 250m\n"},
	hasNot: []string{"memory", "replicas:", "namespace", ": null"},
}, {
	name: "overlay-create", gitPath: "clusters/prod", prefix: "prod-",
	yaml: `# Feature flags for the web front end.
apiVersion: v1
kind: ConfigMap
metadata:
  name: prod-flags
data:
  beta: "true"
`,
	actions: []string{"create clusters/prod/configmap-flags.yaml"},
	objects: []string{"ConfigMap/prod-flags (namespace prod)"},
	has:     []string{"   - config.yaml # local objects\n+  - configmap-flags.yaml\n", "+# Feature flags for the web front end.\n", "+  name: flags\n"},
}, {
	name: "overlay-mixed", gitPath: "clusters/prod", prefix: "prod-",
	yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  greeting: hello # shown on the home page
  theme: light
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: prod-web
  namespace: prod
spec:
  replicas: 3
---
apiVersion: v1
kind: Secret
metadata:
  name: api-key
stringData:
  key: s3cr3t
`,
	actions: []string{"replace clusters/prod/config.yaml", "unchanged clusters/prod/web-patch.yaml", "create clusters/prod/secret-api-key.yaml"},
	has:     []string{"-  theme: dark\n+  theme: light\n", " # Public entry point.\n", "+  - secret-api-key.yaml\n"},
	hasNot:  []string{"web-patch"},
	files:   map[string][]string{"clusters/prod/config.yaml": {"# Settings of the web front end in prod.\napiVersion: v1\n", "# Public entry point.\n"}},
}, {
	name: "staging-source-form", gitPath: "clusters/staging",
	// As the base file writes it: no namespace, no commonLabels.
	yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  labels:
    app: worker
spec:
  replicas: 2
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:2.0.0
          args: ["--queue", "jobs"]
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
`,
	actions: []string{"patch clusters/staging/patch-deployment-worker.yaml"},
	has:     []string{"+  name: worker\n+spec:\n+  replicas: 2\n", "   env: staging\n+patches:\n+  - path: patch-deployment-worker.yaml\n"},
	hasNot:  []string{": null", "labels", "image", "namespace"},
}, {
	name: "plain-partial", gitPath: "plain",
	yaml: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 4
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:3.2.0
`,
	actions: []string{"replace plain/app.yaml"},
	has:     []string{"-  replicas: 2 # two for the rolling update\n+  replicas: 4\n", "+          image: ghcr.io/acme/api:3.2.0\n"},
	hasNot:  []string{"port: 80"},
	files: map[string][]string{"plain/app.yaml": {"# Plain manifests, applied by Flux as they are.\napiVersion: apps/v1\n",
		"---\n# The API's service; do not rename.\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector: {app: api}\n  ports:\n    - port: 80 # http\n"}},
}, {
	name: "plain-create-and-nested", gitPath: "plain",
	yaml: `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
        - name: db
          image: postgres:16
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: shop
spec:
  clusterIP: None
  selector: {app: db}
  ports:
    - port: 5432
`,
	actions: []string{"replace plain/db/statefulset.yaml", "create plain/service-db.yaml"},
	has:     []string{"+  replicas: 2\n", "+++ b/plain/service-db.yaml"},
}}

func morePlaceCases(t *testing.T, files map[string][]byte) []placeCase {
	app := string(files["plain/app.yaml"])
	edited := strings.Replace(app, "replicas: 2 # two for the rolling update", "replicas: 3 # three for the launch", 1)
	if edited == app {
		t.Fatal("plain/app.yaml changed: fix the test")
	}
	return []placeCase{{
		// The whole file as read, one line changed: everything else stays byte for byte.
		name: "plain-whole-file", gitPath: "plain", yaml: edited,
		actions: []string{"replace plain/app.yaml", "unchanged plain/app.yaml"},
		exact:   map[string]string{"plain/app.yaml": edited},
	}, {
		name: "unchanged", gitPath: "clusters/prod", prefix: "prod-",
		yaml:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prod-web\n  namespace: prod\nspec:\n  replicas: 3\n",
		actions: []string{"unchanged clusters/prod/web-patch.yaml"},
	}, {
		// patchesStrategicMerge, bases and imageTags: the existing patch is updated.
		name: "legacy-patch", gitPath: "clusters/legacy",
		yaml:    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\n  namespace: legacy\nspec:\n  replicas: 4\n",
		actions: []string{"patch clusters/legacy/worker-patch.yaml"},
		has:     []string{"-  replicas: 2 # legacy load\n+  replicas: 4 # legacy load\n"},
	}, {
		// Same kind and name in two API groups: two files.
		name: "plain-same-name", gitPath: "plain",
		yaml: "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  secretName: api-tls\n---\n" +
			"apiVersion: example.com/v1\nkind: Certificate\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  owner: team\n",
		actions: []string{"create plain/certificate-api.yaml", "create plain/certificate-api-2.yaml"},
	}, {
		name: "overlay-create-elsewhere", gitPath: "clusters/prod", prefix: "prod-",
		yaml:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: audit\n  namespace: audit\ndata:\n  enabled: \"yes\"\n",
		actions: []string{"create clusters/prod/configmap-audit.yaml"},
		objects: []string{"ConfigMap/prod-audit (namespace prod)"},
		warn:    "document 1 (line 1, ConfigMap/audit) asks for namespace audit; the overlay puts it in prod",
	}}
}

func TestPlaceDocuments(t *testing.T) {
	files := placeFiles(t)
	for _, c := range append(append([]placeCase{}, placeCases...), morePlaceCases(t, files)...) {
		t.Run(c.name, func(t *testing.T) {
			pl, err := PlaceDocuments(os.DirFS(placeRoot), c.gitPath, []byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := actions(pl); strings.Join(got, "\n") != strings.Join(c.actions, "\n") {
				t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.actions, "\n"))
			}
			for _, s := range c.has {
				if !strings.Contains(pl.Diff, s) {
					t.Errorf("diff lacks %q:\n%s", s, pl.Diff)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(pl.Diff, s) {
					t.Errorf("diff has %q:\n%s", s, pl.Diff)
				}
			}
			if c.warn != "" && !strings.Contains(strings.Join(pl.Warnings, "\n"), c.warn) {
				t.Errorf("warnings %q lack %q", pl.Warnings, c.warn)
			}
			if c.warn == "" && len(pl.Warnings) > 0 {
				t.Errorf("warnings: %q", pl.Warnings)
			}
			for fp, want := range c.exact {
				if string(pl.Files[fp]) != want {
					t.Errorf("%s:\n%s\nwant:\n%s", fp, pl.Files[fp], want)
				}
			}
			if c.objects != nil {
				var got []string
				for _, d := range pl.Documents {
					got = append(got, d.Object)
				}
				if strings.Join(got, "\n") != strings.Join(c.objects, "\n") {
					t.Errorf("objects %q, want %q", got, c.objects)
				}
			}
			for fp, subs := range c.files {
				for _, sub := range subs {
					if !strings.Contains(string(pl.Files[fp]), sub) {
						t.Errorf("%s lacks %q:\n%s", fp, sub, pl.Files[fp])
					}
				}
			}
			golden(t, "place-"+c.name, pl.Diff)
			checkPlacement(t, files, c, pl)
		})
	}
}
