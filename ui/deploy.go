package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

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
			"resources.limits.cpu", "resources.limits.memory", "chartVersion", "workload", "commitMessage"},
		fields: map[string]fieldOpt{
			"image":                     {hint: "ghcr.io/acme/web:1.4.2"},
			"replicas":                  {hint: "unchanged"},
			"env":                       {hint: "LOG_LEVEL=debug, -OLD_VAR", check: checkEnvList, parse: func(v string) (any, error) { return parseEnv(v) }},
			"resources.requests.cpu":    {label: "cpu request", hint: "250m"},
			"resources.requests.memory": {label: "memory request", hint: "256Mi"},
			"resources.limits.cpu":      {label: "cpu limit"},
			"resources.limits.memory":   {label: "memory limit", hint: "512Mi"},
			"chartVersion":              {label: "chart version", hint: "HelmRelease environments: unchanged"},
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

// previewScreen shows gitops.previewChanges: the diff colorized by chroma,
// the impact panel and what would stop Flux from applying the commit;
// enter confirms and commits, esc goes back to the form.
type previewScreen struct {
	base
	p      model.Project
	env    model.Environment
	res    *api.PreviewResult
	extra  []string // lines above the impact (a promotion's differences)
	diff   []string // the diff, highlighted
	scroll int
	tg     *target
	// load previews (previewChanges of in unless set); commit is the
	// screen that commits, pushing or (review) to a review branch; what
	// names the action.
	load   func() tea.Cmd
	commit func(review bool) screen
	what   string
}

// previewed is a preview's result with the lines shown above its impact.
type previewed struct {
	res   api.PreviewResult
	extra []string
}

func newPreview(s *session, p model.Project, env model.Environment, in api.DeployInput) *previewScreen {
	v := &previewScreen{base: newBase(s), p: p, env: env, tg: newTarget(env), what: "deploy"}
	v.load = func() tea.Cmd {
		pin := api.PreviewInput{ProjectID: in.ProjectID, EnvironmentID: in.EnvironmentID, Changes: in.Change(),
			Workload: in.Workload, Container: in.Container}
		return invokeAs(s, v.sid, api.PreviewChanges, pin, func(r api.PreviewResult) previewed { return helmPreviewed(s.styles, r) })
	}
	v.commit = func(review bool) screen {
		in := in
		in.Review = review
		return newProgress(s, p, env, "Deploy", func(to int) tea.Cmd { return invoke(s, to, "", api.DeployWithGitOps, in) }, v.tg)
	}
	return v
}

// helmPreviewed shows a HelmRelease preview: the release and chart versions
// above the impact, and the manifests the chart renders, old against new,
// below the values diff.
func helmPreviewed(st Styles, r api.PreviewResult) previewed {
	h := r.Helm
	if h == nil {
		return previewed{res: r}
	}
	line := st.Label.Render("helm release ") + h.Namespace + "/" + h.Release + st.Label.Render("  chart ") + h.Chart + " " + h.FromVersion
	if h.ToVersion != h.FromVersion {
		line += " → " + h.ToVersion
	}
	line += st.Muted.Render(fmt.Sprintf("  rendered +%d -%d", h.RenderedSummary.Additions, h.RenderedSummary.Deletions))
	if h.RenderedDiff != "" {
		r.Diff += "\n# rendered by the chart, deployed values against new\n" + h.RenderedDiff
	}
	return previewed{res: r, extra: []string{line}}
}

func (v *previewScreen) title() string { return "Preview" }
func (v *previewScreen) scope() scope {
	return scope{project: v.p.Name, env: v.env.Name, cluster: v.s.names.of(pickCluster, v.env.ClusterID)}
}
func (v *previewScreen) bindings() []key.Binding {
	k := v.s.keys
	back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the form"))
	if v.res == nil {
		return []key.Binding{back}
	}
	confirm := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "commit & "+v.what))
	if len(v.tg.problems(v.s)) > 0 || v.hasServerProblem() {
		confirm.SetHelp("enter", "commit anyway")
	}
	return []key.Binding{confirm, v.s.keys.Review, back, k.Up, k.Down}
}

func (v *previewScreen) init() tea.Cmd {
	return tea.Batch(v.ld.start("previewing", v.load()), v.tg.load(v.s, v.sid))
}

func (v *previewScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if v.resize(msg) {
		return v, nil
	}
	if ok, cmd := v.tg.absorb(v.s, v.sid, msg); ok {
		return v, cmd
	}
	switch msg := msg.(type) {
	case doneMsg[previewed]:
		if r, ok := settle(&v.ld, msg); ok {
			v.res, v.extra = &r.res, r.extra
			v.diff = v.s.hl.lines("diff", r.res.Diff)
		}
	case themeMsg:
		if v.res != nil {
			v.diff = v.s.hl.lines("diff", v.res.Diff)
		}
	case tea.KeyPressMsg:
		if (msg.String() == "enter" || key.Matches(msg, v.s.keys.Review)) && v.res != nil && v.ld.busy == "" {
			// The progress takes the place of the form and the preview:
			// esc from it goes back to the environment.
			return v, replaceTop(v.commit(msg.String() != "enter"), 2)
		}
		if v.res != nil {
			v.scroll = scrollBy(v.s.keys, msg, v.scroll, len(v.diff), max(1, v.h-len(v.panel(v.s.styles, v.w))))
		}
	}
	return v, nil
}

// hasServerProblem reports a preview warning that nothing will apply.
func (v *previewScreen) hasServerProblem() bool {
	if v.res == nil {
		return false
	}
	for _, w := range v.res.Warnings {
		if strings.HasPrefix(w, "nothing will apply this commit") {
			return true
		}
	}
	return false
}

func (v *previewScreen) view(w, h int) string {
	st := v.s.styles
	head := st.Header.Render("Preview for " + v.env.Name)
	switch {
	case v.res == nil && v.ld.err != nil:
		l := append([]string{head, ""}, errLines(st, v.ld.err, w, max(1, h-4))...)
		l = append(l, "", st.Muted.Render("Nothing was committed. esc: back to the form to change it."))
		return clipLines(strings.Join(l, "\n"), w, h)
	case v.res == nil:
		return head + "\n" + st.Muted.Render("computing the diff…")
	}
	panel := v.panel(st, w)
	body := window(v.diff, v.scroll, w, max(1, h-len(panel)))
	return clipLines(strings.Join(panel, "\n")+"\n"+body, w, h)
}

// panel is the preview's head: the workload, the counts, the impact, the
// warnings and what would keep Flux from applying the commit.
func (v *previewScreen) panel(st Styles, w int) []string {
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
	panel = append(panel, v.extra...)
	for _, c := range im.ImmutableChanges {
		panel = append(panel, st.Error.Render("immutable field: "+c))
	}
	wrap := func(sty lipgloss.Style, text string) {
		for _, l := range strings.Split(ansi.Wrap(text, max(20, w-2), " "), "\n") {
			panel = append(panel, sty.Render(l))
		}
	}
	for _, wn := range r.Warnings {
		wrap(st.Warn, "⚠ "+words(wn))
	}
	for _, p := range v.tg.problems(v.s) {
		if !p.server {
			wrap(st.Warn, "⚠ "+p.lead()+p.what+"; "+p.todo)
		}
	}
	hint := "enter: commit and " + v.what + " · b: push to a review branch instead · esc: back"
	if len(v.tg.problems(v.s)) > 0 || v.hasServerProblem() {
		hint = "enter: commit anyway · b: push to a review branch instead · esc: back"
	}
	return append(panel, st.Muted.Render(hint), "")
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return orDash(s)
}
