package e2e_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helmBuildScript builds helm-controller, relative to the repository root.
const helmBuildScript = "testdata/helmcontroller/build.sh"

// helmControllerBinary returns the path of helm-controller, building it with
// build.sh when missing (minutes, once per machine and version).
func helmControllerBinary(t *testing.T) string {
	t.Helper()
	script := findUp(t, helmBuildScript)
	out, err := exec.Command("bash", script, "--print-dir").Output()
	if err != nil {
		t.Fatalf("%s --print-dir: %v", script, err)
	}
	bin := filepath.Join(strings.TrimSpace(string(out)), "helm-controller")
	if isExec(bin) {
		return bin
	}
	t.Logf("helm-controller missing: building it with %s (once per machine, ~10 minutes on 2 cores)", helmBuildScript)
	cmd := exec.Command("bash", script)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build helm-controller: %v", err)
	}
	return filepath.Join(strings.TrimSpace(stdout.String()), "helm-controller")
}

// startHelmController starts the real helm-controller against the cluster
// of kubeconfig, as startFluxControllers starts the other two: leader
// election off, metrics and health probe on free loopback ports,
// RUNTIME_NAMESPACE set. There is no kubelet, so the HelmReleases it serves
// must disable waiting (spec.install.disableWait, spec.upgrade.disableWait).
// It returns once the controller answers its readiness probe; t.Cleanup
// stops it and logs its output when the test failed.
func startHelmController(t *testing.T, kubeconfig, namespace string) {
	t.Helper()
	bin := helmControllerBinary(t)
	ports := freePorts(t, 2)
	logPath := filepath.Join(t.TempDir(), "helm-controller.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--enable-leader-election=false", "--log-encoding=console", "--log-level=info", "--events-addr=",
		"--metrics-addr="+ports[0], "--health-addr="+ports[1])
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+namespace, "HOME="+t.TempDir())
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		t.Fatalf("start helm-controller: %v", err)
	}
	p := &controller{name: "helm-controller", cmd: cmd, logPath: logPath, health: ports[1], done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = lf.Close()
		close(p.done)
	}()
	f := &fluxControllers{procs: []*controller{p}}
	t.Cleanup(func() {
		f.stop()
		if t.Failed() {
			f.dumpLogs(t)
		}
	})
	if err := p.waitReady(90 * time.Second); err != nil {
		f.dumpLogs(t)
		t.Fatalf("helm-controller: %v", err)
	}
}
