package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// The deploy loop closes: the progress screen commits the change and
// follows the commit through Flux's stages — pushed, fetched (a
// Kustomization attempted it), applied, healthy (the deployment
// succeeded) — from status events, with deployments.get and the
// environment's resources polled as a fallback. It stops waiting when
// the deployment ends, when nothing will apply the commit, or after the
// resource's own timeout (else its interval) plus a margin; then it says
// what to check, and the keys are the user's again.

type (
	// pollMsg asks the progress screen to poll.
	pollMsg struct{ to int }
	// deadlineMsg tells the progress screen its wait may be over.
	deadlineMsg struct{ to int }
)

func (p pollMsg) target() int     { return p.to }
func (d deadlineMsg) target() int { return d.to }

// pollTag marks the progress screen's polled resource lists.
const pollTag = "poll"

// stage is how far the commit got.
type stage int

const (
	stageNone stage = iota
	stagePushed
	stageFetched
	stageApplied
	stageHealthy
)

var stageNames = [...]string{"", "pushed", "fetched", "applied", "healthy"}

// progressScreen commits the change and follows the commit through Flux.
type progressScreen struct {
	base
	p   model.Project
	env model.Environment
	// run commits (a deploy, promotion or rollback) for the screen it is
	// given, answering a doneMsg[api.DeployResult]; what names it.
	run     func(to int) tea.Cmd
	what    string
	tg      *target
	result  *api.DeployResult
	failure *model.Error // the commit failed
	reached stage
	by      string // the Kustomization that got the furthest
	dep     *model.Deployment
	started time.Time
	limit   time.Duration
	why     string
	late    bool      // timed out
	blocked []problem // nothing applies the commit
}

func newProgress(s *session, p model.Project, env model.Environment, what string, run func(to int) tea.Cmd, tg *target) *progressScreen {
	if tg == nil {
		tg = newTarget(env)
	}
	return &progressScreen{base: newBase(s), p: p, env: env, tg: tg, what: what, run: run}
}

func (g *progressScreen) title() string { return g.what }
func (g *progressScreen) scope() scope {
	return scope{project: g.p.Name, env: g.env.Name, cluster: g.s.names.of(pickCluster, g.env.ClusterID)}
}
func (g *progressScreen) ids() (string, string) { return g.p.ID, g.env.ID }
func (g *progressScreen) bindings() []key.Binding {
	k := g.s.keys
	back := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to the environment"))
	res := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "resources"))
	return []key.Binding{back, res, k.History}
}

func (g *progressScreen) init() tea.Cmd {
	g.working = "committing"
	g.started = g.s.now()
	cmds := []tea.Cmd{g.run(g.sid)}
	if !g.tg.ksLoaded {
		cmds = append(cmds, g.tg.load(g.s, g.sid))
	}
	return tea.Batch(cmds...)
}

// finished reports that the screen no longer waits.
func (g *progressScreen) finished() bool {
	return g.failure != nil || g.late || len(g.blocked) > 0 || g.result != nil && g.result.ReviewBranch != "" ||
		(g.dep != nil && (g.dep.Status == model.DeploySuccess || g.dep.Status == model.DeployFailed))
}

func (g *progressScreen) tick(every time.Duration, msg tea.Msg) tea.Cmd {
	if g.s.static || g.finished() {
		return nil
	}
	return tea.Tick(every, func(time.Time) tea.Msg { return msg })
}

func (g *progressScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if g.resize(msg) {
		return g, nil
	}
	if ok, cmd := g.tg.absorb(g.s, g.sid, msg); ok {
		return g, tea.Batch(cmd, g.check())
	}
	switch msg := msg.(type) {
	case doneMsg[api.DeployResult]:
		return g, g.committed(msg)
	case statusMsg:
		if d := msg.Deployment; d != nil && g.result != nil && d.ID == g.result.DeploymentID {
			g.observeDeployment(*d)
		}
		g.observe(msg.Resource.EnvironmentID, msg.Resource.Type, msg.Resource.Name, msg.Resource.LastAttemptedRevision, msg.Resource.LastAppliedRevision)
		return g, g.settled()
	case pollMsg:
		if g.result == nil || g.finished() {
			return g, nil
		}
		return g, tea.Batch(
			invoke(g.s, g.sid, pollTag, api.ListGitOpsResources, api.ListResourcesInput{ProjectID: g.env.ProjectID, EnvironmentID: g.env.ID}),
			invoke(g.s, g.sid, "", api.GetDeployment, api.IDInput{ID: g.result.DeploymentID}))
	case doneMsg[[]api.ResourceView]:
		for _, r := range msg.val {
			g.observe(r.EnvironmentID, r.Type, r.Name, r.LastAttemptedRevision, r.LastAppliedRevision)
		}
		return g, g.settled()
	case doneMsg[model.Deployment]:
		if msg.err == nil {
			g.observeDeployment(msg.val)
		}
		return g, tea.Batch(g.settled(), g.tick(2*time.Second, pollMsg{g.sid}))
	case deadlineMsg:
		return g, g.deadline()
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, g.s.keys.History):
			return g, push(newDeployments(g.s, g.p.ID, g.env.ID))
		case msg.String() == "enter":
			return g, push(newResources(g.s, scopeInfo{scope: g.scope(), projectID: g.p.ID, envID: g.env.ID, clusterID: g.env.ClusterID}, g.p.Name, g.env.Name))
		}
	}
	return g, nil
}

// committed takes the commit's result and starts waiting for Flux.
func (g *progressScreen) committed(msg doneMsg[api.DeployResult]) tea.Cmd {
	if msg.err != nil {
		g.working = ""
		g.failure = model.AsError(msg.err)
		return nil
	}
	r := msg.val
	g.result, g.reached = &r, stagePushed
	g.working = "waiting for Flux"
	g.limit, g.why = g.tg.wait()
	if cmd := g.check(); cmd != nil {
		return cmd
	}
	return tea.Batch(notify("committed "+shortSHA(r.CommitSha)+" to "+r.Branch),
		g.tick(2*time.Second, pollMsg{g.sid}), g.tick(g.limit, deadlineMsg{g.sid}))
}

// check stops waiting when nothing will apply the commit.
func (g *progressScreen) check() tea.Cmd {
	if g.result == nil || g.finished() || g.reached > stagePushed {
		return nil
	}
	g.limit, g.why = g.tg.wait()
	if ps := g.tg.problems(g.s); len(ps) > 0 {
		g.blocked, g.working = ps, ""
		return notify("committed " + shortSHA(g.result.CommitSha) + "; not waiting for Flux")
	}
	return nil
}

// observe moves the stage on from a Kustomization's revisions.
func (g *progressScreen) observe(envID, typ, name, attempted, applied string) {
	if g.result == nil || envID != g.env.ID || typ != model.ResourceKustomization {
		return
	}
	sha := g.result.CommitSha
	st := stageNone
	switch {
	case revSHA(applied) == sha:
		st = stageApplied
	case revSHA(attempted) == sha:
		st = stageFetched
	}
	if st > g.reached {
		g.reached, g.by = st, name
	}
}

func (g *progressScreen) observeDeployment(d model.Deployment) {
	g.dep = &d
	for st := stageFetched; st <= stageApplied; st++ {
		if d.Stage(stageNames[st]) != nil && st > g.reached {
			g.reached = st
		}
	}
	switch {
	case d.Status == model.DeploySuccess:
		g.reached = stageHealthy
	case d.Status == model.DeployFailed && g.reached < stageFetched:
		g.reached = stageFetched // Flux fails a commit it attempted
	}
}

// settled stops the spinner once the deployment ended.
func (g *progressScreen) settled() tea.Cmd {
	if g.dep == nil || g.working == "" || !g.finished() {
		return nil
	}
	g.working = ""
	return notify("deployment " + g.dep.Status)
}

// deadline ends the wait once the limit has passed (a tick may come early
// when the limit grew while the settings loaded).
func (g *progressScreen) deadline() tea.Cmd {
	if g.result == nil || g.finished() {
		return nil
	}
	if left := g.limit - g.s.now().Sub(g.started); left > 0 {
		return g.tick(left, deadlineMsg{g.sid})
	}
	g.late, g.working = true, ""
	return nil
}

// revSHA takes the commit out of a Flux revision ("main@sha1:abc…").
func revSHA(rev string) string {
	if i := strings.LastIndex(rev, ":"); i >= 0 && strings.Contains(rev, "@") {
		return rev[i+1:]
	}
	return rev
}

func (g *progressScreen) view(w, h int) string {
	st := g.s.styles
	l := []string{st.Header.Render(g.what + " to " + g.env.Name + " (" + g.p.Name + ")"), ""}
	for s := stagePushed; s <= stageHealthy; s++ {
		l = append(l, g.stageLine(st, s))
		if s == stagePushed && g.result != nil {
			l = append(l, g.pushed(st)...)
			if g.result.ReviewBranch != "" {
				break // Flux sees the commit once the review is merged
			}
		}
	}
	l = append(l, "")
	for _, o := range g.outcome(st) {
		l = append(l, strings.Split(ansi.Wrap(o, max(20, w-1), " "), "\n")...)
	}
	return clipLines(strings.Join(l, "\n"), w, h)
}

// stageLine is one stage: ✓ reached, … waited for, ✗ where it stopped.
func (g *progressScreen) stageLine(st Styles, s stage) string {
	name := pad(stageNames[s], 8)
	detail := ""
	switch {
	case s == stagePushed:
		detail = "commit and push the change"
	case s <= g.reached && g.by != "" && s < stageHealthy:
		detail = g.by + " " + map[stage]string{stageFetched: "got", stageApplied: "applied"}[s] + " the commit"
	case s == stageHealthy && g.dep != nil:
		detail = "deployment " + st.statusStyle(g.dep.Status).Render(g.dep.Status)
	}
	if at := stageTime(g.dep, stageNames[s]); at != "" {
		detail += st.Muted.Render("  " + at)
	}
	next := s == g.reached+1
	switch {
	case s <= g.reached:
		return st.OK.Render("✓ ") + name + detail
	case next && (g.failure != nil || g.late || (g.dep != nil && g.dep.Status == model.DeployFailed)):
		return st.Error.Render("✗ ") + name + detail
	case next && len(g.blocked) > 0:
		return st.Error.Render("✗ ") + name + st.Muted.Render("not waited for (below)")
	case next:
		return st.Warn.Render("… ") + name + detail
	}
	return st.Muted.Render("· " + name + detail)
}

// pushed is the commit's details.
func (g *progressScreen) pushed(st Styles) []string {
	r := g.result
	l := []string{"          " + st.Label.Render("commit ") + shortSHA(r.CommitSha) + st.Label.Render(" on ") + r.Branch +
		st.Muted.Render(fmt.Sprintf(" (%d attempt(s))", r.Attempts))}
	if r.GitURL != "" {
		l = append(l, "          "+st.Info.Render(r.GitURL))
	}
	if r.Message != "" {
		l = append(l, "          "+st.Muted.Render(words(r.Message)))
	}
	return l
}

// outcome says how the deploy ended, or what is awaited and for how long,
// and what to check when it did not succeed.
func (g *progressScreen) outcome(st Styles) []string {
	ks := orDash(g.by)
	if ks == "-" && len(g.tg.ks) > 0 {
		ks = g.tg.ks[0].Name
	}
	switch {
	case g.failure != nil:
		return []string{st.Error.Render("Nothing was committed: ") + string(g.failure.Code) + ": " + words(g.failure.Message),
			st.Muted.Render("esc: back to the environment, D to try again.")}
	case g.result != nil && g.result.ReviewBranch != "":
		out := []string{st.OK.Render("Pushed for review to " + g.result.ReviewBranch + ", not to " + g.env.Name + "'s branch.")}
		if g.result.CompareURL != "" {
			out = append(out, st.Label.Render("open ")+st.Info.Render(g.result.CompareURL))
		}
		return append(out, st.Muted.Render("The deployment stays pending in the history (H) until Flux applies the merged commit."))
	case len(g.blocked) > 0:
		out := []string{st.Error.Render("Not waiting for Flux:")}
		for _, p := range g.blocked {
			out = append(out, "✗ "+p.what, st.Muted.Render("  → "+p.todo))
		}
		return append(out, st.Muted.Render("The commit stays in Git; the history (H) shows it once Flux reports."))
	case g.dep != nil && g.dep.Status == model.DeploySuccess:
		out := []string{st.OK.Render("Deployed.")}
		if g.dep.GitCommitURL != "" {
			out = append(out, st.Label.Render("commit ")+st.Info.Render(g.dep.GitCommitURL))
		}
		return out
	case g.dep != nil && g.dep.Status == model.DeployFailed:
		return []string{st.Error.Render("Deployment failed: ") + oneLine(g.dep.ErrorMessage),
			st.Muted.Render("Check why " + ks + " is not ready: enter for the resources, then d on " + ks + " for its conditions and events.")}
	case g.late:
		return []string{st.Error.Render(fmt.Sprintf("Not %s within %s (%s); stopped waiting.", stageNames[g.reached+1], shortDur(g.limit), g.why)),
			st.Muted.Render(g.lateTodo(ks)),
			st.Muted.Render("The deployment stays pending in the history (H) until Flux reports.")}
	case g.result != nil:
		return []string{st.Muted.Render(fmt.Sprintf("Waiting up to %s (%s).", shortDur(g.limit), g.why))}
	}
	return nil
}

// lateTodo is what to check when the commit stopped before a stage.
func (g *progressScreen) lateTodo(ks string) string {
	switch g.reached {
	case stagePushed:
		return "Flux has not fetched the commit: check that the repository's GitRepository is ready and follows branch " +
			g.result.Branch + " (enter for the resources, then d on " + ks + " shows its source)."
	case stageFetched:
		return "Flux fetched the commit but has not applied it: check " + ks + "'s conditions and events (enter, then d on " + ks + ")."
	}
	return "Flux applied the commit but the workloads are not healthy: check their pods and " + ks + "'s health checks (enter, then d on " + ks + ")."
}
