package validate

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// issueLines renders a result as one line per issue: "E|W document line:column message".
func issueLines(res Result) []string {
	var out []string
	for _, e := range res.Errors {
		out = append(out, fmt.Sprintf("E %d %d:%d %s", e.Document, e.Line, e.Column, e.Message))
	}
	for _, w := range res.Warnings {
		out = append(out, fmt.Sprintf("W %d %d:%d %s", w.Document, w.Line, w.Column, w.Message))
	}
	return out
}

const webDeployment = `  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: %s
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: %s
              resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}
`

// TestListItems: each item of a List is checked as its own object, and
// reported at its own line and column with its place in the list.
func TestListItems(t *testing.T) {
	v := newValidator(t)
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{name: "second item bad, after another document",
			in: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n---\napiVersion: v1\nkind: List\nitems:\n" +
				"  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: settings}\n    data: {mode: prod}\n" +
				fmt.Sprintf(webDeployment, "two", `"nginx:1.27"`),
			want: []string{"E 2 16:17 items[1] (Deployment/web): spec.replicas: wrong type: must be an integer, not string"}},
		{name: "all items good",
			in:   "apiVersion: v1\nkind: List\nitems:\n" + fmt.Sprintf(webDeployment, "2", `"nginx:1.27"`),
			want: nil},
		{name: "warnings of an item",
			in:   "apiVersion: v1\nkind: List\nitems:\n" + fmt.Sprintf(webDeployment, "2", "nginx"),
			want: []string{`W 1 15:15 items[0] (Deployment/web): container "web" image "nginx" has no tag, so it means :latest`}},
		{name: "item without kind or apiVersion in a List",
			in: "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n  data: {}\n- apiVersion: v1\n  metadata: {name: b}\n",
			want: []string{
				"E 1 4:3 items[0]: apiVersion not set",
				"E 1 4:3 items[0]: kind not set",
				"E 1 6:3 items[1]: kind not set",
			}},
		{name: "ConfigMapList items take kind and apiVersion from the list, as kubectl does",
			in: "apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: a}\n  data: {x: 1}\n- kind: Secret\n  metadata: {name: s}\n",
			want: []string{
				"E 1 5:13 items[0] (ConfigMap/a): data[x]: wrong type: must be a string, not number",
				"E 1 6:3 items[1] (Secret/s): apiVersion not set",
			}},
		{name: "Flux kinds by their CRD schema",
			in: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: KustomizationList\nitems:\n" +
				"- metadata: {name: apps, namespace: flux-system}\n  spec:\n    interval: 10m\n    path: ./apps\n    sourceRef: {kind: GitRepository, name: repo}\n",
			want: []string{`E 1 5:3 items[0] (Kustomization/apps): spec.prune: Required value`}},
		{name: "nested list, duplicate across items",
			in: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n" +
				"- apiVersion: v1\n  kind: List\n  items:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: B}}\n",
			want: []string{
				`E 1 9:56 items[1].items[1] (ConfigMap/B): metadata.name: Invalid value: "B": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
				"W 1 8:50 items[1].items[0] (ConfigMap/a): duplicate object: ConfigMap a is also defined in document 1 (line 4)",
			}},
		{name: "item that is not an object",
			in:   "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- just text\n",
			want: []string{"E 1 5:3 items[1]: item is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)"}},
		{name: "List without items",
			in:   "apiVersion: v1\nkind: List\nmetadata: {}\n",
			want: []string{"E 1 2:1 a List needs items: without them kubectl sends the List itself, which the API server does not accept"}},
		{name: "empty List and an ignored field",
			in: "apiVersion: v1\nkind: List\nitems: []\nspec: {}\n",
			want: []string{
				"W 1 3:1 the List has no items: nothing in it is applied",
				`W 1 4:1 field "spec" of a List is ignored: kubectl applies only its items`,
			}},
		{name: "items not a list",
			in:   "apiVersion: v1\nkind: List\nitems: {a: b}\n",
			want: []string{"E 1 3:1 items must be a list of objects"}},
		{name: "list kind of a kind the group version does not serve",
			in:   "apiVersion: v1\nkind: DeploymentList\nitems: [{metadata: {name: a}}]\n",
			want: []string{`E 1 2:1 no kind "Deployment" is served in v1, so there is no DeploymentList`}},
		{name: "DeploymentList without items is a single object",
			in:   "apiVersion: apps/v1\nkind: DeploymentList\nmetadata: {}\n",
			want: []string{`E 1 2:1 no kind "DeploymentList" is served in apps/v1`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := issueLines(v.Validate(context.Background(), []byte(tc.in)))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}
