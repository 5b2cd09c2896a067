package gitops

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/fluxobj"
)

// maxReleaseBytes bounds a decoded Helm release record.
const maxReleaseBytes = 64 << 20

// FluxObject reads a Flux object (kind HelmRelease, HelmRepository or
// GitRepository) from the environment's cluster as JSON; nil when absent.
func (s *GitOps) FluxObject(ctx context.Context, env model.Environment, kind, namespace, name string) ([]byte, error) {
	var gvr schema.GroupVersionResource
	switch kind {
	case "HelmRelease":
		gvr = fluxobj.HelmReleaseGVR
	case "HelmRepository":
		gvr = fluxobj.HelmRepositoryGVR
	case "GitRepository":
		gvr = fluxobj.GitRepositoryGVR
	default:
		return nil, model.Errorf(model.CodeBadRequest, "kind %s is not a Flux object gitopstui reads", kind)
	}
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return nil, err
	}
	u, err := k.Dyn.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, model.Wrap(model.CodeK3sNotReady, err, "read "+kind+" "+namespace+"/"+name)
	}
	return u.MarshalJSON()
}

// HelmStored is the deployed revision of a Helm release as helm-controller
// stored it (Helm's Secret storage driver).
type HelmStored struct {
	Revision int
	Chart    string
	Version  string
	Manifest string
}

// DeployedHelmRelease reads the deployed revision of Helm release name from
// the Secrets of namespace in the environment's cluster; nil when there is
// none.
func (s *GitOps) DeployedHelmRelease(ctx context.Context, env model.Environment, namespace, name string) (*HelmStored, error) {
	k, _, err := s.kube.For(env.ClusterID)
	if err != nil {
		return nil, err
	}
	list, err := k.CS.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,status=deployed,name=" + name})
	if err != nil {
		return nil, model.Wrap(model.CodeK3sNotReady, err, "list the Helm release records of "+namespace+"/"+name)
	}
	var best *HelmStored
	for _, sec := range list.Items {
		r, err := decodeHelmRelease(sec.Data["release"])
		if err != nil {
			return nil, model.Errorf(model.CodeInternal, "Helm release record %s/%s: %v", namespace, sec.Name, err)
		}
		if best == nil || r.Revision > best.Revision {
			best = r
		}
	}
	return best, nil
}

// decodeHelmRelease decodes a Helm release record: base64 of (gzipped) JSON.
func decodeHelmRelease(data []byte) (*HelmStored, error) {
	raw, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return nil, err
	}
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		if raw, err = io.ReadAll(io.LimitReader(zr, maxReleaseBytes)); err != nil {
			return nil, err
		}
	}
	var r struct {
		Manifest string `json:"manifest"`
		Version  int    `json:"version"`
		Chart    struct {
			Metadata struct {
				Name    string `json:"name"`
				Version string `json:"version"`
			} `json:"metadata"`
		} `json:"chart"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	return &HelmStored{Revision: r.Version, Chart: r.Chart.Metadata.Name, Version: r.Chart.Metadata.Version, Manifest: r.Manifest}, nil
}
