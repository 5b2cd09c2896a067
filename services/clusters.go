package services

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// RegisterClusterInput is clusters.register's input.
type RegisterClusterInput struct {
	ID         string `json:"id,omitempty" doc:"cluster id (generated from the name when empty)"`
	Name       string `json:"name" required:"true" doc:"display name"`
	Kubeconfig string `json:"kubeconfig,omitempty" doc:"kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"`
	Context    string `json:"context,omitempty" doc:"kubeconfig context (default the current one)"`
}

// Validate implements Validator.
func (in *RegisterClusterInput) Validate(fe model.FieldErrors) {
	checkID(fe, "id", in.ID)
	checkDisplayName(fe, "name", in.Name)
}

// ClusterView is a cluster with, when asked, its live status.
type ClusterView struct {
	model.Cluster
	Status *ClusterStatus `json:"status,omitempty"`
}

// IDInput selects one record.
type IDInput struct {
	ID string `json:"id" required:"true" doc:"record id"`
}

// ClusterGetInput is clusters.get's input.
type ClusterGetInput struct {
	ID   string `json:"id" required:"true" doc:"cluster id"`
	Live *bool  `json:"live,omitempty" doc:"check the cluster live (default true)"`
}

// ClusterListInput is clusters.list's input.
type ClusterListInput struct {
	Live *bool `json:"live,omitempty" doc:"check each cluster live (default true)"`
}

// RemoveInput deletes a record; force also removes what depends on it.
type RemoveInput struct {
	ID    string `json:"id" required:"true" doc:"record id"`
	Force bool   `json:"force,omitempty" doc:"also remove what depends on it"`
}

// ImportKubeconfigInput is clusters.importKubeconfig's input.
type ImportKubeconfigInput struct {
	Kubeconfig string `json:"kubeconfig,omitempty" doc:"kubeconfig file (default $KUBECONFIG, then ~/.kube/config)"`
}

// ImportResult lists the clusters made and the contexts already registered.
type ImportResult struct {
	Imported []ClusterView   `json:"imported"`
	Skipped  []model.Cluster `json:"skipped"`
}

func (s *Services) registerClusters(r *Registry) {
	register(r, "clusters.register", model.RoleAdmin, true, "Register a cluster by kubeconfig context (works offline; reachability is reported separately)", s.RegisterCluster)
	register(r, "clusters.importKubeconfig", model.RoleAdmin, true, "Register one cluster per context of a kubeconfig", s.ImportKubeconfig)
	register(r, "clusters.list", model.RoleViewer, false, "List clusters with their live status", s.ListClusters)
	register(r, "clusters.get", model.RoleViewer, false, "Get a cluster with its live status", s.GetCluster)
	register(r, "clusters.remove", model.RoleAdmin, true, "Remove a cluster from the catalog (refused while environments use it, unless force)", s.RemoveCluster)
}

func resolveKubeconfig(p string) (string, error) {
	if p == "" {
		p = defaultKubeconfig()
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// RegisterCluster implements clusters.register.
func (s *Services) RegisterCluster(ctx context.Context, in RegisterClusterInput) (ClusterView, error) {
	path, err := resolveKubeconfig(in.Kubeconfig)
	fe := model.FieldErrors{}
	if err != nil {
		fe.Add("kubeconfig", err.Error())
		return ClusterView{}, fe.Err()
	}
	contexts, current, err := loadKubeconfig(path)
	if err != nil {
		if os.IsNotExist(err) {
			fe.Add("kubeconfig", "file "+path+" does not exist")
		} else {
			fe.Add("kubeconfig", "cannot read "+path+": "+err.Error())
		}
		return ClusterView{}, fe.Err()
	}
	ctxName := in.Context
	if ctxName == "" {
		ctxName = current
	}
	if ctxName == "" {
		fe.Add("context", "the kubeconfig has no current context; name one of: "+joinSorted(contexts))
		return ClusterView{}, fe.Err()
	}
	if !contains(contexts, ctxName) {
		fe.Add("context", "context "+ctxName+" is not in "+path+"; it has: "+joinSorted(contexts))
		return ClusterView{}, fe.Err()
	}
	now := s.now()
	c := model.Cluster{Name: in.Name, Kubeconfig: path, Context: ctxName, CreatedAt: now, UpdatedAt: now}
	err = s.db.Update(func(tx *store.Tx) error {
		if in.ID != "" && store.Clusters.Exists(tx, in.ID) {
			fe.Add("id", "cluster "+in.ID+" already exists")
			return fe.Err()
		}
		all, _, err := store.Clusters.List(tx, store.Query[model.Cluster]{})
		if err != nil {
			return err
		}
		for _, o := range all {
			if o.Name == in.Name {
				fe.Add("name", "cluster "+o.ID+" already has the name "+in.Name)
				return fe.Err()
			}
		}
		c.ID = pickID(in.ID, "cluster", in.Name, func(id string) bool { return store.Clusters.Exists(tx, id) })
		return store.Clusters.Put(tx, c)
	})
	if err != nil {
		return ClusterView{}, err
	}
	s.kube.forget(c.ID)
	s.WatchCluster(c.ID)
	st := s.probeCluster(ctx, c)
	return ClusterView{Cluster: c, Status: &st}, nil
}

// ImportKubeconfig implements clusters.importKubeconfig.
func (s *Services) ImportKubeconfig(ctx context.Context, in ImportKubeconfigInput) (ImportResult, error) {
	path, err := resolveKubeconfig(in.Kubeconfig)
	fe := model.FieldErrors{}
	if err != nil {
		fe.Add("kubeconfig", err.Error())
		return ImportResult{}, fe.Err()
	}
	contexts, _, err := loadKubeconfig(path)
	if err != nil {
		fe.Add("kubeconfig", "cannot read "+path+": "+err.Error())
		return ImportResult{}, fe.Err()
	}
	sort.Strings(contexts)
	res := ImportResult{Imported: []ClusterView{}, Skipped: []model.Cluster{}}
	now := s.now()
	err = s.db.Update(func(tx *store.Tx) error {
		all, _, err := store.Clusters.List(tx, store.Query[model.Cluster]{})
		if err != nil {
			return err
		}
		names := map[string]bool{}
		for _, c := range all {
			names[c.Name] = true
		}
	next:
		for _, name := range contexts {
			for _, c := range all {
				if c.Kubeconfig == path && c.Context == name {
					res.Skipped = append(res.Skipped, c)
					continue next
				}
			}
			display := name
			for i := 2; names[display]; i++ {
				display = name + "-" + itoa(i)
			}
			names[display] = true
			c := model.Cluster{Name: display, Kubeconfig: path, Context: name, CreatedAt: now, UpdatedAt: now}
			c.ID = pickID("", "cluster", name, func(id string) bool { return store.Clusters.Exists(tx, id) })
			if err := store.Clusters.Put(tx, c); err != nil {
				return err
			}
			res.Imported = append(res.Imported, ClusterView{Cluster: c})
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	for _, v := range res.Imported {
		s.WatchCluster(v.ID)
	}
	s.probeAll(ctx, res.Imported)
	return res, nil
}

// probeAll fills in the live status of every view, concurrently.
func (s *Services) probeAll(ctx context.Context, views []ClusterView) {
	var wg sync.WaitGroup
	for i := range views {
		wg.Add(1)
		go func(v *ClusterView) {
			defer wg.Done()
			st := s.probeCluster(ctx, v.Cluster)
			v.Status = &st
		}(&views[i])
	}
	wg.Wait()
}

// ListClusters implements clusters.list.
func (s *Services) ListClusters(ctx context.Context, in ClusterListInput) ([]ClusterView, error) {
	var all []model.Cluster
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		all, _, err = store.Clusters.List(tx, store.Query[model.Cluster]{})
		return err
	})
	if err != nil {
		return nil, err
	}
	views := make([]ClusterView, len(all))
	for i, c := range all {
		views[i] = ClusterView{Cluster: c}
	}
	if in.Live == nil || *in.Live {
		s.probeAll(ctx, views)
	}
	return views, nil
}

// GetCluster implements clusters.get.
func (s *Services) GetCluster(ctx context.Context, in ClusterGetInput) (ClusterView, error) {
	c, err := s.cluster(in.ID)
	if err != nil {
		return ClusterView{}, err
	}
	v := ClusterView{Cluster: c}
	if in.Live == nil || *in.Live {
		st := s.probeCluster(ctx, c)
		v.Status = &st
	}
	return v, nil
}

func (s *Services) cluster(id string) (model.Cluster, error) {
	var c model.Cluster
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		c, err = store.Clusters.Get(tx, id)
		return err
	})
	return c, err
}

// RemoveCluster implements clusters.remove.
func (s *Services) RemoveCluster(_ context.Context, in RemoveInput) (Deleted, error) {
	err := s.db.Update(func(tx *store.Tx) error {
		if _, err := store.Clusters.Get(tx, in.ID); err != nil {
			return err
		}
		envs, _, err := store.Environments.List(tx, store.Query[model.Environment]{Index: "cluster", Value: in.ID})
		if err != nil {
			return err
		}
		if len(envs) > 0 && !in.Force {
			return model.Errorf(model.CodeBadRequest, "cluster %s is used by %d environment(s): %s; move them or pass force to remove them too",
				in.ID, len(envs), joinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", ids(envs, func(e model.Environment) string { return e.ID }))
		}
		for _, e := range envs {
			if err := s.deleteEnvironmentTx(tx, e.ID); err != nil {
				return err
			}
		}
		return store.Clusters.Delete(tx, in.ID)
	})
	if err != nil {
		return Deleted{}, err
	}
	s.stopWatcher(in.ID)
	s.kube.forget(in.ID)
	return Deleted{Success: true, ID: in.ID}, nil
}

// Deleted is the result of a delete.
type Deleted struct {
	Success bool   `json:"success"`
	ID      string `json:"id"`
}
