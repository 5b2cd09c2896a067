package api

import (
	"bytes"
	"strings"

	"github.com/gitopstui/gitopstui/model"
)

// checkHelm checks the HelmRelease extensions of a change: values must be a
// JSON object and chartVersion one version or range on one line.
func (c ChangeSet) checkHelm(fe model.FieldErrors, prefix string) {
	if v := bytes.TrimSpace(c.Values); len(v) > 0 && v[0] != '{' {
		fe.Add(prefix+"values", "must be an object of chart values, e.g. {\"replicaCount\":2}")
	}
	if c.ChartVersion != "" && (strings.ContainsAny(c.ChartVersion, "\t\r\n") || len(c.ChartVersion) > 128) {
		fe.Add(prefix+"chartVersion", "must be a chart version or semver range on one line, e.g. 6.5.4 or >=6.0.0 <7.0.0")
	}
}

// IsHelm reports whether the change uses the HelmRelease extensions.
func (c ChangeSet) IsHelm() bool { return len(c.Values) > 0 || c.ChartVersion != "" }
