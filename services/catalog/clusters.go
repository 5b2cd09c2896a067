package catalog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/internal/ident"
	"github.com/gitopstui/gitopstui/services/internal/shape"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/store"
)

func (s *Catalog) registerClusters(r *gate.Registry) {
	gate.Bind(r, api.RegisterCluster, s.registerCluster)
	gate.Bind(r, api.ImportKubeconfig, s.importKubeconfig)
	gate.Bind(r, api.ListClusters, s.listClusters)
	gate.Bind(r, api.GetCluster, s.getCluster)
	gate.Bind(r, api.RemoveCluster, s.removeCluster)
}

func resolveKubeconfig(p string) (string, error) {
	if p == "" {
		p = kube.DefaultKubeconfig()
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// registerCluster implements clusters.register.
func (s *Catalog) registerCluster(ctx context.Context, in api.RegisterClusterInput) (api.ClusterView, error) {
	if err := s.policy.CheckFile(model.ActorFrom(ctx), "kubeconfig", in.Kubeconfig); err != nil {
		return api.ClusterView{}, err
	}
	path, err := resolveKubeconfig(in.Kubeconfig)
	fe := model.FieldErrors{}
	if err != nil {
		fe.Add("kubeconfig", err.Error())
		return api.ClusterView{}, fe.Err()
	}
	contexts, current, err := kube.LoadKubeconfig(path)
	if err != nil {
		if os.IsNotExist(err) {
			fe.Add("kubeconfig", "file "+path+" does not exist")
		} else {
			fe.Add("kubeconfig", "cannot read "+path+": "+err.Error())
		}
		return api.ClusterView{}, fe.Err()
	}
	ctxName := in.Context
	if ctxName == "" {
		ctxName = current
	}
	if ctxName == "" {
		fe.Add("context", "the kubeconfig has no current context; name one of: "+shape.JoinSorted(contexts))
		return api.ClusterView{}, fe.Err()
	}
	if !slices.Contains(contexts, ctxName) {
		fe.Add("context", "context "+ctxName+" is not in "+path+"; it has: "+shape.JoinSorted(contexts))
		return api.ClusterView{}, fe.Err()
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
		c.ID = ident.Pick(in.ID, "cluster", in.Name, func(id string) bool { return store.Clusters.Exists(tx, id) })
		return store.Clusters.Put(tx, c)
	})
	if err != nil {
		return api.ClusterView{}, err
	}
	s.kube.Forget(c.ID)
	s.watch.WatchCluster(c.ID)
	st := s.kube.Probe(ctx, c)
	return api.ClusterView{Cluster: c, Status: &st}, nil
}

// importKubeconfig implements clusters.importKubeconfig.
func (s *Catalog) importKubeconfig(ctx context.Context, in api.ImportKubeconfigInput) (api.ImportResult, error) {
	if err := s.policy.CheckFile(model.ActorFrom(ctx), "kubeconfig", in.Kubeconfig); err != nil {
		return api.ImportResult{}, err
	}
	path, err := resolveKubeconfig(in.Kubeconfig)
	fe := model.FieldErrors{}
	if err != nil {
		fe.Add("kubeconfig", err.Error())
		return api.ImportResult{}, fe.Err()
	}
	contexts, _, err := kube.LoadKubeconfig(path)
	if err != nil {
		fe.Add("kubeconfig", "cannot read "+path+": "+err.Error())
		return api.ImportResult{}, fe.Err()
	}
	sort.Strings(contexts)
	res := api.ImportResult{Imported: []api.ClusterView{}, Skipped: []model.Cluster{}}
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
				display = name + "-" + strconv.Itoa(i)
			}
			names[display] = true
			c := model.Cluster{Name: display, Kubeconfig: path, Context: name, CreatedAt: now, UpdatedAt: now}
			c.ID = ident.Pick("", "cluster", name, func(id string) bool { return store.Clusters.Exists(tx, id) })
			if err := store.Clusters.Put(tx, c); err != nil {
				return err
			}
			res.Imported = append(res.Imported, api.ClusterView{Cluster: c})
		}
		return nil
	})
	if err != nil {
		return api.ImportResult{}, err
	}
	for _, v := range res.Imported {
		s.watch.WatchCluster(v.ID)
	}
	s.probeAll(ctx, res.Imported)
	return res, nil
}

// probeAll fills in the live status of every view, concurrently.
func (s *Catalog) probeAll(ctx context.Context, views []api.ClusterView) {
	var wg sync.WaitGroup
	for i := range views {
		wg.Add(1)
		go func(v *api.ClusterView) {
			defer wg.Done()
			st := s.kube.Probe(ctx, v.Cluster)
			v.Status = &st
		}(&views[i])
	}
	wg.Wait()
}

// listClusters implements clusters.list.
func (s *Catalog) listClusters(ctx context.Context, in api.ClusterListInput) ([]api.ClusterView, error) {
	var all []model.Cluster
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		all, _, err = store.Clusters.List(tx, store.Query[model.Cluster]{})
		return err
	})
	if err != nil {
		return nil, err
	}
	views := make([]api.ClusterView, len(all))
	for i, c := range all {
		views[i] = api.ClusterView{Cluster: c}
	}
	if in.Live == nil || *in.Live {
		s.probeAll(ctx, views)
	}
	return views, nil
}

// getCluster implements clusters.get.
func (s *Catalog) getCluster(ctx context.Context, in api.ClusterGetInput) (api.ClusterView, error) {
	c, err := s.cluster(in.ID)
	if err != nil {
		return api.ClusterView{}, err
	}
	v := api.ClusterView{Cluster: c}
	if in.Live == nil || *in.Live {
		st := s.kube.Probe(ctx, c)
		v.Status = &st
	}
	return v, nil
}

func (s *Catalog) cluster(id string) (model.Cluster, error) {
	return store.Clusters.Read(s.db, id)
}

// removeCluster implements clusters.remove.
func (s *Catalog) removeCluster(_ context.Context, in api.RemoveInput) (api.Deleted, error) {
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
				in.ID, len(envs), shape.JoinIDs(envs, func(e model.Environment) string { return e.ID })).
				WithDetail("environments", shape.IDs(envs, func(e model.Environment) string { return e.ID }))
		}
		for _, e := range envs {
			if err := s.deleteEnvironmentTx(tx, e.ID); err != nil {
				return err
			}
		}
		return store.Clusters.Delete(tx, in.ID)
	})
	if err != nil {
		return api.Deleted{}, err
	}
	s.watch.StopCluster(in.ID)
	s.kube.Forget(in.ID)
	return api.Deleted{Success: true, ID: in.ID}, nil
}
