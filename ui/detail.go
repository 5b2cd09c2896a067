package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
)

// detailScreen shows one resource: conditions, events, revisions and the
// chain of why it is not ready.
type detailScreen struct {
	base
	v      api.ResourceView
	d      *api.ResourceDetail
	scroll int
}

func newDetail(s *session, v api.ResourceView) *detailScreen {
	return &detailScreen{base: newBase(s), v: v}
}

func (d *detailScreen) title() string { return d.v.Name }
func (d *detailScreen) bindings() []key.Binding {
	k := d.s.keys
	return []key.Binding{k.Up, k.Down, k.YAML, k.Sync, k.Edit, k.Refresh}
}

func (d *detailScreen) init() tea.Cmd {
	d.working = "loading " + d.v.Name
	return invoke(d.s, d.sid, "", api.GetGitOpsResource, api.IDInput{ID: d.v.ID})
}

func (d *detailScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d.resize(msg) {
		return d, nil
	}
	switch msg := msg.(type) {
	case doneMsg[api.ResourceDetail]:
		d.working = ""
		if msg.err != nil {
			return d, fail(msg.err)
		}
		v := msg.val
		d.d = &v
	case doneMsg[api.SyncResult]:
		d.working = ""
		if msg.err != nil {
			return d, fail(msg.err)
		}
		return d, tea.Batch(notify("sync "+d.v.Name+": "+msg.val.Message), d.init())
	case statusMsg:
		if msg.Resource.ID == d.v.ID && d.working == "" {
			return d, d.init()
		}
	case tea.KeyPressMsg:
		k := d.s.keys
		switch {
		case key.Matches(msg, k.YAML):
			det := api.ResourceDetail{ResourceView: d.v}
			if d.d != nil {
				det = *d.d
			}
			ys := newYAMLScreen(d.s, det.ResourceView)
			ys.text = resourceYAML(det)
			return d, push(ys)
		case key.Matches(msg, k.Sync):
			d.working = "syncing " + d.v.Name
			return d, invoke(d.s, d.sid, "", api.TriggerSync, api.TriggerSyncInput{ID: d.v.ID})
		case key.Matches(msg, k.Edit):
			if d.d != nil {
				return d, push(newEditResource(d.s, d.sid, *d.d))
			}
			return d, push(newEditLoader(d.s, d.v))
		case key.Matches(msg, k.Refresh):
			return d, d.init()
		default:
			d.scroll = scrollKeys(d.s.keys, msg, d.scroll, d.h)
		}
	}
	return d, nil
}

func (d *detailScreen) view(w, h int) string {
	st := d.s.styles
	if d.d == nil {
		return st.Header.Render(d.v.Name) + "\n" + st.Muted.Render("loading…")
	}
	r := d.d
	var l []string
	kind := "Kustomization"
	if r.Type == model.ResourceHelm {
		kind = "HelmRelease"
	}
	status := r.Status
	l = append(l, st.Header.Render(fmt.Sprintf("%s %s/%s", kind, r.Namespace, r.Name))+"  "+st.statusStyle(status).Render(status))
	if r.Environment.Name != "" {
		l = append(l, st.Label.Render("environment ")+r.Environment.Name+st.Label.Render("  cluster ")+r.Environment.ClusterID)
	}
	if r.Repository.FullName != "" {
		l = append(l, st.Label.Render("repository  ")+r.Repository.FullName+st.Muted.Render(" "+r.Repository.URL))
	}
	applied, attempted := r.LastAppliedRevision, r.LastAttemptedRevision
	l = append(l, "", st.Header.Render("Revisions"),
		"  applied    "+orDash(applied),
		"  attempted  "+orDash(attempted))
	if r.SourceRef != "" {
		l = append(l, "  source     "+r.SourceRef)
	}
	if len(r.DependsOn) > 0 {
		l = append(l, "  dependsOn  "+strings.Join(r.DependsOn, ", "))
	}
	if r.Suspended {
		l = append(l, "  "+st.Info.Render("suspended"))
	}
	if r.LiveErr != "" {
		l = append(l, "", st.Error.Render("live: "+oneLine(r.LiveErr)))
	}
	if len(r.Chain) > 0 {
		l = append(l, "", st.Header.Render("Why not ready"))
		for i, c := range r.Chain {
			l = append(l, "  "+strings.Repeat("  ", i)+st.Warn.Render("→ ")+oneLine(c))
		}
	}
	l = append(l, "", st.Header.Render("Conditions"))
	if len(r.Conditions) == 0 {
		l = append(l, st.Muted.Render("  none"))
	} else {
		for _, c := range r.Conditions {
			l = append(l, fmt.Sprintf("  %s %s %s %s", pad(c.Type, 12), st.statusStyle(string(c.Status)).Render(pad(string(c.Status), 7)),
				pad(c.Reason, 22), st.Muted.Render(oneLine(c.Message))))
		}
	}
	l = append(l, "", st.Header.Render("Events"))
	if len(r.Events) == 0 {
		l = append(l, st.Muted.Render("  none"))
	}
	now := d.s.now()
	for _, e := range r.Events {
		sty := st.Muted
		if e.Type == "Warning" {
			sty = st.Warn
		}
		l = append(l, fmt.Sprintf("  %s %s %s %s", pad(age(now, e.Timestamp), 4), sty.Render(pad(e.Type, 8)), pad(e.Reason, 20), oneLine(e.Message)))
	}
	return visible(l, &d.scroll, w, h)
}

// yamlScreen shows a resource's YAML highlighted by chroma.
type yamlScreen struct {
	textScreen
	v api.ResourceView
}

func newYAMLScreen(s *session, v api.ResourceView) *yamlScreen {
	y := &yamlScreen{textScreen: textScreen{base: newBase(s), name: "YAML " + v.Name, lang: "yaml"}, v: v}
	return y
}

func (y *yamlScreen) init() tea.Cmd {
	if y.text != "" {
		return nil
	}
	y.working = "loading " + y.v.Name
	return invoke(y.s, y.sid, "", api.GetGitOpsResource, api.IDInput{ID: y.v.ID})
}

func (y *yamlScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if d, ok := msg.(doneMsg[api.ResourceDetail]); ok {
		y.working = ""
		if d.err != nil {
			y.text = resourceYAML(api.ResourceDetail{ResourceView: y.v})
			return y, fail(d.err)
		}
		y.text = resourceYAML(d.val)
		return y, nil
	}
	_, cmd := y.textScreen.update(msg)
	return y, cmd
}

func (y *yamlScreen) view(w, h int) string {
	if y.text == "" {
		return y.s.styles.Muted.Render("loading…")
	}
	return y.textScreen.view(w, h)
}

// newEditResource edits a resource's main settings; the change is sent as a
// JSON merge patch through gitops.updateGitOpsResource.
func newEditResource(s *session, parent int, v api.ResourceDetail) screen {
	var cfg api.ResourceConfig
	if len(v.Config) > 0 {
		_ = json.Unmarshal(v.Config, &cfg)
	}
	fields := []field{
		textIn("interval", "interval", cfg.Interval, "5m", checkDuration),
		textIn("timeout", "timeout", cfg.Timeout, "", checkDuration),
		textIn("retryInterval", "retryInterval", cfg.RetryInterval, "", checkDuration),
	}
	if v.Type == model.ResourceHelm {
		fields = append(fields,
			textIn("chartName", "chartName", cfg.ChartName, "", nonEmpty(nil)),
			textIn("chartVersion", "chartVersion", cfg.ChartVersion, "*", nil))
	} else {
		fields = append(fields,
			textIn("path", "path", cfg.Path, "./k8s/overlays/…", checkGitPath),
			boolIn("prune", "prune", cfg.Prune == nil || *cfg.Prune),
			boolIn("wait", "wait", cfg.Wait != nil && *cfg.Wait))
	}
	orig := newForm(fields...)
	return newFormScreen(s, "Edit "+v.Name, "Changed settings are merged into the resource and re-applied.", newForm(fields...),
		func(f *form, to int) tea.Cmd {
			patch := map[string]any{}
			for _, fl := range f.fields {
				nv, ov := f.value(fl.key), orig.value(fl.key)
				if nv == ov {
					continue
				}
				switch {
				case fl.kind == boolField:
					patch[fl.key] = nv == "true"
				case nv == "":
					patch[fl.key] = nil
				default:
					patch[fl.key] = nv
				}
			}
			if len(patch) == 0 {
				return pop("nothing changed")
			}
			raw, err := json.Marshal(patch)
			if err != nil {
				return fail(err)
			}
			return invoke(s, to, "", api.UpdateGitOpsResource, api.UpdateResourceInput{ID: v.ID, Config: raw})
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.UpdateResult]).val
			return pop(fmt.Sprintf("updated %s: %s", r.Name, r.Status))
		})
}

// newCreateWizard asks for the type and name, then the type's settings.
func newCreateWizard(s *session, parent int, projectID, envID string) screen {
	f := newForm(
		choiceIn("type", "type", []string{model.ResourceKustomization, model.ResourceHelm}, model.ResourceKustomization),
		textIn("name", "name", "", "my-app", nonEmpty(checkDNSLabel)),
	)
	return newFormScreen(s, "Create resource (1/2)", "A Flux Kustomization applies a path of the repository; a HelmRelease installs a chart.", f,
		func(f *form, to int) tea.Cmd {
			return replace(newCreateStep2(s, parent, projectID, envID, f.value("type"), f.value("name")))
		}, nil)
}

func newCreateStep2(s *session, parent int, projectID, envID, typ, name string) screen {
	var fields []field
	if typ == model.ResourceHelm {
		fields = []field{
			textIn("chartName", "chartName", "", "podinfo", nonEmpty(nil)),
			textIn("chartVersion", "chartVersion", "", "6.x", nil),
			choiceIn("sourceType", "sourceType", api.SourceType("").Values(), string(api.SourceHelmRepository)),
			textIn("sourceURL", "repository URL", "", "https://charts.example.com", nil),
			textIn("interval", "interval", "", "env default", checkDuration),
			boolIn("createNamespace", "createNamespace", false),
		}
	} else {
		fields = []field{
			textIn("path", "path", "", "env gitPath", checkGitPath),
			boolIn("prune", "prune", true),
			boolIn("wait", "wait", false),
			textIn("interval", "interval", "", "env default", checkDuration),
			textIn("timeout", "timeout", "", "", checkDuration),
		}
	}
	return newFormScreen(s, "Create "+typ+" "+name+" (2/2)", "Empty fields take the environment's defaults.", newForm(fields...),
		func(f *form, to int) tea.Cmd {
			in := api.CreateResourceInput{ProjectID: projectID, EnvironmentID: envID, Name: name, Type: api.ResourceType(typ),
				Config: createConfig(f, typ)}
			return invoke(s, to, "", api.CreateGitOpsResource, in)
		},
		func(msg tea.Msg) tea.Cmd {
			r := msg.(doneMsg[api.ResourceSummary])
			r.tag = "created"
			r.to = parent
			return tea.Batch(pop(""), func() tea.Msg { return r })
		})
}

// editLoader reads a resource's config (lists carry none), then opens the
// edit form in its place.
type editLoader struct {
	base
	v api.ResourceView
}

func newEditLoader(s *session, v api.ResourceView) *editLoader {
	return &editLoader{base: newBase(s), v: v}
}

func (e *editLoader) title() string           { return "Edit " + e.v.Name }
func (e *editLoader) bindings() []key.Binding { return []key.Binding{e.s.keys.Cancel} }

func (e *editLoader) init() tea.Cmd {
	e.working = "loading " + e.v.Name
	return invoke(e.s, e.sid, "", api.GetGitOpsResource, api.IDInput{ID: e.v.ID})
}

func (e *editLoader) update(msg tea.Msg) (screen, tea.Cmd) {
	e.resize(msg)
	if d, ok := msg.(doneMsg[api.ResourceDetail]); ok {
		e.working = ""
		if d.err != nil {
			return e, tea.Batch(pop(""), fail(d.err))
		}
		return e, replace(newEditResource(e.s, 0, d.val))
	}
	return e, nil
}

func (e *editLoader) view(w, h int) string {
	return e.s.styles.Muted.Render("loading " + e.v.Name + "…")
}

// createConfig is the create wizard's second step as a resource config.
func createConfig(f *form, typ string) api.ResourceConfig {
	cfg := api.ResourceConfig{Interval: f.value("interval")}
	if typ == model.ResourceHelm {
		cfg.ChartName, cfg.ChartVersion = f.value("chartName"), f.value("chartVersion")
		cfg.SourceType = api.SourceType(f.value("sourceType"))
		if u := f.value("sourceURL"); u != "" {
			cfg.Source = &api.ChartSource{URL: u}
		}
		if f.value("createNamespace") == "true" {
			cfg.Install = &api.InstallConfig{CreateNamespace: new(true)}
		}
		return cfg
	}
	cfg.Path, cfg.Timeout = f.value("path"), f.value("timeout")
	cfg.Prune, cfg.Wait = new(f.value("prune") == "true"), new(f.value("wait") == "true")
	return cfg
}
