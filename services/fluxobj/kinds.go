package fluxobj

import (
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/model"
)

// The Flux kinds gitopstui writes.
var (
	KustomizationGVR  = kustomizev1.GroupVersion.WithResource("kustomizations")
	HelmReleaseGVR    = helmv2.GroupVersion.WithResource("helmreleases")
	GitRepositoryGVR  = sourcev1.GroupVersion.WithResource("gitrepositories")
	HelmRepositoryGVR = sourcev1.GroupVersion.WithResource("helmrepositories")
)

// Labels on every Flux object gitopstui manages.
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	LabelResourceID = "gitopstui.dev/resource-id"
	LabelEnvID      = "gitopstui.dev/environment-id"
	LabelProjectID  = "gitopstui.dev/project-id"
	LabelRepoID     = "gitopstui.dev/repository-id"
	ManagedSelector = LabelManagedBy + "=gitopstui"
)

// ResourceGVR is the resource of a gitopstui resource type.
func ResourceGVR(typ string) schema.GroupVersionResource {
	if typ == model.ResourceHelm {
		return HelmReleaseGVR
	}
	return KustomizationGVR
}
