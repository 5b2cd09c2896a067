package ui

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"sigs.k8s.io/yaml"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Errors are shown where they happen in one line (the error surface under
// the body, a list's error line) and in full on demand: enter on a cut
// error line opens errorView, with the whole message and every detail.
// Messages are spoken in words: procedure names a server message mentions
// become what a person does in the UI.

// errLines renders an error wrapped to w cells in at most n lines; the
// last line ends with … when the rest did not fit.
func errLines(st Styles, e *model.Error, w, n int) []string {
	text := "✗ " + string(e.Code) + ": " + words(oneLine(e.Message))
	ls := strings.Split(ansi.Wrap(text, max(10, w), " "), "\n")
	if len(ls) > n {
		ls = ls[:n]
		ls[n-1] = ansi.Truncate(ls[n-1], max(1, w-2), "") + " …"
	}
	for i := range ls {
		ls[i] = st.Error.UnsetBold().Render(fit(ls[i], w))
	}
	return ls
}

// errMore reports that the one-line error surface cannot show all of e at
// width w: the line is cut, or e carries details beyond its field problems
// (the message names those).
func errMore(st Styles, e *model.Error, w int) bool {
	if ansi.StringWidth(errLine(st, e)) > w {
		return true
	}
	for k := range e.Details {
		if k != "fields" {
			return true
		}
	}
	return false
}

// errorView is an error in full: the code, the message wrapped, the field
// problems one a line and the other details as YAML.
func errorView(st Styles, e *model.Error, w, h int) string {
	var b strings.Builder
	b.WriteString(st.Error.Render("✗ "+string(e.Code)) + "\n\n")
	b.WriteString(ansi.Wrap(words(e.Message), max(10, w-2), " ") + "\n")
	if fields, ok := e.Details["fields"].(map[string]any); ok && len(fields) > 0 {
		b.WriteString("\n" + st.Header.Render("Fields") + "\n")
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(ansi.Wrap(fmt.Sprintf("  %s: %v", k, fields[k]), max(10, w-2), " ") + "\n")
		}
	}
	rest := map[string]any{}
	for k, v := range e.Details {
		if k != "fields" {
			rest[k] = v
		}
	}
	if len(rest) > 0 {
		b.WriteString("\n" + st.Header.Render("Details") + "\n")
		if raw, err := json.Marshal(rest); err == nil {
			if y, err := yaml.JSONToYAML(raw); err == nil {
				b.WriteString(strings.TrimRight(string(y), "\n") + "\n")
			}
		}
	}
	b.WriteString("\n" + st.Muted.Render("any key closes"))
	return clipLines(b.String(), w, h)
}

// phrases are the server's procedure-speak and what the UI says instead,
// longest first.
var phrases = []string{
	"run environments.configureGitOps with enabled:true", "turn GitOps on in the environment's GitOps settings (o on the environment)",
	"run environments.configureGitOps again to finish", "save the environment's GitOps settings again to finish",
	"name one with environments.configureGitOps config.repositoryId", "pick the repository in the environment's GitOps settings (o on the environment)",
	"with environments.configureGitOps config.repositoryId", "in the environment's GitOps settings (o on the environment)",
	"run repositories.enableGitOps", "enable GitOps on the repository first (o on the repository)",
	"run gitops.installFlux first", "install Flux on it first (i on the cluster)",
	"run gitops.installFlux", "install Flux on the cluster (i on the cluster)",
	"run gitops.triggerSync", "sync it (R on the resource)",
	"resume it (gitops.resumeGitOpsResource)", "resume it (T on the resource)",
	"(deployments.get and getGitOpsResource show the result)", "(the deployment history and the resource's detail show the result)",
	"deployWithGitOps would refuse this change", "the deploy would be refused",
	"move them or pass force to remove them too", "move them first, or tick the box (tab) to delete them too",
	"reconfigure them or pass force", "reconfigure them first, or tick the box (tab) to delete them too",
	"delete them first or pass force", "delete them first, or tick the box (tab) to delete them too",
}

var (
	phraser = strings.NewReplacer(phrases...)
	// procName finds a procedure name left in a message.
	procName = regexp.MustCompile(`\b(?:run |with |call )?((?:clusters|projects|environments|repositories|gitops|deployments)\.[a-zA-Z]+)\b`)
	procDesc = func() map[string]string {
		out := map[string]string{}
		for _, i := range api.Infos() {
			if d := i.Description; d != "" {
				out[i.Name] = strings.ToLower(d[:1]) + d[1:]
			}
		}
		return out
	}()
)

// words turns the procedure names in a message into words: the known
// phrases, then any other name as its procedure's description.
func words(msg string) string {
	msg = phraser.Replace(msg)
	return procName.ReplaceAllStringFunc(msg, func(m string) string {
		name := procName.FindStringSubmatch(m)[1]
		if d, ok := procDesc[name]; ok {
			return "“" + d + "”"
		}
		return m
	})
}
