package manifest

import (
	"strings"
	"testing"
)

const sts = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: %R%
  serviceName: db
  selector:
    matchLabels: {app: db}
  %STRATEGY%
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres:16
`

const ds = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  %STRATEGY%
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: agent:1
        readinessProbe:
          httpGet: {path: /, port: 80}
          initialDelaySeconds: 3
`

func manifest(tpl, replicas, strategy string) map[string][]byte {
	s := strings.ReplaceAll(tpl, "%R%", replicas)
	s = strings.ReplaceAll(s, "%STRATEGY%", strategy)
	return map[string][]byte{"deploy/app.yaml": []byte(s)}
}

func TestImpactKinds(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string][]byte
		ch       Change
		restart  bool
		downtime string
		reason   string
		warn     string
	}{
		{"sts one replica", manifest(sts, "1", "updateStrategy: {type: RollingUpdate}"), Change{Image: "postgres:17"}, true, "~10s", "one at a time", ""},
		{"sts three replicas", manifest(sts, "3", "updateStrategy: {type: RollingUpdate}"), Change{Image: "postgres:17"}, true, "none", "2 of 3 stay available", ""},
		{"sts on delete", manifest(sts, "3", "updateStrategy: {type: OnDelete}"), Change{Image: "postgres:17"}, false, "none", "OnDelete", "OnDelete"},
		{"sts scale down", manifest(sts, "3", ""), Change{Replicas: i32(1)}, false, "none", "2 pods stop", ""},
		{"daemonset", manifest(ds, "", ""), Change{Image: "agent:2"}, true, "~13s per node", "maxSurge 0", ""},
		{"daemonset surge", manifest(ds, "", "updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}"), Change{Image: "agent:2"}, true, "none", "maxSurge 1", ""},
		{"scale from zero", manifest(sts, "0", ""), Change{Replicas: i32(2)}, false, "none", "0 to 2", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Plan(tc.files, "deploy", tc.ch)
			if err != nil {
				t.Fatal(err)
			}
			im := res.Impact
			if im.WillRestartPods != tc.restart || im.EstimatedDowntime != tc.downtime || !strings.Contains(im.DowntimeReason, tc.reason) {
				t.Errorf("impact = %+v; want restart %v, downtime %q, reason with %q", im, tc.restart, tc.downtime, tc.reason)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warn)
			}
		})
	}
}

func TestDaemonSetReplicas(t *testing.T) {
	_, err := Plan(manifest(ds, "", ""), "deploy", Change{Replicas: i32(3)})
	if err == nil || !strings.Contains(err.Error(), "DaemonSet") {
		t.Fatalf("err = %v", err)
	}
}

func TestHPAWarning(t *testing.T) {
	files := loadRepo(t)
	files["apps/plain/hpa.yaml"] = []byte("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 5\n")
	res, err := Plan(files, "apps/plain", Change{Workload: "web", Replicas: i32(4)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "HorizontalPodAutoscaler") {
		t.Errorf("warnings %q lack the HPA", res.Warnings)
	}
}

func TestNoOpChange(t *testing.T) {
	res, err := Plan(loadRepo(t), "apps/plain", Change{Workload: "web", Image: "nginx:1.25", Replicas: i32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 0 || res.Diff != "" || res.Impact.WillRestartPods || res.Summary != (Summary{}) {
		t.Errorf("no-op change produced %+v", res)
	}
	if len(res.Warnings) < 2 {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

func TestCRLF(t *testing.T) {
	src := strings.ReplaceAll(string(manifest(sts, "1", "")["deploy/app.yaml"]), "\n", "\r\n")
	files := map[string][]byte{"deploy/app.yaml": []byte(src)}
	res, err := Plan(files, "deploy", Change{Image: "postgres:17", Env: map[string]*string{"PGDATA": sp("/data")}})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Files["deploy/app.yaml"])
	if strings.Count(out, "\n") != strings.Count(out, "\r\n") || !strings.Contains(out, "image: postgres:17\r\n") || !strings.Contains(out, "- name: PGDATA\r\n") {
		t.Errorf("CRLF file edited with mixed line ends:\n%q", out)
	}
	if res.Summary.Additions != 4 || res.Summary.Deletions != 1 {
		t.Errorf("summary %+v\n%s", res.Summary, res.Diff)
	}
}

func TestAnalyzeFiles(t *testing.T) {
	repo := loadRepo(t)
	const p = "apps/plain/web.yaml"
	before := map[string][]byte{p: repo[p]}
	edit := func(old, new string) map[string][]byte {
		return map[string][]byte{p: []byte(strings.Replace(string(repo[p]), old, new, 1))}
	}
	im, _ := AnalyzeFiles(before, edit("nginx:1.25", "nginx:1.27"))
	if !im.WillRestartPods || im.EstimatedDowntime != "none" || strings.Join(im.AffectedResources, ",") != "Deployment/web (namespace shop)" {
		t.Errorf("image edit: %+v", im)
	}
	im, _ = AnalyzeFiles(before, edit("replicas: 2", "replicas: 5"))
	if im.WillRestartPods || !strings.Contains(im.DowntimeReason, "2 to 5") {
		t.Errorf("replicas edit: %+v", im)
	}
	im, warns := AnalyzeFiles(before, edit("    matchLabels:\n      app: web", "    matchLabels:\n      app: web2"))
	if len(im.ImmutableChanges) != 1 || im.ImmutableChanges[0] != "Deployment/web spec.selector" || len(warns) == 0 {
		t.Errorf("selector edit: %+v %q", im, warns)
	}
	im, _ = AnalyzeFiles(before, edit("owner: \"team-shop\"", "owner: \"team-web\""))
	if im.WillRestartPods || strings.Join(im.AffectedResources, ",") != "Deployment/web (namespace shop)" {
		t.Errorf("metadata edit: %+v", im)
	}
	im, warns = AnalyzeFiles(before, edit("replicas: 2", "replicas: 0"))
	if im.EstimatedDowntime != "until scaled up" || len(warns) == 0 {
		t.Errorf("scale to zero: %+v %q", im, warns)
	}
}
