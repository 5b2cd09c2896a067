package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// Promotion: P on an environment picks the environment to promote from and
// what to copy; the preview shows, per field, what the source runs that
// this environment does not, with the diff and impact of the commit; enter
// pushes it (b to a review branch) and the progress follows it through Flux.

// newPromoteForm asks where to promote env from, generated from
// environments.promote's declaration.
func newPromoteForm(s *session, p model.Project, env model.Environment) screen {
	fill := func(in *api.PromoteInput) { in.ToEnvironmentID = env.ID }
	f := inputForm(api.Promote, formSpec{
		only: []string{"fromEnvironmentId", "fields", "workload", "commitMessage"},
		fields: map[string]fieldOpt{
			"fromEnvironmentId": {label: "from", pick: pickEnv, required: true},
			"fields":            {label: "copy", value: "image", hint: "image, replicas, env, resources"},
			"workload":          {hint: "every workload both environments build"},
			"commitMessage":     {label: "message", hint: "promote(<from> → " + env.Name + "): …"},
		},
	}, fill)
	f.fields[0].pick.project, f.fields[0].pick.not = p.ID, env.ID
	return newFormScreen(s, "Promote to "+env.Name, "Preview first: nothing is committed before you confirm.", f,
		func(f *form, to int) tea.Cmd {
			in, _ := formInput(f, fill)
			return push(newPromotionPreview(s, p, env, in))
		}, nil)
}

// newPromotionPreview is the preview screen of a promotion.
func newPromotionPreview(s *session, p model.Project, env model.Environment, in api.PromoteInput) *previewScreen {
	v := &previewScreen{base: newBase(s), p: p, env: env, tg: newTarget(env), what: "promote"}
	v.load = func() tea.Cmd {
		return invokeAs(s, v.sid, api.PreviewPromotion, in.PromotionInput, func(r api.PromotionPreview) previewed {
			return previewed{res: r.PreviewResult, extra: differenceLines(s.styles, s.names.of(pickEnv, r.FromEnvironmentID), env.Name, r)}
		})
	}
	v.commit = func(review bool) screen {
		in := in
		in.Review = review
		return newProgress(s, p, env, "Promote", func(to int) tea.Cmd {
			return invokeAs(s, to, api.Promote, in, func(r api.PromoteResult) api.DeployResult { return r.DeployResult })
		}, v.tg)
	}
	return v
}

// differenceLines shows what the source runs that the target does not.
func differenceLines(st Styles, from, to string, r api.PromotionPreview) []string {
	if len(r.Differences) == 0 {
		return []string{st.OK.Render(fmt.Sprintf("%s already runs what %s runs at %s.", to, from, shortSHA(r.SourceRevision)))}
	}
	out := []string{st.Label.Render(fmt.Sprintf("%s (%s) → %s", from, shortSHA(r.SourceRevision), to))}
	for _, d := range r.Differences {
		what := string(d.Field)
		if d.Name != "" {
			what += " " + d.Name
		}
		where := d.Workload
		if d.Container != "" {
			where += "/" + d.Container
		}
		out = append(out, fmt.Sprintf("  %s %s: %s %s %s", st.Muted.Render(where), what,
			st.Error.Render(orNone(d.Target)), st.Muted.Render("→"), st.OK.Render(orNone(d.Source))))
	}
	return out
}

func orNone(v *string) string {
	if v == nil {
		return "(unset)"
	}
	return *v
}

// invokeAs invokes p and delivers its result converted, as a screen
// expecting conv's type wants it (a promotion's result to the progress
// screen that follows deploys).
func invokeAs[I, O, R any](s *session, to int, p api.Proc[I, O], in I, conv func(O) R) tea.Cmd {
	call := invoke(s, to, "", p, in)
	return func() tea.Msg {
		d := call().(doneMsg[O])
		out := doneMsg[R]{to: d.to, tag: d.tag, err: d.err}
		if d.err == nil {
			out.val = conv(d.val)
		}
		return out
	}
}
