package manifest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// defaultStartSeconds is the assumed time for a pod without a readiness
// probe to start and become ready.
const defaultStartSeconds = 10

// effective returns the value at keys under w's spec (patches override the workload).
func (p *planner) effective(w *workload, keys ...string) *yaml.Node {
	ds, _, _ := p.docsFor(w)
	var out *yaml.Node
	for _, d := range ds {
		n := mapValue(d.root, "spec")
		for _, k := range keys {
			n = mapValue(n, k)
		}
		if n != nil {
			out = n
		}
	}
	return out
}

// startEstimate estimates how long a new pod takes to become ready from
// its readiness probe (nil: none).
func startEstimate(probe *yaml.Node, container string) (int, string) {
	if probe == nil {
		return defaultStartSeconds, fmt.Sprintf("no readinessProbe on container %s: assumed %ds to start", container, defaultStartSeconds)
	}
	delay, _ := strconv.Atoi(scalarAt(probe, "initialDelaySeconds"))
	period := 10
	if v, err := strconv.Atoi(scalarAt(probe, "periodSeconds")); err == nil && v > 0 {
		period = v
	}
	return delay + period, fmt.Sprintf("readinessProbe initialDelaySeconds %d + periodSeconds %d", delay, period)
}

// intOrPercent resolves maxUnavailable / maxSurge as Kubernetes does.
func intOrPercent(n *yaml.Node, def string, total int64, roundUp bool) (int64, string) {
	v := def
	if n != nil && n.Value != "" {
		v = n.Value
	}
	if strings.HasSuffix(v, "%") {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil {
			return 0, v
		}
		x := pct * float64(total) / 100
		if roundUp {
			return int64(math.Ceil(x)), v
		}
		return int64(math.Floor(x)), v
	}
	i, _ := strconv.ParseInt(v, 10, 64)
	return i, v
}

// rollout is what decides the impact of a change on one workload.
type rollout struct {
	id, kind   string
	strategy   *yaml.Node // spec.strategy (Deployment) or spec.updateStrategy
	oldR, newR int64
	restart    bool       // the pod template changes
	probe      *yaml.Node // readinessProbe of the changed container
	container  string
}

// impact fills restart and downtime fields; warnings go to warn.
func (r rollout) impact(im *Impact, warn func(string)) {
	im.EstimatedDowntime = "none"
	oldR, newR := r.oldR, r.newR
	if r.kind == "DaemonSet" {
		oldR, newR = 1, 1
	}
	if !r.restart {
		r.scaleOnly(im, oldR, newR)
		return
	}
	secs, how := startEstimate(r.probe, r.container)
	down := fmt.Sprintf("~%ds", secs)
	if newR == 0 {
		im.EstimatedDowntime = "until scaled up"
		im.DowntimeReason = "no replicas will run"
		return
	}
	st := r.strategy
	switch r.kind {
	case "Deployment":
		im.WillRestartPods = true
		if scalarAt(st, "type") == "Recreate" {
			im.EstimatedDowntime = down
			im.DowntimeReason = fmt.Sprintf("Recreate strategy stops all %d pods before new ones start; new pods ready after %s", oldR, how)
			return
		}
		ru := mapValue(st, "rollingUpdate")
		mu, muS := intOrPercent(mapValue(ru, "maxUnavailable"), "25%", newR, false)
		ms, msS := intOrPercent(mapValue(ru, "maxSurge"), "25%", newR, true)
		if mu == 0 && ms == 0 {
			mu = 1
		}
		if avail := newR - mu; avail >= 1 {
			im.DowntimeReason = fmt.Sprintf("RollingUpdate keeps at least %d of %d pods available (maxUnavailable %s, maxSurge %s)", avail, newR, muS, msS)
			return
		}
		im.EstimatedDowntime = down
		im.DowntimeReason = fmt.Sprintf("RollingUpdate with %d replica(s) and maxUnavailable %s (= %d) may stop every pod before a new one is ready; new pods ready after %s", newR, muS, mu, how)
	case "StatefulSet":
		if scalarAt(st, "type") == "OnDelete" {
			im.DowntimeReason = "OnDelete update strategy: pods change only when deleted by hand"
			warn(fmt.Sprintf("%s uses updateStrategy OnDelete: running pods keep the old template until deleted", r.id))
			return
		}
		im.WillRestartPods = true
		mu, muS := intOrPercent(mapValue(mapValue(st, "rollingUpdate"), "maxUnavailable"), "1", newR, false)
		if mu < 1 {
			mu = 1
		}
		if newR-mu >= 1 {
			im.DowntimeReason = fmt.Sprintf("RollingUpdate replaces pods %d at a time in reverse ordinal order: %d of %d stay available (maxUnavailable %s)", mu, newR-mu, newR, muS)
			return
		}
		im.EstimatedDowntime = down
		im.DowntimeReason = fmt.Sprintf("StatefulSet with %d replica(s) stops its pods before replacing them (one at a time); new pod ready after %s", newR, how)
	case "DaemonSet":
		if scalarAt(st, "type") == "OnDelete" {
			im.DowntimeReason = "OnDelete update strategy: pods change only when deleted by hand"
			warn(fmt.Sprintf("%s uses updateStrategy OnDelete: running pods keep the old template until deleted", r.id))
			return
		}
		im.WillRestartPods = true
		ms, msS := intOrPercent(mapValue(mapValue(st, "rollingUpdate"), "maxSurge"), "0", 1, true)
		if ms >= 1 {
			im.DowntimeReason = fmt.Sprintf("DaemonSet RollingUpdate with maxSurge %s starts each node's new pod before stopping the old one", msS)
			return
		}
		im.EstimatedDowntime = down + " per node"
		im.DowntimeReason = fmt.Sprintf("DaemonSet RollingUpdate (maxSurge 0) stops each node's pod before its replacement starts; new pod ready after %s", how)
	}
}

// scaleOnly fills the downtime fields of a change that leaves the pod
// template alone: at most the replica count goes from oldR to newR.
func (r rollout) scaleOnly(im *Impact, oldR, newR int64) {
	switch {
	case newR == 0 && oldR > 0:
		im.EstimatedDowntime = "until scaled up"
		im.DowntimeReason = fmt.Sprintf("scaling %s from %d to 0 replicas stops every pod", r.id, oldR)
	case newR > oldR:
		im.DowntimeReason = fmt.Sprintf("only the replica count changes (%d to %d): running pods keep running, %d more start", oldR, newR, newR-oldR)
	case newR < oldR:
		im.DowntimeReason = fmt.Sprintf("only the replica count changes (%d to %d): %d pods stop, %d keep running", oldR, newR, oldR-newR, newR)
	default:
		im.DowntimeReason = "the pod template does not change: no pod restarts"
	}
}

func strategyKey(kind string) string {
	if kind == "Deployment" {
		return "strategy"
	}
	return "updateStrategy"
}

func (p *planner) impact(res *Result) Impact {
	im := Impact{AffectedResources: p.affected, EstimatedDowntime: "none"}
	for _, e := range res.Edits {
		if f := immutableField(p.w.kind, e.Field); f != "" {
			im.ImmutableChanges = append(im.ImmutableChanges, objectOr(e)+" "+e.Field)
		}
	}
	if len(res.Files) == 0 {
		im.DowntimeReason = "nothing changes"
		return im
	}
	warn := func(w string) { res.Warnings = append(res.Warnings, w) }
	if len(p.envUses) == 0 {
		p.rolloutOf(p.w, p.list, p.container, p.oldReplicas, p.newReplicas, p.restart).impact(&im, warn)
		return im
	}
	// Every workload using the image: the first downtime that is not none.
	var reasons []string
	seen := map[*workload]bool{}
	for _, u := range p.envUses {
		if seen[u.w] {
			continue
		}
		seen[u.w] = true
		restart := false
		for _, v := range p.envUses {
			restart = restart || v.w == u.w && v.final != p.ch.Image
		}
		cur, _, _ := p.currentReplicas(u.w)
		var one Impact
		r := p.rolloutOf(u.w, u.list, u.name, cur, cur, restart)
		r.impact(&one, warn)
		im.WillRestartPods = im.WillRestartPods || one.WillRestartPods
		if one.EstimatedDowntime != "none" && im.EstimatedDowntime == "none" {
			im.EstimatedDowntime = one.EstimatedDowntime
		}
		reasons = append(reasons, r.id+": "+one.DowntimeReason)
	}
	im.DowntimeReason = strings.Join(reasons, "; ")
	return im
}

// rolloutOf describes the rollout of workload w whose container changes.
func (p *planner) rolloutOf(w *workload, list, container string, oldR, newR int64, restart bool) rollout {
	ds, _, _ := p.docsFor(w)
	var probe *yaml.Node
	for _, d := range ds {
		if rp := mapValue(containerNamed(d.root, list, container), "readinessProbe"); rp != nil {
			probe = rp
		}
	}
	return rollout{id: w.id(), kind: w.kind, strategy: p.effective(w, strategyKey(w.kind)), oldR: oldR, newR: newR,
		restart: restart, probe: probe, container: container}
}

// immutableField returns the immutable field a path lies in, or "".
func immutableField(kind, field string) string {
	for _, f := range []string{"spec.selector"} {
		if field == f || strings.HasPrefix(field, f+".") {
			return f
		}
	}
	if kind == "StatefulSet" {
		for _, f := range []string{"spec.volumeClaimTemplates", "spec.serviceName", "spec.podManagementPolicy"} {
			if field == f || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
				return f
			}
		}
	}
	return ""
}

func objectOr(e Edit) string {
	if e.Object != "" {
		return e.Object
	}
	return e.Path
}
