package gitops

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/catalog"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/services/fluxobj"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

// resourceContext is what applying a resource needs.
type resourceContext struct {
	env  model.Environment
	repo model.Repository
	k    kube.Kube
	// source is the GitRepository of the environment's branch (withSource sets it).
	source string
}

// loadResourceContext loads an environment, its repository (repoID, else
// the environment's: envRepository) enabled for GitOps, and its cluster with
// Flux installed.
func (s *GitOps) loadResourceContext(ctx context.Context, envID, repoID string) (resourceContext, error) {
	var rc resourceContext
	env, err := s.catalog.Environment(envID)
	if err != nil {
		return rc, catalog.RefErr("environmentId", "environment", envID)
	}
	rc.env = env
	if repoID != "" {
		rc.repo, err = s.catalog.Repository(repoID)
	} else {
		rc.repo, err = s.EnvRepository(env, "repositoryId")
	}
	if err != nil {
		return rc, err
	}
	if !rc.repo.GitOpsConfig.Enabled {
		return rc, model.Errorf(model.CodeGitOpsNotEnabled, "repository %s is not enabled for GitOps: run repositories.enableGitOps", rc.repo.ID).
			WithDetail("repositoryId", rc.repo.ID)
	}
	k, c, err := s.kube.For(env.ClusterID)
	if err != nil {
		return rc, err
	}
	if err := kube.RequireFlux(ctx, k, c); err != nil {
		return rc, err
	}
	rc.k = k
	return rc, nil
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// applyResource server-side applies a resource's objects; the API server's
// validation errors come back as BAD_REQUEST naming config fields.
func applyResource(ctx context.Context, r model.GitOpsResource, cfg api.ResourceConfig, rc resourceContext) error {
	obj, extra, err := buildObject(r, cfg, rc)
	if err != nil {
		return model.Wrap(model.CodeBadRequest, err, "build "+r.Type)
	}
	for _, o := range append(extra, obj) {
		if err := kube.Apply(ctx, rc.k.Dyn, o); err != nil {
			return configFieldError(err)
		}
	}
	return nil
}

// configFieldError renames the API server's spec.* field paths to the config.* input fields.
func configFieldError(err error) error {
	e := model.AsError(err)
	if e.Code != model.CodeBadRequest {
		return err
	}
	if fields, ok := e.Details["fields"].(map[string]any); ok {
		renamed := map[string]any{}
		for f, msg := range fields {
			f = strings.TrimPrefix(f, "spec.")
			switch {
			case strings.HasPrefix(f, "chart.spec.version"):
				f = "chartVersion"
			case strings.HasPrefix(f, "chart.spec.chart"):
				f = "chart"
			case strings.HasPrefix(f, "install.remediation"):
				f = "install" + strings.TrimPrefix(f, "install.remediation")
			case strings.HasPrefix(f, "upgrade.remediation"):
				f = "upgrade" + strings.TrimPrefix(f, "upgrade.remediation")
			}
			renamed["config."+f] = msg
		}
		e.Details["fields"] = renamed
	}
	return e
}

// createResource implements gitops.createGitOpsResource.
func (s *GitOps) createResource(ctx context.Context, in api.CreateResourceInput) (api.ResourceSummary, error) {
	rc, err := s.loadResourceContext(ctx, in.EnvironmentID, in.RepositoryID)
	if err != nil {
		return api.ResourceSummary{}, err
	}
	if rc.env.ProjectID != in.ProjectID {
		fe := model.FieldErrors{}
		fe.Add("environmentId", "environment "+rc.env.ID+" belongs to project "+rc.env.ProjectID)
		return api.ResourceSummary{}, fe.Err()
	}
	now := s.now()
	cfgJSON, _ := json.Marshal(in.Config)
	r := model.GitOpsResource{
		ID: ident.New("gr"), ProjectID: in.ProjectID, EnvironmentID: in.EnvironmentID, RepositoryID: rc.repo.ID,
		Name: in.Name, Namespace: cmp.Or(in.Namespace, cmp.Or(rc.repo.GitOpsConfig.FluxNamespace, fluxbundle.DefaultNamespace)), Type: string(in.Type),
		Config: cfgJSON, Status: model.StatusPending, Suspended: !rc.env.GitOpsConfig.AutoSync, CreatedAt: now, UpdatedAt: now,
	}
	if r.Suspended {
		r.Status = model.StatusSuspended
	}
	if err := s.checkResourceNameFree(r); err != nil {
		return api.ResourceSummary{}, err
	}
	err = s.withSource(ctx, rc, r.Namespace, func(rc resourceContext) error { return applyResource(ctx, r, in.Config, rc) })
	if err != nil {
		return api.ResourceSummary{}, err
	}
	if err := s.db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		return api.ResourceSummary{}, err
	}
	return api.ResourceSummary{ID: r.ID, Name: r.Name, Type: r.Type, Status: r.Status, CreatedAt: r.CreatedAt}, nil
}

// checkResourceNameFree refuses a name already used in the project's
// environment, or by another live resource in the same Flux namespace of the
// same cluster (they would be one object).
func (s *GitOps) checkResourceNameFree(r model.GitOpsResource) error {
	return s.db.View(func(tx *store.Tx) error {
		env, err := store.Environments.Get(tx, r.EnvironmentID)
		if err != nil {
			return err
		}
		live, _, err := store.Resources.List(tx, store.Query[model.GitOpsResource]{Index: "live"})
		if err != nil {
			return err
		}
		for _, o := range live {
			if o.ID == r.ID || o.Name != r.Name || fluxobj.ResourceGVR(o.Type) != fluxobj.ResourceGVR(r.Type) {
				continue
			}
			if o.EnvironmentID == r.EnvironmentID {
				return model.Errorf(model.CodeBadRequest, "environment %s already has a %s named %s (%s)", r.EnvironmentID, o.Type, r.Name, o.ID).
					WithDetail("fields", map[string]any{"name": "already used in this environment by " + o.ID})
			}
			oenv, err := store.Environments.Get(tx, o.EnvironmentID)
			if err == nil && oenv.ClusterID == env.ClusterID && o.Namespace == r.Namespace {
				return model.Errorf(model.CodeBadRequest, "%s %s/%s on cluster %s already belongs to environment %s (%s)", o.Type, o.Namespace, r.Name, env.ClusterID, o.EnvironmentID, o.ID).
					WithDetail("fields", map[string]any{"name": "already used on this cluster by " + o.ID})
			}
		}
		return nil
	})
}

// listResources implements gitops.listGitOpsResources, reading live status first.
func (s *GitOps) listResources(ctx context.Context, in api.ListResourcesInput) ([]api.ResourceView, error) {
	if err := s.watch.RefreshResources(ctx, in.ProjectID, in.EnvironmentID); err != nil {
		return nil, err
	}
	typ := string(in.Type)
	q := store.Query[model.GitOpsResource]{Index: "live"}
	switch {
	case in.EnvironmentID != "":
		q.Index, q.Value = "environment", in.EnvironmentID
	case in.ProjectID != "":
		q.Index, q.Value = "project", in.ProjectID
	case typ != "":
		q.Index, q.Value = "type", typ
	}
	q.Filter = func(r model.GitOpsResource) bool {
		return (typ == "" || r.Type == typ) && (in.ProjectID == "" || r.ProjectID == in.ProjectID) &&
			api.MatchStatus(in.Status, r.Status) && (in.Suspended == nil || *in.Suspended == r.Suspended)
	}
	var out []api.ResourceView
	err := s.db.View(func(tx *store.Tx) error {
		res, _, err := store.Resources.List(tx, q)
		if err != nil {
			return err
		}
		envs, repos := map[string]api.EnvSummary{}, map[string]api.RepoSummary{}
		for _, r := range res {
			e, ok := envs[r.EnvironmentID]
			if !ok {
				e = envSummary(tx, r.EnvironmentID)
				envs[r.EnvironmentID] = e
			}
			if in.ClusterID != "" && e.ClusterID != in.ClusterID {
				continue
			}
			rp, ok := repos[r.RepositoryID]
			if !ok {
				rp = repoSummary(tx, r.RepositoryID)
				repos[r.RepositoryID] = rp
			}
			out = append(out, api.NewResourceView(r, e, rp))
		}
		return nil
	})
	return shape.NonNil(out), err
}

// envSummary is the short form of environment id (only the id when it is gone).
func envSummary(tx *store.Tx, id string) api.EnvSummary {
	e, err := store.Environments.Get(tx, id)
	if err != nil {
		return api.EnvSummary{ID: id}
	}
	return api.EnvSummary{ID: e.ID, Name: e.Name, Namespace: e.Namespace, ClusterID: e.ClusterID}
}

// repoSummary is the short form of repository id (only the id when it is gone).
func repoSummary(tx *store.Tx, id string) api.RepoSummary {
	rp, err := store.Repositories.Get(tx, id)
	if err != nil {
		return api.RepoSummary{ID: id}
	}
	return api.RepoSummary{ID: rp.ID, FullName: rp.FullName, URL: rp.URL}
}

// getResource implements gitops.getGitOpsResource: live conditions, the
// object's events newest first, revisions and the chain of why it is not ready.
func (s *GitOps) getResource(ctx context.Context, in api.IDInput) (api.ResourceDetail, error) {
	r, err := s.resource(in.ID)
	if err != nil {
		return api.ResourceDetail{}, err
	}
	var d api.ResourceDetail
	var env model.Environment
	err = s.db.View(func(tx *store.Tx) error {
		d = resourceDetail(r, envSummary(tx, r.EnvironmentID), repoSummary(tx, r.RepositoryID))
		env, err = store.Environments.Get(tx, r.EnvironmentID)
		return nil
	})
	if r.DeletedAt != nil || err != nil {
		return d, nil
	}
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		d.LiveErr = model.AsError(err).Message
		return d, nil
	}
	u, err := k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		d.LiveErr = kube.Error(err, "read "+r.Type+" "+r.Namespace+"/"+r.Name).Error()
		return d, nil
	}
	o := fluxobj.Observe(u, s.now())
	if updated, changed, err := s.watch.Record(r.ID, o); err == nil {
		r = updated
		if changed {
			s.watch.Hub().Publish(api.StatusEvent{Resource: updated})
		}
	}
	live := resourceDetail(r, d.Environment, d.Repository)
	live.Conditions = conditions(o.Conditions)
	live.DependsOn, live.SourceRef, live.LastHandledReconcileAt = o.DependsOn, o.SourceRef, o.LastHandledReconcile
	live.LiveObservedAt = &o.ObservedAt
	live.Events = s.events(ctx, k, u)
	live.Chain = s.whyNotReady(ctx, k, r, o)
	live.Diagnosis = s.liveDiagnosis(ctx, env.ClusterID, r, live.Events)
	live.Manifest = manifestYAML(u)
	return live, nil
}

// resourceDetail is a resource as getGitOpsResource returns it, before the
// live read adds conditions and events.
func resourceDetail(r model.GitOpsResource, e api.EnvSummary, rp api.RepoSummary) api.ResourceDetail {
	cfg := r.Config
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return api.ResourceDetail{ResourceView: api.NewResourceView(r, e, rp), Config: cfg, Conditions: []api.Condition{}, Events: []api.Event{}}
}

// conditions converts Kubernetes conditions to the contract's.
func conditions(cs []metav1.Condition) []api.Condition {
	out := make([]api.Condition, len(cs))
	for i, c := range cs {
		out[i] = api.Condition{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: shape.Time(c.LastTransitionTime.Time)}
	}
	return out
}

func (s *GitOps) events(ctx context.Context, k kube.Kube, u *unstructured.Unstructured) []api.Event {
	sel := fields.Set{"involvedObject.name": u.GetName(), "involvedObject.kind": u.GetKind()}.AsSelector().String()
	l, err := k.CS.CoreV1().Events(u.GetNamespace()).List(ctx, metav1.ListOptions{FieldSelector: sel})
	out := []api.Event{}
	if err != nil {
		return out
	}
	for _, e := range l.Items {
		out = append(out, api.Event{Type: e.Type, Reason: model.CleanText(e.Reason), Message: model.CleanText(e.Message), Count: e.Count, Timestamp: eventTime(e)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp.After(out[j].Timestamp) })
	return out
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// whyNotReady follows dependsOn, then the source, to the condition that
// explains a resource that is not ready.
func (s *GitOps) whyNotReady(ctx context.Context, k kube.Kube, r model.GitOpsResource, o fluxobj.Observed) []string {
	if o.Status == model.StatusReady {
		return nil
	}
	chain := []string{fmt.Sprintf("%s %s/%s: %s %s", r.Type, r.Namespace, r.Name, o.Status, o.ErrorMessage)}
	for _, dep := range o.DependsOn {
		u, err := k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace).Get(ctx, dep, metav1.GetOptions{})
		if err != nil {
			chain = append(chain, "dependsOn "+dep+": "+kube.Error(err, "read").Error())
			continue
		}
		do := fluxobj.Observe(u, s.now())
		if do.Status != model.StatusReady {
			chain = append(chain, fmt.Sprintf("dependsOn %s: %s %s", dep, do.Status, do.ErrorMessage))
		}
	}
	if kind, name, ok := strings.Cut(o.SourceRef, "/"); ok && kind == "GitRepository" {
		u, err := k.Dyn.Resource(fluxobj.GitRepositoryGVR).Namespace(r.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			chain = append(chain, "source GitRepository "+name+": "+kube.Error(err, "read").Error())
		} else if st, _, msg := fluxobj.JudgeSource(u); st != model.SyncReady {
			chain = append(chain, fmt.Sprintf("source GitRepository %s: %s %s", name, st, msg))
		}
	}
	return chain
}

func (s *GitOps) resource(id string) (model.GitOpsResource, error) {
	return store.Resources.Read(s.db, id)
}

func (s *GitOps) liveResource(id string) (model.GitOpsResource, error) {
	r, err := s.resource(id)
	if err == nil && r.DeletedAt != nil {
		return r, model.Errorf(model.CodeNotFound, "gitops resource %s was deleted at %s", id, r.DeletedAt.Format(time.RFC3339)).WithDetail("id", id)
	}
	return r, err
}

// updateResource implements gitops.updateGitOpsResource: merge, validate, re-apply.
func (s *GitOps) updateResource(ctx context.Context, in api.UpdateResourceInput) (api.UpdateResult, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return api.UpdateResult{}, err
	}
	merged, err := mergePatch(r.Config, in.Config)
	if err != nil {
		fe := model.FieldErrors{}
		fe.Add("config", err.Error())
		return api.UpdateResult{}, fe.Err()
	}
	var cfg api.ResourceConfig
	fe := model.FieldErrors{}
	if err := gate.DecodeInput(merged, &cfg); err != nil {
		e := model.AsError(err)
		if fields, ok := e.Details["fields"].(map[string]any); ok {
			for f, m := range fields {
				fe.Add("config."+f, fmt.Sprint(m))
			}
		}
		return api.UpdateResult{}, fe.Err()
	}
	cfg.Check(fe, "config.", api.ResourceType(r.Type))
	if err := fe.Err(); err != nil {
		return api.UpdateResult{}, err
	}
	rc, err := s.loadResourceContext(ctx, r.EnvironmentID, r.RepositoryID)
	if err != nil {
		return api.UpdateResult{}, err
	}
	if err := s.withSource(ctx, rc, r.Namespace, func(rc resourceContext) error { return applyResource(ctx, r, cfg, rc) }); err != nil {
		return api.UpdateResult{}, err
	}
	r.Config, _ = json.Marshal(cfg)
	r.UpdatedAt = s.now()
	if err := s.db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		return api.UpdateResult{}, err
	}
	return api.UpdateResult{ID: r.ID, UpdatedAt: r.UpdatedAt, Name: r.Name, Type: r.Type, Status: r.Status}, nil
}

// mergePatch applies an RFC 7386 JSON merge patch.
func mergePatch(doc, patch []byte) ([]byte, error) {
	var d, p any
	if len(doc) == 0 {
		doc = []byte("{}")
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, fmt.Errorf("must be an object")
	}
	return json.Marshal(mergeValue(d, p))
}

func mergeValue(d, p any) any {
	pm, ok := p.(map[string]any)
	if !ok {
		return p
	}
	dm, ok := d.(map[string]any)
	if !ok {
		dm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(dm, k)
		} else {
			dm[k] = mergeValue(dm[k], v)
		}
	}
	return dm
}

// deleteResource implements gitops.deleteGitOpsResource: the cluster object is
// deleted, the record stays with deletedAt and leaves the lists.
func (s *GitOps) deleteResource(ctx context.Context, in api.IDInput) (api.Deleted, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return api.Deleted{}, err
	}
	env, err := s.catalog.Environment(r.EnvironmentID)
	if err != nil {
		return api.Deleted{}, err
	}
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return api.Deleted{}, err
	}
	err = k.Dyn.Resource(fluxobj.ResourceGVR(r.Type)).Namespace(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
	if err != nil && model.CodeOf(kube.Error(err, "")) != model.CodeNotFound {
		return api.Deleted{}, kube.Error(err, "delete "+r.Type+" "+r.Namespace+"/"+r.Name)
	}
	if r.Type == model.ResourceHelm {
		hr, _ := k.Dyn.Resource(fluxobj.HelmRepositoryGVR).Namespace(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: fluxobj.LabelResourceID + "=" + r.ID})
		if hr != nil {
			for _, o := range hr.Items {
				_ = k.Dyn.Resource(fluxobj.HelmRepositoryGVR).Namespace(r.Namespace).Delete(ctx, o.GetName(), metav1.DeleteOptions{})
			}
		}
	}
	now := s.now()
	err = s.db.Update(func(tx *store.Tx) error {
		cur, err := store.Resources.Get(tx, r.ID)
		if err != nil {
			return err
		}
		cur.DeletedAt, cur.UpdatedAt = &now, now
		return store.Resources.Put(tx, cur)
	})
	if err != nil {
		return api.Deleted{}, err
	}
	// The resource is gone; a GitRepository left unused by it is collected,
	// and a failure to do so does not undo the delete.
	unlock := s.lockRepo(r.RepositoryID)
	defer unlock()
	s.collectSourcesLogged(ctx, k, r.RepositoryID, env.ClusterID)
	return api.Deleted{Success: true, ID: r.ID}, nil
}
