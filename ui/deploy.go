package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

func checkEnvList(v string) string {
	_, err := parseEnv(v)
	if err != nil {
		return err.Error()
	}
	return ""
}

// parseEnv reads "A=1, B=2, -C" (a leading - removes the variable).
func parseEnv(v string) (map[string]*string, error) {
	out := map[string]*string{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if strings.HasPrefix(part, "-") {
			out[strings.TrimPrefix(part, "-")] = nil
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%q: write NAME=value (or -NAME to remove)", part)
		}
		out[k] = &val
	}
	return out, nil
}

// newDeployForm is the first step of a deploy: what to change, generated
// from gitops.deployWithGitOps's declaration.
func newDeployForm(s *session, p model.Project, env model.Environment) screen {
	fill := func(in *api.DeployInput) { in.ProjectID, in.EnvironmentID = p.ID, env.ID }
	f := inputForm(api.DeployWithGitOps, formSpec{
		only: []string{"image", "replicas", "env", "resources.requests.cpu", "resources.requests.memory",
			"resources.limits.cpu", "resources.limits.memory", "workload", "commitMessage"},
		fields: map[string]fieldOpt{
			"image":                     {hint: "ghcr.io/acme/web:1.4.2"},
			"replicas":                  {hint: "unchanged"},
			"env":                       {hint: "LOG_LEVEL=debug, -OLD_VAR", check: checkEnvList, parse: func(v string) (any, error) { return parseEnv(v) }},
			"resources.requests.cpu":    {label: "cpu request", hint: "250m"},
			"resources.requests.memory": {label: "memory request", hint: "256Mi"},
			"resources.limits.cpu":      {label: "cpu limit"},
			"resources.limits.memory":   {label: "memory limit", hint: "512Mi"},
			"workload":                  {hint: "when the path holds several"},
			"commitMessage":             {label: "message", hint: "a conventional one"},
		},
	}, fill)
	return newFormScreen(s, "Deploy to "+env.Name, "Preview first: nothing is committed before you confirm.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return push(newPreview(s, p, env, in))
		}, nil)
}

// previewScreen shows gitops.previewChanges: the diff colorized by chroma
// and the impact panel; enter confirms and commits.
type previewScreen struct {
	base
	p      model.Project
	env    model.Environment
	in     api.DeployInput
	res    *api.PreviewResult
	diff   []string // the diff, highlighted
	scroll int
}

func newPreview(s *session, p model.Project, env model.Environment, in api.DeployInput) *previewScreen {
	return &previewScreen{base: newBase(s), p: p, env: env, in: in}
}

func (v *previewScreen) title() string { return "Preview" }
func (v *previewScreen) scope() scope {
	return scope{project: v.p.Name, env: v.env.Name, cluster: v.env.ClusterID}
}
func (v *previewScreen) bindings() []key.Binding {
	k := v.s.keys
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "commit & deploy")), k.Up, k.Down, k.Cancel}
}

func (v *previewScreen) init() tea.Cmd {
	in := api.PreviewInput{ProjectID: v.in.ProjectID, EnvironmentID: v.in.EnvironmentID, Changes: v.in.Change(),
		Workload: v.in.Workload, Container: v.in.Container}
	return v.ld.start("previewing", invoke(v.s, v.sid, "", api.PreviewChanges, in))
}

func (v *previewScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if v.resize(msg) {
		return v, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.PreviewResult]:
		if r, ok := settle(&v.ld, msg); ok {
			v.res = &r
			v.diff = v.s.hl.lines("diff", r.Diff)
		}
	case themeMsg:
		if v.res != nil {
			v.diff = v.s.hl.lines("diff", v.res.Diff)
		}
	case tea.KeyPressMsg:
		if msg.String() == "enter" && v.res != nil && v.ld.busy == "" {
			return v, replace(newProgress(v.s, v.p, v.env, v.in, v.res.Summary))
		}
		if v.res != nil {
			v.scroll = scrollBy(v.s.keys, msg, v.scroll, len(v.diff), max(1, v.h-len(v.panel(v.s.styles))))
		}
	}
	return v, nil
}

func (v *previewScreen) view(w, h int) string {
	st := v.s.styles
	switch {
	case v.res == nil && v.ld.err != nil:
		return clipLines(st.Header.Render("Preview for "+v.env.Name)+"\n"+errLine(st, v.ld.err), w, h)
	case v.res == nil:
		return st.Header.Render("Preview for "+v.env.Name) + "\n" + st.Muted.Render("computing the diff…")
	}
	panel := v.panel(st)
	body := window(v.diff, v.scroll, w, max(1, h-len(panel)))
	return clipLines(strings.Join(panel, "\n")+"\n"+body, w, h)
}

// panel is the preview's head: the workload, the counts, the impact and
// the warnings.
func (v *previewScreen) panel(st Styles) []string {
	r := v.res
	im := r.Impact
	var panel []string
	panel = append(panel, st.Header.Render(fmt.Sprintf("Preview %s → %s@%s", r.Workload, r.Branch, shortSHA(r.BaseRevision)))+
		st.Muted.Render(fmt.Sprintf("  %d file(s) ", len(r.Summary.Files)))+st.OK.Render(fmt.Sprintf("+%d", r.Summary.Additions))+" "+st.Error.Render(fmt.Sprintf("-%d", r.Summary.Deletions)))
	restart := st.OK.Render("no")
	if im.WillRestartPods {
		restart = st.Warn.Render("yes")
	}
	down := st.OK.Render(orDash(im.EstimatedDowntime))
	if im.EstimatedDowntime != "" && im.EstimatedDowntime != "none" {
		down = st.Warn.Render(im.EstimatedDowntime)
	}
	panel = append(panel, st.Label.Render("restart pods ")+restart+st.Label.Render("  downtime ")+down+st.Muted.Render(" "+im.DowntimeReason))
	if len(im.AffectedResources) > 0 {
		panel = append(panel, st.Label.Render("affected ")+strings.Join(im.AffectedResources, ", "))
	}
	for _, c := range im.ImmutableChanges {
		panel = append(panel, st.Error.Render("immutable field: "+c))
	}
	for _, wn := range r.Warnings {
		panel = append(panel, st.Warn.Render("⚠ "+wn))
	}
	return append(panel, st.Muted.Render("enter: commit and deploy · esc: back"), "")
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return orDash(s)
}

// pollMsg asks the progress screen to poll deployments.get.
type pollMsg struct{ to int }

func (p pollMsg) target() int { return p.to }

// progressScreen commits the change and follows the deployment until Flux
// reports success or failure: status events for its id, and polling
// deployments.get as a fallback.
type progressScreen struct {
	base
	p       model.Project
	env     model.Environment
	in      api.DeployInput
	sum     api.Summary
	result  *api.DeployResult
	dep     *model.Deployment
	started time.Time
	polls   int
}

func newProgress(s *session, p model.Project, env model.Environment, in api.DeployInput, sum api.Summary) *progressScreen {
	return &progressScreen{base: newBase(s), p: p, env: env, in: in, sum: sum}
}

func (g *progressScreen) title() string { return "Deploy" }
func (g *progressScreen) scope() scope {
	return scope{project: g.p.Name, env: g.env.Name, cluster: g.env.ClusterID}
}
func (g *progressScreen) bindings() []key.Binding {
	k := g.s.keys
	return []key.Binding{k.Back, k.History}
}

func (g *progressScreen) init() tea.Cmd {
	g.working = "committing"
	g.started = g.s.now()
	return invoke(g.s, g.sid, "", api.DeployWithGitOps, g.in)
}

func (g *progressScreen) done() bool {
	return g.dep != nil && (g.dep.Status == model.DeploySuccess || g.dep.Status == model.DeployFailed)
}

func (g *progressScreen) poll() tea.Cmd {
	if g.s.static || g.done() {
		return nil
	}
	to := g.sid
	return tea.Tick(2*time.Second, func(time.Time) tea.Msg { return pollMsg{to} })
}

func (g *progressScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if g.resize(msg) {
		return g, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.DeployResult]:
		if msg.err != nil {
			g.working = ""
			return g, fail(msg.err)
		}
		r := msg.val
		g.result = &r
		g.working = "waiting for Flux"
		return g, tea.Batch(notify("committed "+shortSHA(r.CommitSha)+" to "+r.Branch), g.poll())
	case statusMsg:
		if d := msg.Deployment; d != nil && g.result != nil && d.ID == g.result.DeploymentID {
			dd := *d
			g.dep = &dd
			if g.done() {
				g.working = ""
				return g, notify("deployment " + dd.Status)
			}
		}
	case pollMsg:
		if g.result == nil || g.done() {
			return g, nil
		}
		g.polls++
		return g, invoke(g.s, g.sid, "", api.GetDeployment, api.IDInput{ID: g.result.DeploymentID})
	case doneMsg[model.Deployment]:
		if msg.err == nil {
			d := msg.val
			g.dep = &d
		}
		if g.done() {
			g.working = ""
			return g, notify("deployment " + g.dep.Status)
		}
		return g, g.poll()
	case tea.KeyPressMsg:
		if key.Matches(msg, g.s.keys.History) {
			return g, push(newDeployments(g.s, g.p.ID, g.env.ID))
		}
	}
	return g, nil
}

func (g *progressScreen) view(w, h int) string {
	st := g.s.styles
	var l []string
	l = append(l, st.Header.Render("Deploy to "+g.env.Name+" ("+g.p.Name+")"), "")
	step := func(done bool, active bool, text string) string {
		switch {
		case done:
			return st.OK.Render("✓ ") + text
		case active:
			return st.Warn.Render("… ") + text
		}
		return st.Muted.Render("· " + text)
	}
	l = append(l, step(g.result != nil, g.result == nil, "commit and push"))
	if g.result != nil {
		r := g.result
		l = append(l, "    "+st.Label.Render("commit ")+shortSHA(r.CommitSha)+st.Label.Render("  branch ")+r.Branch+st.Muted.Render(fmt.Sprintf("  (%d attempt(s))", r.Attempts)))
		if r.GitURL != "" {
			l = append(l, "    "+st.Label.Render("url    ")+st.Info.Render(r.GitURL))
		}
		if r.Message != "" {
			l = append(l, "    "+st.Label.Render("message ")+r.Message)
		}
		l = append(l, "    "+st.Label.Render("deployment ")+r.DeploymentID)
	}
	status := ""
	if g.dep != nil {
		status = g.dep.Status
	}
	l = append(l, step(g.done(), g.result != nil && !g.done(), "Flux applies the commit"+func() string {
		if status == "" {
			return ""
		}
		return ": " + st.statusStyle(status).Render(status)
	}()))
	if g.dep != nil && g.dep.ErrorMessage != "" {
		l = append(l, "    "+st.Error.Render(oneLine(g.dep.ErrorMessage)))
	}
	if g.done() {
		if g.dep.Status == model.DeploySuccess {
			l = append(l, "", st.OK.Render("Deployed."))
		} else {
			l = append(l, "", st.Error.Render("Deployment failed."))
		}
		if g.dep.GitCommitURL != "" {
			l = append(l, st.Label.Render("commit ")+st.Info.Render(g.dep.GitCommitURL))
		}
	}
	return clipLines(strings.Join(l, "\n"), w, h)
}
