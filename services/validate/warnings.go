package validate

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podSpecOf returns the pod spec of a workload and its field path.
func podSpecOf(obj runtime.Object) (*corev1.PodSpec, *field.Path) {
	tmpl := field.NewPath("spec", "template", "spec")
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.Spec, tmpl
	case *batchv1.Job:
		return &o.Spec.Template.Spec, tmpl
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec, field.NewPath("spec", "jobTemplate", "spec", "template", "spec")
	case *corev1.Pod:
		return &o.Spec, field.NewPath("spec")
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			return &o.Spec.Template.Spec, tmpl
		}
	case *corev1.PodTemplate:
		return &o.Template.Spec, field.NewPath("template", "spec")
	}
	return nil, nil
}

// builtinWarnings adds the best-practice warnings for a decoded object.
func (r *run) builtinWarnings(c *docCtx, obj runtime.Object) {
	if spec, p := podSpecOf(obj); spec != nil {
		each := func(list string, cs []corev1.Container) {
			for i, ctr := range cs {
				cp := p.Child(list).Index(i)
				r.imageWarning(c, cp.Child("image").String(), ctr.Name, ctr.Image)
				req, lim := len(ctr.Resources.Requests) > 0, len(ctr.Resources.Limits) > 0
				switch {
				case !req && !lim:
					r.warnAt(c, cp.Child("name").String(), fmt.Sprintf("container %q has no resource requests or limits", ctr.Name),
						"set resources.requests (cpu, memory) so the scheduler can place the pod, and resources.limits.memory to contain leaks")
				case !req:
					r.warnAt(c, cp.Child("resources").String(), fmt.Sprintf("container %q has limits but no resource requests", ctr.Name),
						"set resources.requests; without them requests default to the limits")
				case !lim:
					r.warnAt(c, cp.Child("resources").String(), fmt.Sprintf("container %q has no resource limits", ctr.Name),
						"set resources.limits.memory so a leak cannot take down the node")
				}
			}
		}
		each("initContainers", spec.InitContainers)
		each("containers", spec.Containers)
	}
	if s, ok := obj.(*corev1.Secret); ok && !c.d.sops {
		for _, f := range []struct {
			name string
			n    int
		}{{"data", len(s.Data)}, {"stringData", len(s.StringData)}} {
			if f.n > 0 {
				r.warnAt(c, f.name, fmt.Sprintf("Secret %q keeps %s in plain text in Git (base64 is not encryption)", s.Name, f.name),
					"encrypt it with SOPS (Flux decrypts it with spec.decryption) or use a SealedSecret or an external secret store")
			}
		}
	}
}

// imageWarning warns about image references that move: a missing tag or
// the latest tag.
func (r *run) imageWarning(c *docCtx, path, container, image string) {
	if image == "" || strings.Contains(image, "@") {
		return
	}
	name := image
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		tag = name[i+1:]
	}
	switch {
	case tag == "":
		r.warnAt(c, path, fmt.Sprintf("container %q image %q has no tag, so it means :latest", container, image),
			"pin a version tag (or a digest) so that Git says exactly what runs")
	case tag == "latest":
		r.warnAt(c, path, fmt.Sprintf("container %q uses the latest tag (%s)", container, image),
			"pin a version tag (or a digest) so that Git says exactly what runs and rollbacks work")
	}
}
