package policy

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gitopstui/gitopstui/model"
)

func TestRemoteCallersBorrowNothing(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "keys")
	if err := os.MkdirAll(allowed, 0o700); err != nil {
		t.Fatal(err)
	}
	p := Policy{Serving: true, Env: []string{"SHOP_TOKEN"}, Files: []string{allowed}}
	ssh := model.Actor{User: "mallory", Role: model.RoleAdmin, Source: "ssh"}
	local := model.Actor{User: "op", Role: model.RoleAdmin, Source: "cli"}
	if model.CodeOf(p.CheckEnv(ssh, "auth.tokenEnv", "AWS_SECRET_ACCESS_KEY")) != model.CodeInsufficientPermission {
		t.Fatal("an SSH user borrowed a server variable")
	}
	if p.CheckEnv(ssh, "auth.tokenEnv", "SHOP_TOKEN") != nil || p.CheckEnv(local, "auth.tokenEnv", "AWS_SECRET_ACCESS_KEY") != nil {
		t.Fatal("an allowed variable or a local caller was refused")
	}
	for _, f := range []string{"/etc/passwd", filepath.Join(allowed, "..", "other"), ""} {
		if model.CodeOf(p.CheckFile(ssh, "auth.keyFile", f)) != model.CodeInsufficientPermission {
			t.Errorf("%q lent to an SSH user", f)
		}
	}
	if err := p.CheckFile(ssh, "auth.keyFile", filepath.Join(allowed, "id_ed25519")); err != nil {
		t.Fatalf("an allowed file refused: %v", err)
	}
	for _, u := range []string{"file:///srv/git/x.git", "/srv/git/x.git", "../x.git"} {
		if p.CheckRemoteURL(ssh, "url", u) == nil {
			t.Errorf("%s allowed to an SSH user", u)
		}
	}
	for _, u := range []string{"https://git.example.com/x.git", "ssh://git@host/x.git", "git@github.com:acme/x.git"} {
		if err := p.CheckRemoteURL(ssh, "url", u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	if (Policy{}).Remote(ssh) {
		t.Fatal("a local process restricts its callers")
	}
}

func TestReadFileRefusesDevicesFIFOsAndHugeFiles(t *testing.T) {
	if _, err := ReadFile("kubeconfig", "/dev/zero", MaxFileBytes); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("/dev/zero: %v", err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile("kubeconfig", fifo, MaxFileBytes); done <- err }()
	select {
	case err := <-done:
		if model.CodeOf(err) != model.CodeBadRequest {
			t.Fatalf("fifo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO hangs")
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile("kubeconfig", big, 1024); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("oversized file: %v", err)
	}
	if b, err := ReadFile("kubeconfig", big, 4096); err != nil || len(b) != 2048 {
		t.Fatalf("a regular file: %d %v", len(b), err)
	}
}
