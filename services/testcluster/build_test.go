package testcluster_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const script = "../../testdata/controlplane/build.sh"

func runScript(t *testing.T, cache string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	// PATH without go: proves that a cache hit never invokes the toolchain.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, "PATH=/usr/bin:/bin")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build.sh %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

// TestBuildScriptCacheDir checks the cache layout and that build.sh returns at once,
// printing the directory, when both binaries are already there.
func TestBuildScriptCacheDir(t *testing.T) {
	cache := t.TempDir()
	versions := strings.Fields(runScript(t, cache, "--versions"))
	if len(versions) != 2 || !strings.HasPrefix(versions[0], "v1.36.") || !strings.HasPrefix(versions[1], "v3.6.") {
		t.Fatalf("--versions = %q, want kubernetes v1.36.x and etcd v3.6.x", versions)
	}
	want := filepath.Join(cache, "gitopstui", "controlplane", "k8s-"+versions[0]+"-etcd-"+versions[1])
	if got := runScript(t, cache, "--print-dir"); got != want {
		t.Fatalf("--print-dir = %q, want %q", got, want)
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Fatalf("--print-dir created %s (err %v)", want, err)
	}
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(want, bin), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got := runScript(t, cache); got != want {
		t.Fatalf("build.sh with both binaries present printed %q, want %q", got, want)
	}
}
