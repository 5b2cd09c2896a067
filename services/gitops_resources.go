package services

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxbundle"
	"github.com/gitopstui/gitopstui/store"
)

// DependsOnRef names a Flux object this one waits for.
type DependsOnRef struct {
	Name      string `json:"name" required:"true" doc:"name of the Kustomization or HelmRelease"`
	Namespace string `json:"namespace,omitempty" doc:"its namespace (default the same)"`
}

// ChartSource is where a HelmRelease's chart comes from.
type ChartSource struct {
	Kind      string `json:"kind,omitempty" enum:"GitRepository|HelmRepository" doc:"source kind (default GitRepository: the repository's)"`
	Name      string `json:"name,omitempty" doc:"source name (default the repository's GitRepository, or the release name for a HelmRepository with url)"`
	URL       string `json:"url,omitempty" doc:"HelmRepository URL: gitopstui creates the HelmRepository"`
	Namespace string `json:"namespace,omitempty" doc:"source namespace (default the Flux namespace)"`
}

// Remediation is a HelmRelease's install or upgrade remediation.
type Remediation struct {
	Retries              *int  `json:"retries,omitempty" doc:"retries before giving up (-1: forever)"`
	RemediateLastFailure *bool `json:"remediateLastFailure,omitempty" doc:"remediate the last failure (upgrade)"`
}

// ResourceConfig is a Kustomization's or HelmRelease's settings. Durations
// and references are checked by the API server against Flux's CRDs, so what
// gitopstui accepts is what Flux accepts.
type ResourceConfig struct {
	Path          string            `json:"path,omitempty" doc:"kustomization: path in the repository (default the environment's gitPath)"`
	Prune         *bool             `json:"prune,omitempty" doc:"kustomization: delete what leaves Git (default true)"`
	HealthChecks  []json.RawMessage `json:"healthChecks,omitempty" doc:"kustomization: objects to wait for ({apiVersion, kind, name, namespace})"`
	DependsOn     []DependsOnRef    `json:"dependsOn,omitempty" doc:"objects to wait for first"`
	Interval      string            `json:"interval,omitempty" doc:"reconcile interval (default the environment's syncInterval)"`
	Timeout       string            `json:"timeout,omitempty" doc:"timeout of apply and health checks"`
	RetryInterval string            `json:"retryInterval,omitempty" doc:"interval between retries after a failure"`
	Wait          *bool             `json:"wait,omitempty" doc:"kustomization: wait for every applied object to be ready"`

	Chart           string            `json:"chart,omitempty" doc:"helm: chart name (HelmRepository) or path (GitRepository)"`
	ChartVersion    string            `json:"chartVersion,omitempty" doc:"helm: chart version (semver range)"`
	Source          *ChartSource      `json:"source,omitempty" doc:"helm: chart source"`
	ReleaseName     string            `json:"releaseName,omitempty" doc:"helm: release name (default the resource name)"`
	Values          json.RawMessage   `json:"values,omitempty" doc:"helm: values"`
	ValuesFrom      []json.RawMessage `json:"valuesFrom,omitempty" doc:"helm: values from ConfigMaps/Secrets ({kind, name, valuesKey, targetPath})"`
	Install         *Remediation      `json:"install,omitempty" doc:"helm: install remediation"`
	Upgrade         *Remediation      `json:"upgrade,omitempty" doc:"helm: upgrade remediation"`
	CreateNamespace *bool             `json:"createNamespace,omitempty" doc:"helm: create the target namespace"`
	CleanupOnFail   *bool             `json:"cleanupOnFail,omitempty" doc:"helm: delete new resources of a failed upgrade"`
}

// CreateResourceInput is gitops.createGitOpsResource's input.
type CreateResourceInput struct {
	ProjectID     string         `json:"projectId" required:"true" doc:"project id"`
	EnvironmentID string         `json:"environmentId" required:"true" doc:"environment id"`
	RepositoryID  string         `json:"repositoryId,omitempty" doc:"repository (default the environment's)"`
	Name          string         `json:"name" required:"true" doc:"name of the Flux object"`
	Type          string         `json:"type" required:"true" enum:"kustomization|helm" doc:"kustomization or helm"`
	Config        ResourceConfig `json:"config" doc:"settings"`
}

// Validate implements Validator.
func (in *CreateResourceInput) Validate(fe model.FieldErrors) {
	checkDNSLabel(fe, "name", in.Name)
	checkEnum(fe, "type", in.Type, model.ResourceKustomization, model.ResourceHelm)
	checkResourceConfig(fe, in.Type, &in.Config)
}

func checkResourceConfig(fe model.FieldErrors, typ string, c *ResourceConfig) {
	if c.Path != "" {
		checkGitPath(fe, "config.path", c.Path)
	}
	if typ == model.ResourceHelm {
		if c.Chart == "" {
			fe.Add("config.chart", "required for a helm resource")
		}
		if c.Path != "" || c.Prune != nil || len(c.HealthChecks) > 0 || c.Wait != nil {
			fe.Add("config", "path, prune, healthChecks and wait are kustomization settings")
		}
		if c.Source != nil {
			checkEnum(fe, "config.source.kind", c.Source.Kind, "GitRepository", "HelmRepository")
			if c.Source.URL != "" && c.Source.Kind == "GitRepository" {
				fe.Add("config.source.url", "only for a HelmRepository source")
			}
		}
	} else if c.Chart != "" || c.ChartVersion != "" || c.Source != nil || c.Values != nil || len(c.ValuesFrom) > 0 ||
		c.Install != nil || c.Upgrade != nil || c.CreateNamespace != nil || c.CleanupOnFail != nil || c.ReleaseName != "" {
		fe.Add("config", "chart, values and the other helm settings need type helm")
	}
	if len(c.Values) > 0 && c.Values[0] != '{' {
		fe.Add("config.values", "must be an object")
	}
}

// ResourceSummary is the created resource as the spec returns it.
type ResourceSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
}

func (s *Services) registerGitOpsResources(r *Registry) {
	register(r, "gitops.createGitOpsResource", model.RoleOperator, true, "Create a Flux Kustomization or HelmRelease for an environment", s.CreateResource)
	register(r, "gitops.listGitOpsResources", model.RoleViewer, false, "List GitOps resources with their live status", s.ListResources)
	register(r, "gitops.getGitOpsResource", model.RoleViewer, false, "Get a GitOps resource with conditions, events and revisions", s.GetResource)
	register(r, "gitops.updateGitOpsResource", model.RoleOperator, true, "Change a GitOps resource's config and re-apply it", s.UpdateResource)
	register(r, "gitops.deleteGitOpsResource", model.RoleOperator, true, "Delete a GitOps resource (its record stays with deletedAt)", s.DeleteResource)
	register(r, "gitops.triggerSync", model.RoleOperator, true, "Ask Flux to reconcile the source and the resource now", s.TriggerSync)
	register(r, "gitops.suspendGitOpsResource", model.RoleOperator, true, "Suspend a resource's reconciliation", s.SuspendResource)
	register(r, "gitops.resumeGitOpsResource", model.RoleOperator, true, "Resume a resource's reconciliation", s.ResumeResource)
}

// resourceContext is what applying a resource needs.
type resourceContext struct {
	env  model.Environment
	repo model.Repository
	k    kube
	// source is the GitRepository of the environment's branch (withSource sets it).
	source string
}

// loadResourceContext loads an environment, its repository (repoID, else
// the environment's: envRepository) enabled for GitOps, and its cluster with
// Flux installed.
func (s *Services) loadResourceContext(ctx context.Context, envID, repoID string) (resourceContext, error) {
	var rc resourceContext
	env, err := s.environment(envID)
	if err != nil {
		return rc, refErr("environmentId", "environment", envID)
	}
	rc.env = env
	if repoID != "" {
		rc.repo, err = s.repository(repoID)
	} else {
		rc.repo, err = s.envRepository(env, "repositoryId")
	}
	if err != nil {
		return rc, err
	}
	if !rc.repo.GitOpsConfig.Enabled {
		return rc, model.Errorf(model.CodeGitOpsNotEnabled, "repository %s is not enabled for GitOps: run repositories.enableGitOps", rc.repo.ID).
			WithDetail("repositoryId", rc.repo.ID)
	}
	k, c, err := s.kubeFor(env.ClusterID)
	if err != nil {
		return rc, err
	}
	if err := requireFlux(ctx, k, c); err != nil {
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

func rawList(items []json.RawMessage) ([]any, error) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		var v any
		if err := json.Unmarshal(it, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// buildObject turns a resource record into its Flux object.
func buildObject(r model.GitOpsResource, cfg ResourceConfig, rc resourceContext) (*unstructured.Unstructured, []*unstructured.Unstructured, error) {
	labels := map[string]any{labelManagedBy: "gitopstui", labelResourceID: r.ID, labelEnvID: r.EnvironmentID, labelProjectID: r.ProjectID, labelRepoID: r.RepositoryID}
	spec := map[string]any{
		"interval": orDefault(cfg.Interval, orDefault(rc.env.GitOpsConfig.SyncInterval, "5m")),
		"suspend":  r.Suspended,
	}
	if cfg.Timeout != "" {
		spec["timeout"] = cfg.Timeout
	}
	if cfg.RetryInterval != "" {
		spec["retryInterval"] = cfg.RetryInterval
	}
	if len(cfg.DependsOn) > 0 {
		deps := make([]any, len(cfg.DependsOn))
		for i, d := range cfg.DependsOn {
			m := map[string]any{"name": d.Name}
			if d.Namespace != "" {
				m["namespace"] = d.Namespace
			}
			deps[i] = m
		}
		spec["dependsOn"] = deps
	}
	var extra []*unstructured.Unstructured
	kind := "Kustomization"
	apiVersion := kustomizationGVR.GroupVersion().String()
	if r.Type == model.ResourceKustomization {
		spec["path"] = orDefault(cfg.Path, rc.env.GitOpsConfig.GitPath)
		spec["prune"] = boolOr(cfg.Prune, true)
		spec["targetNamespace"] = rc.env.Namespace
		spec["sourceRef"] = map[string]any{"kind": "GitRepository", "name": rc.source}
		if cfg.Wait != nil {
			spec["wait"] = *cfg.Wait
		}
		if len(cfg.HealthChecks) > 0 {
			hc, err := rawList(cfg.HealthChecks)
			if err != nil {
				return nil, nil, err
			}
			spec["healthChecks"] = hc
		}
	} else {
		kind, apiVersion = "HelmRelease", helmReleaseGVR.GroupVersion().String()
		src := ChartSource{Kind: "GitRepository", Name: rc.source}
		if cfg.Source != nil {
			src = *cfg.Source
			if src.Kind == "" {
				src.Kind = "GitRepository"
			}
			if src.Name == "" {
				if src.Kind == "GitRepository" {
					src.Name = rc.source
				} else {
					src.Name = r.Name
				}
			}
		}
		if src.Kind == "HelmRepository" && src.URL != "" {
			extra = append(extra, &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": helmRepositoryGVR.GroupVersion().String(), "kind": "HelmRepository",
				"metadata": map[string]any{"name": src.Name, "namespace": r.Namespace, "labels": labels},
				"spec":     map[string]any{"url": src.URL, "interval": orDefault(cfg.Interval, "1h")},
			}})
		}
		chartSpec := map[string]any{"chart": cfg.Chart, "sourceRef": map[string]any{"kind": src.Kind, "name": src.Name}}
		if src.Namespace != "" {
			chartSpec["sourceRef"].(map[string]any)["namespace"] = src.Namespace
		}
		if cfg.ChartVersion != "" {
			chartSpec["version"] = cfg.ChartVersion
		}
		spec["chart"] = map[string]any{"spec": chartSpec}
		spec["targetNamespace"] = rc.env.Namespace
		if cfg.ReleaseName != "" {
			spec["releaseName"] = cfg.ReleaseName
		}
		if len(cfg.Values) > 0 {
			var v any
			if err := json.Unmarshal(cfg.Values, &v); err != nil {
				return nil, nil, err
			}
			spec["values"] = v
		}
		if len(cfg.ValuesFrom) > 0 {
			vf, err := rawList(cfg.ValuesFrom)
			if err != nil {
				return nil, nil, err
			}
			spec["valuesFrom"] = vf
		}
		install := map[string]any{}
		if cfg.CreateNamespace != nil {
			install["createNamespace"] = *cfg.CreateNamespace
		}
		if cfg.Install != nil && cfg.Install.Retries != nil {
			install["remediation"] = map[string]any{"retries": int64(*cfg.Install.Retries)}
		}
		if len(install) > 0 {
			spec["install"] = install
		}
		upgrade := map[string]any{}
		if cfg.CleanupOnFail != nil {
			upgrade["cleanupOnFail"] = *cfg.CleanupOnFail
		}
		if cfg.Upgrade != nil {
			rem := map[string]any{}
			if cfg.Upgrade.Retries != nil {
				rem["retries"] = int64(*cfg.Upgrade.Retries)
			}
			if cfg.Upgrade.RemediateLastFailure != nil {
				rem["remediateLastFailure"] = *cfg.Upgrade.RemediateLastFailure
			}
			upgrade["remediation"] = rem
		}
		if len(upgrade) > 0 {
			spec["upgrade"] = upgrade
		}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": r.Name, "namespace": r.Namespace, "labels": labels},
		"spec":     spec,
	}}
	return obj, extra, nil
}

// applyResource server-side applies a resource's objects; the API server's
// validation errors come back as BAD_REQUEST naming config fields.
func applyResource(ctx context.Context, r model.GitOpsResource, cfg ResourceConfig, rc resourceContext) error {
	obj, extra, err := buildObject(r, cfg, rc)
	if err != nil {
		return model.Wrap(model.CodeBadRequest, err, "build "+r.Type)
	}
	for _, o := range append(extra, obj) {
		if err := applyObject(ctx, rc.k.dyn, o); err != nil {
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

// CreateResource implements gitops.createGitOpsResource.
func (s *Services) CreateResource(ctx context.Context, in CreateResourceInput) (ResourceSummary, error) {
	rc, err := s.loadResourceContext(ctx, in.EnvironmentID, in.RepositoryID)
	if err != nil {
		return ResourceSummary{}, err
	}
	if rc.env.ProjectID != in.ProjectID {
		fe := model.FieldErrors{}
		fe.Add("environmentId", "environment "+rc.env.ID+" belongs to project "+rc.env.ProjectID)
		return ResourceSummary{}, fe.Err()
	}
	now := s.now()
	cfgJSON, _ := json.Marshal(in.Config)
	r := model.GitOpsResource{
		ID: newID("gr"), ProjectID: in.ProjectID, EnvironmentID: in.EnvironmentID, RepositoryID: rc.repo.ID,
		Name: in.Name, Namespace: orDefault(rc.repo.GitOpsConfig.FluxNamespace, fluxbundle.DefaultNamespace), Type: in.Type,
		Config: cfgJSON, Status: model.StatusPending, Suspended: !rc.env.GitOpsConfig.AutoSync, CreatedAt: now, UpdatedAt: now,
	}
	if r.Suspended {
		r.Status = model.StatusSuspended
	}
	if err := s.checkResourceNameFree(r); err != nil {
		return ResourceSummary{}, err
	}
	err = s.withSource(ctx, rc, r.Namespace, func(rc resourceContext) error { return applyResource(ctx, r, in.Config, rc) })
	if err != nil {
		return ResourceSummary{}, err
	}
	if err := s.db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		return ResourceSummary{}, err
	}
	return ResourceSummary{ID: r.ID, Name: r.Name, Type: r.Type, Status: r.Status, CreatedAt: r.CreatedAt}, nil
}

// checkResourceNameFree refuses a name already used in the project's
// environment, or by another live resource in the same Flux namespace of the
// same cluster (they would be one object).
func (s *Services) checkResourceNameFree(r model.GitOpsResource) error {
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
			if o.ID == r.ID || o.Name != r.Name || resourceGVR(o.Type) != resourceGVR(r.Type) {
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

// ListResourcesInput filters gitops.listGitOpsResources.
type ListResourcesInput struct {
	ProjectID     string `json:"projectId,omitempty" doc:"only this project"`
	EnvironmentID string `json:"environmentId,omitempty" doc:"only this environment"`
	Type          string `json:"type,omitempty" enum:"kustomization|helm" doc:"only this type"`
}

// Validate implements Validator.
func (in *ListResourcesInput) Validate(fe model.FieldErrors) {
	checkEnum(fe, "type", in.Type, model.ResourceKustomization, model.ResourceHelm)
}

// EnvSummary and RepoSummary are the short forms a resource list carries.
type EnvSummary struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	ClusterID string `json:"clusterId"`
}

// RepoSummary is a repository's short form.
type RepoSummary struct {
	ID       string `json:"id"`
	FullName string `json:"fullName"`
	URL      string `json:"url"`
}

// ResourceView is a resource with its environment and repository.
type ResourceView struct {
	model.GitOpsResource
	Environment *EnvSummary  `json:"environment,omitempty"`
	Repository  *RepoSummary `json:"repository,omitempty"`
}

// ListResources implements gitops.listGitOpsResources, reading live status first.
func (s *Services) ListResources(ctx context.Context, in ListResourcesInput) ([]ResourceView, error) {
	if err := s.refreshResources(ctx, in.ProjectID, in.EnvironmentID); err != nil {
		return nil, err
	}
	q := store.Query[model.GitOpsResource]{Index: "live"}
	switch {
	case in.EnvironmentID != "":
		q.Index, q.Value = "environment", in.EnvironmentID
	case in.ProjectID != "":
		q.Index, q.Value = "project", in.ProjectID
	case in.Type != "":
		q.Index, q.Value = "type", in.Type
	}
	q.Filter = func(r model.GitOpsResource) bool {
		return (in.Type == "" || r.Type == in.Type) && (in.ProjectID == "" || r.ProjectID == in.ProjectID)
	}
	var out []ResourceView
	err := s.db.View(func(tx *store.Tx) error {
		res, _, err := store.Resources.List(tx, q)
		if err != nil {
			return err
		}
		envs, repos := map[string]*EnvSummary{}, map[string]*RepoSummary{}
		for _, r := range res {
			v := ResourceView{GitOpsResource: r}
			v.Config = nil
			if e, ok := envs[r.EnvironmentID]; ok {
				v.Environment = e
			} else if e, err := store.Environments.Get(tx, r.EnvironmentID); err == nil {
				envs[r.EnvironmentID] = &EnvSummary{ID: e.ID, Name: e.Name, Namespace: e.Namespace, ClusterID: e.ClusterID}
				v.Environment = envs[r.EnvironmentID]
			}
			if rp, ok := repos[r.RepositoryID]; ok {
				v.Repository = rp
			} else if rp, err := store.Repositories.Get(tx, r.RepositoryID); err == nil {
				repos[r.RepositoryID] = &RepoSummary{ID: rp.ID, FullName: rp.FullName, URL: rp.URL}
				v.Repository = repos[r.RepositoryID]
			}
			out = append(out, v)
		}
		return nil
	})
	if out == nil {
		out = []ResourceView{}
	}
	return out, err
}

// Event is a Kubernetes event of a resource.
type Event struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Time    time.Time `json:"time"`
}

// ResourceDetail is gitops.getGitOpsResource's result.
type ResourceDetail struct {
	ResourceView
	Live     *Observed `json:"live,omitempty"`
	Events   []Event   `json:"events"`
	Chain    []string  `json:"chain,omitempty"`
	LiveErr  string    `json:"liveError,omitempty"`
	Manifest string    `json:"manifest,omitempty"`
}

// GetResource implements gitops.getGitOpsResource: live conditions, the
// object's events newest first, revisions and the chain of why it is not ready.
func (s *Services) GetResource(ctx context.Context, in IDInput) (ResourceDetail, error) {
	r, err := s.resource(in.ID)
	if err != nil {
		return ResourceDetail{}, err
	}
	d := ResourceDetail{ResourceView: ResourceView{GitOpsResource: r}, Events: []Event{}}
	env, err := s.environment(r.EnvironmentID)
	if err == nil {
		d.Environment = &EnvSummary{ID: env.ID, Name: env.Name, Namespace: env.Namespace, ClusterID: env.ClusterID}
	}
	if rp, err := s.repository(r.RepositoryID); err == nil {
		d.Repository = &RepoSummary{ID: rp.ID, FullName: rp.FullName, URL: rp.URL}
	}
	if r.DeletedAt != nil || err != nil {
		return d, nil
	}
	k, _, err := s.kubeFor(env.ClusterID)
	if err != nil {
		d.LiveErr = model.AsError(err).Message
		return d, nil
	}
	u, err := k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if err != nil {
		d.LiveErr = kubeError(err, "read "+r.Type+" "+r.Namespace+"/"+r.Name).Error()
		return d, nil
	}
	o := observe(u, s.now())
	d.Live = &o
	if updated, changed, err := s.recordObserved(r.ID, o); err == nil {
		d.GitOpsResource = updated
		if changed {
			s.hub.publish(StatusEvent{Resource: updated})
		}
	}
	d.Config = r.Config
	d.Events = s.events(ctx, k, u)
	d.Chain = s.whyNotReady(ctx, k, r, o)
	return d, nil
}

func (s *Services) events(ctx context.Context, k kube, u *unstructured.Unstructured) []Event {
	sel := fields.Set{"involvedObject.name": u.GetName(), "involvedObject.kind": u.GetKind()}.AsSelector().String()
	l, err := k.cs.CoreV1().Events(u.GetNamespace()).List(ctx, metav1.ListOptions{FieldSelector: sel})
	out := []Event{}
	if err != nil {
		return out
	}
	for _, e := range l.Items {
		out = append(out, Event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count, Time: eventTime(e)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
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
func (s *Services) whyNotReady(ctx context.Context, k kube, r model.GitOpsResource, o Observed) []string {
	if o.Status == model.StatusReady {
		return nil
	}
	chain := []string{fmt.Sprintf("%s %s/%s: %s %s", r.Type, r.Namespace, r.Name, o.Status, o.ErrorMessage)}
	for _, dep := range o.DependsOn {
		u, err := k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace).Get(ctx, dep, metav1.GetOptions{})
		if err != nil {
			chain = append(chain, "dependsOn "+dep+": "+kubeError(err, "read").Error())
			continue
		}
		do := observe(u, s.now())
		if do.Status != model.StatusReady {
			chain = append(chain, fmt.Sprintf("dependsOn %s: %s %s", dep, do.Status, do.ErrorMessage))
		}
	}
	if kind, name, ok := strings.Cut(o.SourceRef, "/"); ok && kind == "GitRepository" {
		u, err := k.dyn.Resource(gitRepositoryGVR).Namespace(r.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			chain = append(chain, "source GitRepository "+name+": "+kubeError(err, "read").Error())
		} else if st, _, msg := judgeSource(u); st != model.SyncReady {
			chain = append(chain, fmt.Sprintf("source GitRepository %s: %s %s", name, st, msg))
		}
	}
	return chain
}

func (s *Services) resource(id string) (model.GitOpsResource, error) {
	var r model.GitOpsResource
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		r, err = store.Resources.Get(tx, id)
		return err
	})
	return r, err
}

func (s *Services) liveResource(id string) (model.GitOpsResource, error) {
	r, err := s.resource(id)
	if err == nil && r.DeletedAt != nil {
		return r, model.Errorf(model.CodeNotFound, "gitops resource %s was deleted at %s", id, r.DeletedAt.Format(time.RFC3339)).WithDetail("id", id)
	}
	return r, err
}

// UpdateResourceInput is gitops.updateGitOpsResource's input.
type UpdateResourceInput struct {
	ID     string          `json:"id" required:"true" doc:"resource id"`
	Config json.RawMessage `json:"config" required:"true" doc:"settings to merge into the current config (JSON merge patch)"`
}

// UpdateResource implements gitops.updateGitOpsResource: merge, validate, re-apply.
func (s *Services) UpdateResource(ctx context.Context, in UpdateResourceInput) (ResourceSummary, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return ResourceSummary{}, err
	}
	merged, err := mergePatch(r.Config, in.Config)
	if err != nil {
		fe := model.FieldErrors{}
		fe.Add("config", err.Error())
		return ResourceSummary{}, fe.Err()
	}
	var cfg ResourceConfig
	fe := model.FieldErrors{}
	if err := DecodeInput(merged, &cfg); err != nil {
		e := model.AsError(err)
		if fields, ok := e.Details["fields"].(map[string]any); ok {
			for f, m := range fields {
				fe.Add("config."+f, fmt.Sprint(m))
			}
		}
		return ResourceSummary{}, fe.Err()
	}
	checkResourceConfig(fe, r.Type, &cfg)
	if err := fe.Err(); err != nil {
		return ResourceSummary{}, err
	}
	rc, err := s.loadResourceContext(ctx, r.EnvironmentID, r.RepositoryID)
	if err != nil {
		return ResourceSummary{}, err
	}
	if err := s.withSource(ctx, rc, r.Namespace, func(rc resourceContext) error { return applyResource(ctx, r, cfg, rc) }); err != nil {
		return ResourceSummary{}, err
	}
	r.Config, _ = json.Marshal(cfg)
	r.UpdatedAt = s.now()
	if err := s.db.Update(func(tx *store.Tx) error { return store.Resources.Put(tx, r) }); err != nil {
		return ResourceSummary{}, err
	}
	return ResourceSummary{ID: r.ID, Name: r.Name, Type: r.Type, Status: r.Status, CreatedAt: r.CreatedAt}, nil
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

// DeleteResource implements gitops.deleteGitOpsResource: the cluster object is
// deleted, the record stays with deletedAt and leaves the lists.
func (s *Services) DeleteResource(ctx context.Context, in IDInput) (Deleted, error) {
	r, err := s.liveResource(in.ID)
	if err != nil {
		return Deleted{}, err
	}
	env, err := s.environment(r.EnvironmentID)
	if err != nil {
		return Deleted{}, err
	}
	k, _, err := s.kubeFor(env.ClusterID)
	if err != nil {
		return Deleted{}, err
	}
	err = k.dyn.Resource(resourceGVR(r.Type)).Namespace(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
	if err != nil && model.CodeOf(kubeError(err, "")) != model.CodeNotFound {
		return Deleted{}, kubeError(err, "delete "+r.Type+" "+r.Namespace+"/"+r.Name)
	}
	if r.Type == model.ResourceHelm {
		hr, _ := k.dyn.Resource(helmRepositoryGVR).Namespace(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelResourceID + "=" + r.ID})
		if hr != nil {
			for _, o := range hr.Items {
				_ = k.dyn.Resource(helmRepositoryGVR).Namespace(r.Namespace).Delete(ctx, o.GetName(), metav1.DeleteOptions{})
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
		return Deleted{}, err
	}
	// The resource is gone; a GitRepository left unused by it is collected,
	// and a failure to do so does not undo the delete.
	unlock := s.lockRepo(r.RepositoryID)
	defer unlock()
	if _, err := s.collectSources(ctx, k, r.RepositoryID, env.ClusterID); err != nil {
		slog.Warn("collect unused GitRepositories", "repository", r.RepositoryID, "cluster", env.ClusterID, "error", err)
	}
	return Deleted{Success: true, ID: r.ID}, nil
}
