package fluxbundle

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
)

// MaxManifestBytes bounds what ParseManifests reads; `flux install --export`
// writes about 1 MB.
const MaxManifestBytes = 32 << 20

// ParseManifests reads a multi-document YAML file of Kubernetes objects, such
// as a user's `flux install --export` output, in file order. Empty documents
// are skipped and v1 List objects are expanded. A document that is not valid
// YAML or not a Kubernetes object (apiVersion, kind, metadata.name) is
// YAML_INVALID with details document (1-based) and line (in the file).
func ParseManifests(data []byte) ([]*unstructured.Unstructured, error) {
	if len(data) > MaxManifestBytes {
		return nil, model.Errorf(model.CodeBadRequest, "manifests are %d bytes, more than the %d allowed", len(data), MaxManifestBytes)
	}
	var out []*unstructured.Unstructured
	n := 0 // documents with content, as a reader counts them
	for _, doc := range splitDocuments(data) {
		js, err := yaml.YAMLToJSON(doc.data)
		if err != nil {
			return nil, yamlErr(n+1, doc.line, err)
		}
		js = bytes.TrimSpace(js)
		if len(js) == 0 || bytes.Equal(js, []byte("null")) {
			continue
		}
		n++
		var content map[string]any
		if js[0] != '{' || utiljson.Unmarshal(js, &content) != nil {
			return nil, model.Errorf(model.CodeYAMLInvalid, "document %d (line %d) is not a Kubernetes object", n, doc.line).
				WithDetail("document", n).WithDetail("line", doc.line)
		}
		obj := &unstructured.Unstructured{Object: content}
		if strings.HasSuffix(obj.GetKind(), "List") && obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				return nil, model.Wrap(model.CodeYAMLInvalid, err, "document "+strconv.Itoa(n)).WithDetail("document", n).WithDetail("line", doc.line)
			}
			for j := range list.Items {
				item := list.Items[j]
				if err := checkObject(&item, n, doc.line); err != nil {
					return nil, err
				}
				out = append(out, &item)
			}
			continue
		}
		if err := checkObject(obj, n, doc.line); err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

func checkObject(o *unstructured.Unstructured, doc, line int) error {
	var missing []string
	if o.GetAPIVersion() == "" {
		missing = append(missing, "apiVersion")
	}
	if o.GetKind() == "" {
		missing = append(missing, "kind")
	}
	if o.GetName() == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		return model.Errorf(model.CodeYAMLInvalid, "document %d (line %d) has no %s", doc, line, strings.Join(missing, ", ")).
			WithDetail("document", doc).WithDetail("line", line).WithDetail("missing", missing)
	}
	return nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErr reports a YAML syntax error with its line in the whole file.
func yamlErr(doc, start int, err error) error {
	line := start
	msg := err.Error()
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		if l, convErr := strconv.Atoi(msg[m[2]:m[3]]); convErr == nil {
			line = start + l - 1
			msg = msg[:m[2]] + strconv.Itoa(line) + msg[m[3]:]
		}
	}
	return model.Errorf(model.CodeYAMLInvalid, "document %d: %s", doc, msg).
		WithDetail("document", doc).WithDetail("line", line)
}

type document struct {
	data []byte
	line int // 1-based line of the document's first line
}

// splitDocuments cuts YAML at "---" separator lines, remembering where each
// document starts so that errors point into the file.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data) + 1
		lineEnd := len(data)
		if end >= 0 {
			lineEnd = i + end
			next = lineEnd + 1
		}
		l := data[i:lineEnd]
		if isSeparator(l) {
			docs = append(docs, document{data: data[start:i], line: startLine})
			start, startLine = min(next, len(data)), line+1
		}
		i = next
		line++
	}
	if start < len(data) {
		docs = append(docs, document{data: data[start:], line: startLine})
	}
	return docs
}

func isSeparator(l []byte) bool {
	l = bytes.TrimRight(l, " \t\r")
	if !bytes.HasPrefix(l, []byte("---")) {
		return false
	}
	rest := l[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t'
}

// FromManifests turns a user's `flux install --export` file into a Bundle, so
// that it installs like an embedded one. The bundle's Namespace is the file's
// Namespace object (else the namespace its objects use), its Version the
// app.kubernetes.io/version label of its Flux objects, its Components its
// Deployments. A file without Flux CRDs is BAD_REQUEST; a file that does not
// parse is YAML_INVALID (see ParseManifests).
func FromManifests(data []byte) (*Bundle, error) {
	objs, err := ParseManifests(data)
	if err != nil {
		return nil, err
	}
	crds, rest := SplitCRDs(objs)
	fluxCRDs := 0
	for _, c := range crds {
		group, _, _ := unstructured.NestedString(c.Object, "spec", "group")
		if strings.HasSuffix(group, ".fluxcd.io") {
			fluxCRDs++
		}
	}
	if fluxCRDs == 0 {
		return nil, model.Errorf(model.CodeBadRequest, "the manifests hold no Flux CustomResourceDefinition; expected the output of `flux install --export`")
	}
	b := &Bundle{objects: append(crds, rest...)}
	namespaces := map[string]int{}
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" && b.Namespace == "" {
			b.Namespace = o.GetName()
		}
		if ns := o.GetNamespace(); ns != "" {
			namespaces[ns]++
		}
		if b.Version == "" && o.GetLabels()[LabelPartOf] == PartOfFlux {
			b.Version = o.GetLabels()[LabelVersion]
		}
		if o.GetKind() == "Deployment" {
			b.Components = append(b.Components, componentOf(o))
		}
	}
	if b.Namespace == "" {
		best := 0
		for ns, n := range namespaces {
			if n > best || (n == best && ns < b.Namespace) {
				b.Namespace, best = ns, n
			}
		}
	}
	if b.Namespace == "" {
		b.Namespace = DefaultNamespace
	}
	return b, nil
}

func componentOf(d *unstructured.Unstructured) Component {
	c := Component{Name: d.GetName()}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(containers) > 0 {
		if m, ok := containers[0].(map[string]any); ok {
			c.Image, _ = m["image"].(string)
		}
	}
	_, tag, _ := splitImage(c.Image)
	c.Version = tag
	return c
}

// Marshal writes objects as one multi-document YAML stream (keys sorted), as
// `kubectl apply -f` reads it.
func Marshal(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, model.Wrap(model.CodeInternal, err, "marshal "+o.GetKind()+" "+o.GetName())
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes(), nil
}
