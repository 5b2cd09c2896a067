// Package flux owns the Flux lifecycle on a cluster: installFlux (from the
// embedded bundle or given manifests, after reachability, permission and
// node checks), checkFluxHealth (CRDs and controllers judged with kstatus)
// and uninstallFlux (in `flux uninstall`'s order). Its handlers are bound to
// the gate by Register and reachable only through it.
package flux

import (
	"time"

	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
	"github.com/gitopstui/gitopstui/services/kube"
	"github.com/gitopstui/gitopstui/services/policy"
)

// Flux serves the Flux lifecycle procedures.
type Flux struct {
	policy policy.Policy
	clock  func() time.Time
	kube   *kube.Clients
}

// New returns the Flux lifecycle over the cluster clients k.
func New(clock func() time.Time, k *kube.Clients, p policy.Policy) *Flux {
	return &Flux{policy: p, clock: clock, kube: k}
}

func (s *Flux) now() time.Time { return s.clock().UTC() }

// Register binds the Flux lifecycle procedures.
func (s *Flux) Register(r *gate.Registry) {
	gate.Bind(r, api.InstallFlux, s.installFlux)
	gate.Bind(r, api.CheckFluxHealth, s.checkFluxHealth)
	gate.Bind(r, api.UninstallFlux, s.uninstallFlux)
}
