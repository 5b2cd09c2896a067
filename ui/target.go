package ui

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// target is what applies a deploy's commit: the environment's Flux
// Kustomizations with their settings, and its cluster as seen from here.
// The preview loads it to warn when nothing will apply the commit; the
// progress screen uses it to follow the commit and to know how long to
// wait.
type target struct {
	env model.Environment
	// ks are the environment's Kustomizations; cfg their settings by id.
	ks       []api.ResourceView
	ksLoaded bool
	cfg      map[string]api.ResourceConfig
	cluster  *api.ClusterStatus
}

// targetTag marks the target's loads among a screen's results.
const targetTag = "target"

// fluxMargin is added to a Kustomization's own timeout (or interval): the
// time for the source to fetch the commit first.
const fluxMargin = time.Minute

func newTarget(env model.Environment) *target {
	return &target{env: env, cfg: map[string]api.ResourceConfig{}}
}

// load lists the environment's Kustomizations and checks its cluster.
func (t *target) load(s *session, to int) tea.Cmd {
	return tea.Batch(
		invoke(s, to, targetTag, api.ListGitOpsResources, api.ListResourcesInput{ProjectID: t.env.ProjectID, EnvironmentID: t.env.ID,
			Type: api.TypeKustomization}),
		invoke(s, to, targetTag, api.GetCluster, api.ClusterGetInput{ID: t.env.ClusterID, Live: new(true)}))
}

// absorb takes a result of load (reporting whether msg was one) and
// returns the reads of the Kustomizations' settings.
func (t *target) absorb(s *session, to int, msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case doneMsg[[]api.ResourceView]:
		if msg.tag != targetTag {
			return false, nil
		}
		t.ksLoaded = msg.err == nil
		t.ks = t.ks[:0]
		var cmds []tea.Cmd
		for _, r := range msg.val {
			if r.Type == model.ResourceKustomization && r.DeletedAt == nil {
				t.ks = append(t.ks, r)
				cmds = append(cmds, invoke(s, to, targetTag, api.GetGitOpsResource, api.IDInput{ID: r.ID}))
			}
		}
		return true, tea.Batch(cmds...)
	case doneMsg[api.ClusterView]:
		if msg.tag == targetTag && msg.err == nil && msg.val.Status != nil {
			st := *msg.val.Status
			t.cluster = &st
		}
		return msg.tag == targetTag, nil
	case doneMsg[api.ResourceDetail]:
		if msg.tag == targetTag && msg.err == nil {
			var c api.ResourceConfig
			if json.Unmarshal(msg.val.Config, &c) == nil {
				t.cfg[msg.val.ID] = c
			}
		}
		return msg.tag == targetTag, nil
	}
	return false, nil
}

// problem is a reason nothing will apply the commit (or gitopstui cannot
// follow it), and what to do.
type problem struct {
	what, todo string
	// unfollowed says Flux may apply the commit but it cannot be followed.
	unfollowed bool
	// server says the preview's own warnings report it already.
	server bool
}

// problems are the reasons nothing will apply (or nobody can follow) the
// commit: the cluster out of reach or without Flux, no Kustomization, all
// of them suspended, none applying the environment's path.
func (t *target) problems(s *session) []problem {
	var out []problem
	cl := s.names.of(pickCluster, t.env.ClusterID)
	if c := t.cluster; c != nil && !c.Reachable {
		out = append(out, problem{unfollowed: true, what: "cluster " + cl + " is unreachable from here (" + stripCode(firstLine(c.Error)) + ")",
			todo: "check the cluster (1, then h on " + cl + "); Flux may still apply the commit, but gitopstui cannot follow it"})
	} else if c != nil && !c.FluxInstalled {
		out = append(out, problem{what: "Flux is not installed on cluster " + cl, todo: "install it: 1, then i on " + cl})
	}
	if !t.ksLoaded {
		return out
	}
	live := t.applying()
	switch {
	case len(t.ks) == 0:
		out = append(out, problem{server: true, what: "environment " + t.env.Name + " has no Flux Kustomization",
			todo: "create one: enter on the environment, then c"})
	case len(live) == 0:
		out = append(out, problem{server: true, what: "every Kustomization of " + t.env.Name + " is suspended (" + t.names(t.ks) + ")",
			todo: "resume one: enter on the environment, then T on it"})
	case len(t.covering(live)) == 0:
		out = append(out, problem{what: "no Kustomization applies " + t.gitPath() + " (" + t.paths(live) + ")",
			todo: "point one at the path (e on it) or change the environment's path (o)"})
	}
	return out
}

// applying are the Kustomizations that are not suspended.
func (t *target) applying() []api.ResourceView {
	var out []api.ResourceView
	for _, r := range t.ks {
		if !r.Suspended && r.Status != model.StatusSuspended {
			out = append(out, r)
		}
	}
	return out
}

// covering are those of rs whose path holds the environment's path (or
// whose settings are not read yet).
func (t *target) covering(rs []api.ResourceView) []api.ResourceView {
	var out []api.ResourceView
	for _, r := range rs {
		c, ok := t.cfg[r.ID]
		p := cleanPath(c.Path)
		if !ok || c.Path == "" || p == "." || p == t.gitPath() || strings.HasPrefix(t.gitPath(), p+"/") {
			out = append(out, r)
		}
	}
	return out
}

func (t *target) gitPath() string { return cleanPath(t.env.GitOpsConfig.GitPath) }

func cleanPath(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (t *target) names(rs []api.ResourceView) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return strings.Join(out, ", ")
}

func (t *target) paths(rs []api.ResourceView) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name + " applies " + orDash(t.cfg[r.ID].Path)
	}
	return strings.Join(out, "; ")
}

// wait is how long to wait for Flux and why: the longest of the applying
// Kustomizations' own timeout (else their interval, else the
// environment's) plus a margin for the source to fetch.
func (t *target) wait() (time.Duration, string) {
	best, why := time.Duration(0), ""
	for _, r := range t.covering(t.applying()) {
		c := t.cfg[r.ID]
		d, what := parseDur(c.Timeout), "timeout"
		if d == 0 {
			d, what = parseDur(c.Interval), "interval"
		}
		if d > best {
			best, why = d, fmt.Sprintf("%s's %s %s", r.Name, what, shortDur(d))
		}
	}
	if best == 0 {
		best = parseDur(t.env.GitOpsConfig.SyncInterval)
		why = "the environment's interval " + shortDur(best)
	}
	if best == 0 {
		best, why = 5*time.Minute, "Flux's default interval 5m"
	}
	return best + fluxMargin, why + " + " + shortDur(fluxMargin) + " to fetch"
}

// shortDur writes a duration as Flux does: 90s is 1m30s, 5m is 5m.
func shortDur(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if sec > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", sec)
	}
	return b.String()
}

func parseDur(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0
	}
	return d
}

// lead is how a preview warning of p begins.
func (p problem) lead() string {
	if p.unfollowed {
		return "gitopstui cannot follow this commit: "
	}
	return "nothing will apply this commit: "
}
