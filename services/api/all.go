package api

import "sort"

// All lists every procedure's declaration, sorted by name. The services
// registry binds a handler to each; a test checks that none is left out.
func All() []Decl {
	all := []Decl{
		InstallFlux, CheckFluxHealth, UninstallFlux,
		EnableGitOps, GetFluxStatus,
		CreateGitOpsResource, ListGitOpsResources, GetGitOpsResource, UpdateGitOpsResource, DeleteGitOpsResource,
		TriggerSync, SuspendGitOpsResource, ResumeGitOpsResource, ListFleet,
		Triage, DependencyGraph, Bulk,
		PreviewChanges, DeployWithGitOps, CommitConfigChanges, ReadConfig, ValidateYAML, DiffHelmRelease,
		CreateDeployment, ListDeployments, GetDeployment, ListAudit,
		PreviewRollback, Rollback,
		RegisterCluster, ImportKubeconfig, ListClusters, GetCluster, RemoveCluster,
		CreateProject, ListProjects, GetProject, DeleteProject,
		CreateEnvironment, ListEnvironments, GetEnvironment, UpdateEnvironment, DeleteEnvironment,
		PreviewPromotion, Promote,
		ConfigureGitOps, GetGitOpsConfig,
		CreateRepository, ListRepositories, GetRepository, UpdateRepository, DeleteRepository,
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Info().Name < all[j].Info().Name })
	return all
}

// Infos describes every procedure, sorted by name.
func Infos() []Info {
	all := All()
	out := make([]Info, len(all))
	for i, d := range all {
		out[i] = d.Info()
	}
	return out
}
