package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// flowDeployment is the workload the repository's prod overlay holds.
const flowDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
`

// flow is one run of the built binary in tmux over an empty data dir,
// with a real git server for its repository.
type flow struct {
	t      *testing.T
	p      *tmuxPane
	bin    string
	data   string
	kc     string // a kubeconfig whose server does not answer
	server *gittest.HTTPServer
	repo   string // the bare repository's directory
}

// TestTUIFlow drives the built binary in tmux through the day of issue 14:
// a cluster, a project, an environment and a repository created with `c`
// and pickers (no id typed), GitOps configured to a repository on a real git
// server, a deploy previewed, changed after esc and committed, a project
// created by `gitopstui --procedure` in another process appearing on the
// open screen, and that project deleted after typing its name.
func TestTUIFlow(t *testing.T) {
	f := startFlow(t)
	f.createCluster()
	f.createProject()
	f.createEnvironment()
	f.createRepository()
	f.configureGitOps()
	f.deploy()
	f.forwardedProject()
	f.deleteProject()
	f.p.keys("q")
	f.p.waitClosed()
}

// startFlow builds the binary, starts the git server and the TUI on an
// empty data dir at 120×40, the git token in the TUI's environment.
func startFlow(t *testing.T) *flow {
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatalf("tmux is required: %v", err)
	}
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	f := &flow{t: t, bin: filepath.Join(dir, "gitopstui"), data: filepath.Join(dir, "data"), kc: filepath.Join(dir, "kubeconfig")}
	if out, err := exec.Command("go", "build", "-o", f.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if err := os.WriteFile(f.kc, []byte(offlineKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	f.server = gittest.NewHTTPServer(t)
	f.server.CreateRepo(t, "acme/shop.git", map[string]string{
		"k8s/overlays/prod/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"k8s/overlays/prod/deployment.yaml":    flowDeployment,
	})
	f.repo = f.server.Dir("acme/shop.git")
	f.p = &tmuxPane{t: t, tmux: tmuxBin, sock: fmt.Sprintf("gitopstui-flow-%d", os.Getpid())}
	f.p.run("-f", "/dev/null", "new-session", "-d", "-s", "ui", "-x", "120", "-y", "40",
		"env", "TERM=xterm-256color", "EDITOR=", "VISUAL=", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"SHOP_GIT_TOKEN="+f.server.Password, f.bin, "--data-dir", f.data)
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-L", f.p.sock, "kill-server").Run() })
	f.p.wait("Clusters (0)")
	return f
}

// procedure runs `gitopstui --procedure name` in its own process on the
// TUI's data dir (forwarded to the TUI) and returns its output.
func (f *flow) procedure(name, input string) string {
	f.t.Helper()
	args := []string{"--data-dir", f.data, "--procedure", name}
	if input != "" {
		args = append(args, "--input", input)
	}
	out, err := exec.Command(f.bin, args...).CombinedOutput()
	if err != nil {
		f.t.Fatalf("gitopstui --procedure %s: %v\n%s", name, err, out)
	}
	return string(out)
}

func (f *flow) createCluster() {
	f.p.keys("c")
	f.p.wait("Register a cluster")
	f.p.keys("-l", "lab")
	f.p.keys("Tab")
	f.p.keys("-l", f.kc)
	f.p.keys("Tab")
	f.p.keys("-l", "lab")
	f.p.keys("C-s")
	f.p.wait("registered cluster lab", "Clusters (1)", "unreachable")
	if out := f.procedure("clusters.list", ""); !strings.Contains(out, `"name": "lab"`) {
		f.t.Fatalf("clusters.list after c:\n%s", out)
	}
}

// createProject: 2 switches to Projects, c opens the form that takes only
// a name (the id comes from it).
func (f *flow) createProject() {
	f.p.keys("2")
	f.p.wait("Projects (0)")
	f.p.keys("c")
	f.p.wait("Create a project")
	f.p.keys("-l", "shop")
	f.p.keys("C-s")
	f.p.wait("created project shop", "Projects (1)")
	if out := f.procedure("projects.list", ""); !strings.Contains(out, `"name": "shop"`) {
		f.t.Fatalf("projects.list after c:\n%s", out)
	}
}

// createEnvironment: enter on the project, c; the project and the cluster
// are pickers already on shop and lab.
func (f *flow) createEnvironment() {
	f.p.keys("Enter")
	f.p.wait("Environments of shop (0)")
	f.p.keys("c")
	f.p.wait("Create an environment", "▸ project*    / shop", "cluster*    lab")
	f.p.keys("Tab")
	f.p.keys("-l", "prod")
	f.p.keys("Tab", "Tab")
	f.p.keys("-l", "shop")
	f.p.keys("C-s")
	f.p.wait("created environment prod", "Environments of shop (1)")
	if out := f.procedure("environments.list", `{"projectId":"proj-shop"}`); !strings.Contains(out, `"namespace": "shop"`) {
		f.t.Fatalf("environments.list after c:\n%s", out)
	}
}

// createRepository: r on the environment opens the project's
// repositories; c, with the project picked, takes a name, the git server's
// URL and the variable holding its token.
func (f *flow) createRepository() {
	f.p.keys("r")
	f.p.wait("Repositories")
	f.p.keys("c")
	f.p.wait("Add a repository", "▸ project*        / shop")
	f.p.keys("Tab")
	f.p.keys("-l", "acme/shop")
	f.p.keys("Tab")
	f.p.keys("-l", f.server.RepoURL("acme/shop.git"))
	f.p.keys("Tab")
	f.p.keys("-l", "main")
	f.p.keys("Tab", "Right", "Right", "Right", "Tab") // credentials: basic-env
	f.p.keys("-l", f.server.User)
	f.p.keys("Tab")
	f.p.keys("-l", "SHOP_GIT_TOKEN")
	f.p.keys("C-s")
	f.p.wait("acme/shop", "Repositories of shop (1)")
	if out := f.procedure("repositories.list", `{"projectId":"proj-shop"}`); !strings.Contains(out, `"tokenEnv": "SHOP_GIT_TOKEN"`) {
		f.t.Fatalf("repositories.list after c:\n%s", out)
	}
	f.p.keys("Escape")
	f.p.wait("Environments of shop (1)")
}

// configureGitOps: o on the environment; enabled, the path of the
// overlay and the repository picked from the project's.
func (f *flow) configureGitOps() {
	f.p.keys("o")
	f.p.wait("GitOps config of prod", "path*       ./k8s/overlays/prod")
	f.p.keys("Space", "Tab", "Tab", "Tab", "Tab", "Tab")
	f.p.wait("enabled     [x]", "▸ repository  / ‹the project's GitOps repository›  1/2")
	f.p.keys("Right")
	f.p.wait("▸ repository  / acme/shop repo-acme-shop  2/2")
	f.p.keys("C-s")
	f.p.wait("GitOps config of prod saved", "Environments of shop (1)")
	out := f.procedure("environments.list", `{"projectId":"proj-shop"}`)
	for _, want := range []string{`"enabled": true`, `"repositoryId": "repo-acme-shop"`, `"gitPath": "./k8s/overlays/prod"`} {
		if !strings.Contains(out, want) {
			f.t.Fatalf("environments.list after o: no %s\n%s", want, out)
		}
	}
}

// deploy: D on the environment, an image, ctrl+s previews; esc goes back
// to the form, which takes keys; another tag, ctrl+s, and enter commits to
// the git server though nothing applies it.
func (f *flow) deploy() {
	before := gittest.Log(f.t, f.repo, "main")
	f.p.keys("D")
	f.p.wait("Deploy to prod", "Preview first: nothing is committed")
	f.p.keys("-l", "ghcr.io/acme/web:1.4.2")
	f.p.keys("C-s")
	f.p.wait("Preview Deployment/web → main@", "-          image: ghcr.io/acme/web:1.0.0", "+          image: ghcr.io/acme/web:1.4.2",
		"nothing will apply this commit", "enter: commit anyway")
	f.p.keys("Escape")
	f.p.wait("Preview first: nothing is committed", "ghcr.io/acme/web:1.4.2")
	f.p.keys("BSpace", "3")
	f.p.wait("ghcr.io/acme/web:1.4.3")
	f.p.keys("C-s")
	f.p.wait("Preview Deployment/web → main@", "+          image: ghcr.io/acme/web:1.4.3")
	if len(gittest.Log(f.t, f.repo, "main")) != len(before) {
		f.t.Fatal("previews committed")
	}
	f.p.keys("Enter")
	f.p.wait("✓ pushed", "Not waiting for Flux", "environment prod has no Flux Kustomization", "cluster lab is unreachable")
	after := gittest.Log(f.t, f.repo, "main")
	if len(after) != len(before)+1 {
		f.t.Fatalf("git log after the deploy: %q, before %q", after, before)
	}
	if got := gittest.Show(f.t, f.repo, "main", "k8s/overlays/prod/deployment.yaml") + gittest.Show(f.t, f.repo, "main", "k8s/overlays/prod/kustomization.yaml"); !strings.Contains(got, "ghcr.io/acme/web:1.4.3") || strings.Contains(got, "1.4.2") {
		f.t.Fatalf("the commit does not hold the changed tag 1.4.3 alone:\n%s", got)
	}
	f.p.wait("commit " + after[0][:7] + " on main")
	if out := f.procedure("deployments.list", `{"projectId":"proj-shop"}`); !strings.Contains(out, after[0]) || !strings.Contains(out, "ghcr.io/acme/web:1.4.3") {
		f.t.Fatalf("deployments.list has no deployment of %s:\n%s", after[0], out)
	}
	f.p.keys("Escape")
	f.p.wait("Environments of shop (1)")
}

// forwardedProject: on the open Projects screen, a project created by
// `gitopstui --procedure` in another process (forwarded to the TUI)
// appears without a key pressed.
func (f *flow) forwardedProject() {
	f.p.keys("2")
	f.p.wait("Projects (1)", "shop")
	if out := f.procedure("projects.list", ""); !strings.Contains(out, `"name": "shop"`) {
		f.t.Fatalf("projects.list while the TUI is open:\n%s", out)
	}
	f.procedure("projects.create", `{"name":"scratch"}`)
	start := time.Now()
	f.p.wait("Projects (2)", "proj-scratch")
	f.t.Logf("the forwarded project was on the screen %v after its call returned", time.Since(start).Round(10*time.Millisecond))
}

// deleteProject: ctrl+d on the forwarded project asks for its name; a
// wrong name deletes nothing, the right one deletes it from the screen and
// the store.
func (f *flow) deleteProject() {
	f.p.keys("/")
	f.p.keys("-l", "scratch")
	f.p.keys("Enter")
	f.p.wait("gitopstui › Projects /scratch\n")
	f.p.keys("C-d")
	f.p.wait("Delete project scratch", "Type scratch to confirm:")
	f.p.keys("-l", "scrat")
	f.p.keys("Enter")
	f.p.wait(`confirmation: type "scratch" to delete project scratch`)
	if out := f.procedure("projects.list", ""); !strings.Contains(out, "scratch") {
		f.t.Fatalf("a wrong name deleted the project:\n%s", out)
	}
	f.p.keys("-l", "ch")
	f.p.keys("Enter")
	f.p.wait("✓ deleted project scratch", "Projects (0 of 1, filtered /scratch)", "no row matches /scratch")
	f.p.keys("Escape")
	s := f.p.wait("Projects (1)", "shop")
	if strings.Contains(s, "proj-scratch") {
		f.t.Fatalf("scratch still on screen:\n%s", s)
	}
	if out := f.procedure("projects.list", ""); strings.Contains(out, "scratch") || !strings.Contains(out, `"name": "shop"`) {
		f.t.Fatalf("projects.list after the delete:\n%s", out)
	}
}
