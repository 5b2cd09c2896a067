package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fluxBuildScript is the build script of the controllers, relative to the repository root.
const fluxBuildScript = "testdata/fluxcontrollers/build.sh"

// controller is one Flux controller running as a local process.
type controller struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	health  string // host:port of its health probe
	done    chan struct{}
	waitErr error
}

// fluxControllers are the running source-controller and kustomize-controller.
type fluxControllers struct {
	procs []*controller
	// StorageAddr is where source-controller serves (and advertises) its artifacts.
	StorageAddr string
}

// controllerBinaries returns the directory holding source-controller and
// kustomize-controller, building them with build.sh when missing (minutes, once per machine).
func controllerBinaries(t testing.TB) string {
	t.Helper()
	script := findUp(t, fluxBuildScript)
	out, err := exec.Command("bash", script, "--print-dir").Output()
	if err != nil {
		t.Fatalf("%s --print-dir: %v", script, err)
	}
	dir := strings.TrimSpace(string(out))
	if isExec(filepath.Join(dir, "source-controller")) && isExec(filepath.Join(dir, "kustomize-controller")) {
		return dir
	}
	t.Logf("Flux controllers missing in %s: building them with %s (once per machine, ~15 minutes on 2 cores; `make fluxcontrollers` does this ahead of time)", dir, fluxBuildScript)
	cmd := exec.Command("bash", script)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build Flux controllers: %v", err)
	}
	return strings.TrimSpace(stdout.String())
}

// findUp walks up from the working directory to the file rel (go test runs in the package dir).
func findUp(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("%s not found above the working directory", rel)
		}
		dir = parent
	}
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// freePorts reserves n loopback ports at once (all listeners open together, so no two are
// the same), then releases them for the controllers to bind.
func freePorts(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, 0, n)
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return addrs
}

// startFluxControllers starts source-controller and kustomize-controller against the
// cluster of kubeconfig (they read KUBECONFIG; they have no flag for it): leader election
// off, metrics and health probes on free loopback ports, source-controller's artifact
// storage in a temporary directory served and advertised on 127.0.0.1, RUNTIME_NAMESPACE
// set to Flux's namespace. It returns once both answer their readiness probe; t.Cleanup
// stops them (SIGTERM, then SIGKILL) and waits for them, and logs their output when the
// test failed. The Flux CRDs must be installed first (the controllers watch them at start).
func startFluxControllers(t testing.TB, kubeconfig, namespace string) *fluxControllers {
	t.Helper()
	bin := controllerBinaries(t)
	ports := freePorts(t, 5)
	storage := t.TempDir()
	logDir := t.TempDir()
	f := &fluxControllers{StorageAddr: ports[2]}
	common := []string{"--enable-leader-election=false", "--log-encoding=console", "--log-level=info", "--events-addr="}
	specs := []struct {
		name string
		args []string
		hp   string
	}{
		{"source-controller", append([]string{"--metrics-addr=" + ports[0], "--health-addr=" + ports[1],
			"--storage-addr=" + ports[2], "--storage-adv-addr=" + ports[2], "--storage-path=" + storage}, common...), ports[1]},
		{"kustomize-controller", append([]string{"--metrics-addr=" + ports[3], "--health-addr=" + ports[4]}, common...), ports[4]},
	}
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+namespace, "HOME="+t.TempDir())
	for _, s := range specs {
		logPath := filepath.Join(logDir, s.name+".log")
		lf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(bin, s.name), s.args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = lf, lf
		if err := cmd.Start(); err != nil {
			_ = lf.Close()
			t.Fatalf("start %s: %v", s.name, err)
		}
		p := &controller{name: s.name, cmd: cmd, logPath: logPath, health: s.hp, done: make(chan struct{})}
		go func() {
			p.waitErr = cmd.Wait()
			_ = lf.Close()
			close(p.done)
		}()
		f.procs = append(f.procs, p)
	}
	t.Cleanup(func() {
		f.stop()
		if t.Failed() {
			f.dumpLogs(t)
		}
	})
	for _, p := range f.procs {
		if err := p.waitReady(90 * time.Second); err != nil {
			f.dumpLogs(t)
			t.Fatalf("%s: %v", p.name, err)
		}
	}
	return f
}

// waitReady polls the controller's readiness probe until it answers 200, the process
// exits, or timeout passes.
func (p *controller) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.health+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s", resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %v", timeout, last)
		case <-tick.C:
		}
	}
}

// stop ends every controller (SIGTERM, SIGKILL after 15s) and waits for it.
func (f *fluxControllers) stop() {
	for _, p := range f.procs {
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range f.procs {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// dumpLogs logs the last lines of each controller's output.
func (f *fluxControllers) dumpLogs(t testing.TB) {
	for _, p := range f.procs {
		b, err := os.ReadFile(p.logPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Logf("%s log: %v", p.name, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		t.Logf("---- %s (last %d lines) ----\n%s", p.name, len(lines), strings.Join(lines, "\n"))
	}
}
