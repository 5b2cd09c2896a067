package services_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/api"
	"github.com/gitopstui/gitopstui/services/gate"
)

// procRole is one row of the role table: the role a procedure needs, whether
// it is a mutation (audited), and a minimal input that decodes and passes the
// input's rules. The inputs name records that do not exist, so an allowed
// call ends at NOT_FOUND (or a refused file) without reaching a cluster or a
// remote.
type procRole struct {
	role     model.Role
	mutation bool
	input    string
}

const (
	viewer   = model.RoleViewer
	operator = model.RoleOperator
	admin    = model.RoleAdmin
)

// procedureRoles pins every procedure's role. A procedure without a row
// fails TestProcedureRoleTable and TestEveryProcedureRoleGate: adding one
// means deciding who may call it.
var procedureRoles = map[string]procRole{
	"audit.list":                    {admin, false, `{"limit":1}`},
	"clusters.get":                  {viewer, false, `{"id":"cluster-none","live":false}`},
	"clusters.importKubeconfig":     {admin, true, `{"kubeconfig":"/nonexistent/gitopstui/kubeconfig"}`},
	"clusters.list":                 {viewer, false, `{"live":false}`},
	"clusters.register":             {admin, true, `{"name":"Role gate","kubeconfig":"/nonexistent/gitopstui/kubeconfig"}`},
	"clusters.remove":               {admin, true, `{"id":"cluster-none"}`},
	"deployments.create":            {operator, true, `{"projectId":"proj-none","environmentId":"env-none","deploymentMethod":"manual"}`},
	"deployments.get":               {viewer, false, `{"id":"dep-none"}`},
	"deployments.previewRollback":   {viewer, false, `{"id":"dep-none"}`},
	"deployments.rollback":          {operator, true, `{"id":"dep-none"}`},
	"environments.previewPromotion": {viewer, false, `{"fromEnvironmentId":"env-none","toEnvironmentId":"env-other"}`},
	"environments.promote":          {operator, true, `{"fromEnvironmentId":"env-none","toEnvironmentId":"env-other"}`},
	"deployments.list":              {viewer, false, `{"limit":1}`},
	"environments.configureGitOps":  {operator, true, `{"environmentId":"env-none","config":{"autoSync":true}}`},
	"environments.create":           {admin, true, `{"projectId":"proj-none","name":"dev","clusterId":"cluster-none","namespace":"dev"}`},
	"environments.delete":           {admin, true, `{"id":"env-none"}`},
	"environments.get":              {viewer, false, `{"id":"env-none"}`},
	"environments.getGitOpsConfig":  {viewer, false, `{"environmentId":"env-none"}`},
	"environments.list":             {viewer, false, `{}`},
	"environments.update":           {admin, true, `{"id":"env-none","namespace":"dev"}`},
	"gitops.checkFluxHealth":        {viewer, false, `{"clusterId":"cluster-none"}`},
	"gitops.bulk":                   {operator, true, `{"action":"resume","selector":{"names":["res-none"]}}`},
	"gitops.dependencyGraph":        {viewer, false, `{"clusterId":"cluster-none"}`},
	"gitops.commitConfigChanges": {operator, true, `{"projectId":"proj-none","environmentId":"env-none",` +
		`"yaml":"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n","commitMessage":"role gate"}`},
	"gitops.createGitOpsResource":  {operator, true, `{"projectId":"proj-none","environmentId":"env-none","type":"kustomization","name":"web"}`},
	"gitops.deleteGitOpsResource":  {operator, true, `{"id":"res-none"}`},
	"gitops.deployWithGitOps":      {operator, true, `{"projectId":"proj-none","environmentId":"env-none","replicas":1}`},
	"gitops.getGitOpsResource":     {viewer, false, `{"id":"res-none"}`},
	"gitops.installFlux":           {admin, true, `{"clusterId":"cluster-none"}`},
	"gitops.listGitOpsResources":   {viewer, false, `{"projectId":"proj-none"}`},
	"gitops.listFleet":             {viewer, false, `{}`},
	"gitops.previewChanges":        {viewer, false, `{"projectId":"proj-none","environmentId":"env-none","changes":{"replicas":1}}`},
	"gitops.readConfig":            {viewer, false, `{"environmentId":"env-none"}`},
	"gitops.diffHelmRelease":       {viewer, false, `{"id":"gr-none"}`},
	"gitops.resumeGitOpsResource":  {operator, true, `{"id":"res-none"}`},
	"gitops.suspendGitOpsResource": {operator, true, `{"id":"res-none"}`},
	"gitops.triggerSync":           {operator, true, `{"id":"res-none"}`},
	"gitops.triage":                {viewer, false, `{"clusterId":"cluster-none"}`},
	"gitops.uninstallFlux":         {admin, true, `{"clusterId":"cluster-none"}`},
	"gitops.updateGitOpsResource":  {operator, true, `{"id":"res-none","config":{"interval":"5m"}}`},
	"gitops.validateYAML":          {viewer, false, `{"yaml":"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"}`},
	"projects.create":              {admin, true, `{"name":"Role gate"}`},
	"projects.delete":              {admin, true, `{"id":"proj-none"}`},
	"projects.get":                 {viewer, false, `{"id":"proj-none"}`},
	"projects.list":                {viewer, false, `{}`},
	"repositories.create":          {admin, true, `{"projectId":"proj-none","fullName":"acme/shop","url":"https://git.example/acme/shop.git"}`},
	"repositories.delete":          {admin, true, `{"id":"repo-none"}`},
	"repositories.enableGitOps":    {admin, true, `{"repositoryId":"repo-none"}`},
	"repositories.get":             {viewer, false, `{"id":"repo-none"}`},
	"repositories.getFluxStatus":   {viewer, false, `{"repositoryId":"repo-none"}`},
	"repositories.list":            {viewer, false, `{}`},
	"repositories.update":          {admin, true, `{"id":"repo-none","defaultBranch":"develop"}`},
}

// roleRank orders the roles on its own (not through model.Role.Allows, which
// is under test): an unknown or missing role is below viewer.
func roleRank(r model.Role) int {
	return map[model.Role]int{viewer: 1, operator: 2, admin: 3}[r]
}

// sortedProcedureNames is procedureRoles' keys in order.
func sortedProcedureNames() []string {
	names := make([]string, 0, len(procedureRoles))
	for n := range procedureRoles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestProcedureRoleTable: the contract declares exactly the roles of the
// table, and the table follows the policy of the README: queries are for
// viewers (the audit log for admins), no viewer mutates, installing and
// removing Flux, enabling a repository's source and every catalog deletion
// are for admins.
func TestProcedureRoleTable(t *testing.T) {
	decls := api.Infos()
	var problems []string
	declared := map[string]bool{}
	for _, d := range decls {
		declared[d.Name] = true
		row, ok := procedureRoles[d.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (%s) has no row in procedureRoles", d.Name, d.Role))
		case row.role != d.Role || row.mutation != d.Mutation:
			problems = append(problems, fmt.Sprintf("%s is declared %s mutation=%v, the table says %s mutation=%v", d.Name, d.Role, d.Mutation, row.role, row.mutation))
		}
		if p := rolePolicyProblem(d); p != "" {
			problems = append(problems, p)
		}
	}
	for _, name := range sortedProcedureNames() {
		if !declared[name] {
			problems = append(problems, name+" is in procedureRoles but not declared")
		}
	}
	if len(problems) > 0 {
		t.Fatalf("%s\n\nroles as declared:\n%s", strings.Join(problems, "\n"), formatRoleTable(decls))
	}
}

// rolePolicyProblem says how d breaks the role policy ("" when it does not).
func rolePolicyProblem(d api.Info) string {
	adminOnly := map[string]bool{"gitops.installFlux": true, "gitops.uninstallFlux": true, "repositories.enableGitOps": true,
		"clusters.register": true, "clusters.importKubeconfig": true, "audit.list": true}
	catalogDeletion := strings.HasSuffix(d.Name, ".delete") || strings.HasSuffix(d.Name, ".remove")
	switch {
	case (adminOnly[d.Name] || catalogDeletion) && d.Role != admin:
		return fmt.Sprintf("%s needs %s; it must need admin", d.Name, d.Role)
	case !d.Mutation && !adminOnly[d.Name] && d.Role != viewer:
		return fmt.Sprintf("query %s needs %s; queries are for viewers", d.Name, d.Role)
	case d.Mutation && roleRank(d.Role) < roleRank(operator):
		return fmt.Sprintf("mutation %s needs only %q", d.Name, d.Role)
	}
	return ""
}

func formatRoleTable(decls []api.Info) string {
	var b strings.Builder
	for _, d := range decls {
		kind := "query"
		if d.Mutation {
			kind = "mutation"
		}
		fmt.Fprintf(&b, "  %-30s %-8s %s\n", d.Name, d.Role, kind)
	}
	return b.String()
}

// refusedMutation is a mutation the gate refused, to be found in the audit.
type refusedMutation struct {
	user, role, proc string
}

// TestEveryProcedureRoleGate calls every procedure the registry serves as no
// one, as an unknown role, as viewer, operator and admin, with an input that
// decodes: exactly the roles below the table's get INSUFFICIENT_PERMISSIONS,
// the others get past the gate (any other outcome, never INTERNAL), and
// every refused mutation is in the audit log with its caller and code.
func TestEveryProcedureRoleGate(t *testing.T) {
	h := newCatalogHarness(t)
	var refused []refusedMutation
	served := h.reg.Procedures()
	if len(served) != len(procedureRoles) {
		t.Errorf("the registry serves %d procedures, the role table has %d rows", len(served), len(procedureRoles))
	}
	for _, p := range served {
		row, ok := procedureRoles[p.Name]
		if !ok {
			t.Errorf("%s has no row in procedureRoles: give it a role and a minimal input", p.Name)
			continue
		}
		// The input passes decoding and the rules, so an allowed caller
		// reaches the handler; a refusal cannot come from the input.
		if err := gate.DecodeInput([]byte(row.input), reflect.New(p.Input).Interface()); err != nil {
			t.Errorf("%s: the table's input %s does not decode: %v", p.Name, row.input, err)
			continue
		}
		refused = append(refused, checkRoleGate(t, h, p.Name, row)...)
	}
	checkRefusalsAudited(t, h, refused)
}

// checkRoleGate calls proc as every role and returns the refused mutations.
func checkRoleGate(t *testing.T, h *catalogHarness, proc string, row procRole) []refusedMutation {
	t.Helper()
	var refused []refusedMutation
	for _, role := range []model.Role{"", "guest", viewer, operator, admin} {
		user := fmt.Sprintf("%s-as-%s", proc, role)
		ctx := h.as(user, role)
		if role == "" {
			ctx, user = context.Background(), "" // no actor at all
		}
		_, err := h.reg.Call(ctx, proc, []byte(row.input))
		code := model.CodeOf(err)
		below := roleRank(role) < roleRank(row.role)
		switch {
		case below && code != model.CodeInsufficientPermission:
			t.Errorf("%s as %q (needs %s): %v, want INSUFFICIENT_PERMISSIONS", proc, role, row.role, err)
		case !below && code == model.CodeInsufficientPermission:
			t.Errorf("%s as %s (needs %s) refused: %v", proc, role, row.role, err)
		case code == model.CodeInternal:
			t.Errorf("%s as %s: INTERNAL: %v", proc, role, err)
		case below && row.mutation:
			refused = append(refused, refusedMutation{user: user, role: string(role), proc: proc})
		}
	}
	return refused
}

// checkRefusalsAudited pages through the whole audit log and finds each
// refused mutation with its caller, role and code.
func checkRefusalsAudited(t *testing.T, h *catalogHarness, refused []refusedMutation) {
	t.Helper()
	found := map[refusedMutation]bool{}
	cursor := ""
	for {
		raw, err := h.reg.Call(h.ctx, "audit.list", catalogRaw(map[string]any{"limit": 1000, "cursor": cursor}))
		if err != nil {
			t.Fatal(err)
		}
		page, err := api.Convert[api.Page[model.AuditEntry]]("audit.list", raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if e.Code == model.CodeInsufficientPermission {
				found[refusedMutation{user: e.Actor, role: e.Role, proc: e.Procedure}] = true
			}
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(refused) == 0 {
		t.Fatal("no mutation was refused")
	}
	for _, r := range refused {
		if !found[r] {
			t.Errorf("refused %s by %q (role %q) is not audited (%d refusals are)", r.proc, r.user, r.role, len(found))
		}
	}
}
