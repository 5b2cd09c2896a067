package gitx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/gitx"
	"github.com/gitopstui/gitopstui/services/gitx/gittest"
)

// setFile is an intent that writes one file.
func setFile(path, content string) gitx.Intent {
	return func(gitx.Snapshot) (gitx.Changes, error) {
		return gitx.Changes{Write: map[string][]byte{path: []byte(content)}}, nil
	}
}

func TestCommitAndPushHTTP(t *testing.T) {
	ctx := context.Background()
	srv, r := newHTTP(t)
	dir := srv.Dir("fleet.git")
	base := gittest.Log(t, dir, "main")[0]
	var seen gitx.Snapshot
	res, err := r.CommitAndPush(ctx, "main", func(s gitx.Snapshot) (gitx.Changes, error) {
		seen = s
		b, err := s.ReadFile("apps/web/deployment.yaml")
		if err != nil {
			return gitx.Changes{}, err
		}
		files, err := s.ReadTree("apps")
		if err != nil || len(files) != 3 {
			return gitx.Changes{}, fmt.Errorf("ReadTree(apps) = %d files, %v", len(files), err)
		}
		return gitx.Changes{Write: map[string][]byte{"apps/web/deployment.yaml": []byte(strings.Replace(string(b), "web:1.0", "web:2.0", 1))}}, nil
	}, meta("deploy web 2.0"), gitx.RetryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Head != base || res.Parent != base || res.Attempts != 1 || res.NoOp || res.Branch != "main" {
		t.Fatalf("result %+v (snapshot head %s, base %s)", res, seen.Head, base)
	}
	if log := gittest.Log(t, dir, "main"); log[0] != res.Commit || log[1] != base {
		t.Fatalf("remote log %v", log)
	}
	if res.WebURL != srv.RepoURL("fleet.git")[:len(srv.RepoURL("fleet.git"))-len(".git")]+"/commit/"+res.Commit {
		t.Fatalf("web url %q", res.WebURL)
	}
	if got := gittest.Show(t, dir, "main", "apps/web/deployment.yaml"); got != "replicas: 1\nimage: web:2.0" {
		t.Fatalf("content %q", got)
	}
	// the same intent again changes nothing: no commit, no push
	res2, err := r.CommitAndPush(ctx, "main", setFile("apps/web/deployment.yaml", "replicas: 1\nimage: web:2.0\n"), meta("again"), gitx.RetryOpts{})
	if err != nil || !res2.NoOp || res2.Commit != res.Commit {
		t.Fatalf("no-op: %+v %v", res2, err)
	}
	// a branch the remote lacks is created from nothing
	res3, err := r.CommitAndPush(ctx, "feature/x", func(s gitx.Snapshot) (gitx.Changes, error) {
		if s.Head != "" {
			return gitx.Changes{}, fmt.Errorf("head %q for a new branch", s.Head)
		}
		return gitx.Changes{Write: map[string][]byte{"only.txt": []byte("x\n")}}, nil
	}, meta("start"), gitx.RetryOpts{})
	if err != nil || res3.Parent != "" {
		t.Fatalf("new branch: %+v %v", res3, err)
	}
	if got := gittest.Log(t, dir, "feature/x"); len(got) != 1 || got[0] != res3.Commit {
		t.Fatalf("new branch log %v", got)
	}
	// an intent error comes back as is
	conflict := model.Errorf(model.CodeConflictDetected, "changed upstream")
	_, err = r.CommitAndPush(ctx, "main", func(gitx.Snapshot) (gitx.Changes, error) { return gitx.Changes{}, conflict }, meta("x"), gitx.RetryOpts{})
	if err != conflict {
		t.Fatalf("intent error not returned as is: %v", err)
	}
	// Fetch reports the head
	if h, err := r.Fetch(ctx, "main"); err != nil || h != res.Commit {
		t.Fatalf("Fetch = %s %v", h, err)
	}
	if h, err := r.Fetch(ctx, "missing"); err != nil || h != "" {
		t.Fatalf("Fetch(missing) = %q %v", h, err)
	}
}

func TestWrongPasswordIsGitAuthFailed(t *testing.T) {
	ctx := context.Background()
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "fleet.git", seed)
	r, err := gitx.Open(filepath.Join(t.TempDir(), "c.git"), srv.RepoURL("fleet.git"),
		gitx.Auth{Username: srv.User, PasswordEnv: "TOKEN"}, gitx.WithEnv("TOKEN=wrong"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, _, err = r.ReadTree(ctx, "main", "")
	e := wantCode(t, err, model.CodeGitAuthFailed)
	if !strings.Contains(e.Message, "invalid username or password for gitops") || e.Details["remoteMessage"] != "invalid username or password for gitops" {
		t.Fatalf("remote message not carried: %+v", e)
	}
	_, err = r.CommitAndPush(ctx, "main", setFile("a", "b"), meta("x"), gitx.RetryOpts{})
	e = wantCode(t, err, model.CodeGitAuthFailed)
	if !strings.Contains(e.Message, "invalid username or password") {
		t.Fatalf("push message %q", e.Message)
	}
	// no credentials at all: the 401 is GIT_AUTH_FAILED too
	anon, err := gitx.Open(filepath.Join(t.TempDir(), "d.git"), srv.RepoURL("fleet.git"), gitx.Auth{NoCredentialHelper: true})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	_, err = anon.Fetch(ctx, "main")
	wantCode(t, err, model.CodeGitAuthFailed)
	// a configured but empty variable is reported as such
	empty, _ := gitx.Open(filepath.Join(t.TempDir(), "e.git"), srv.RepoURL("fleet.git"), gitx.Auth{PasswordEnv: "GITX_TEST_UNSET_VAR"})
	defer empty.Close()
	_, err = empty.Fetch(ctx, "main")
	if e := wantCode(t, err, model.CodeGitAuthFailed); !strings.Contains(e.Message, "GITX_TEST_UNSET_VAR") {
		t.Fatalf("message %q", e.Message)
	}
}

func TestCredentialHelper(t *testing.T) {
	ctx := context.Background()
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "fleet.git", seed)
	home := t.TempDir()
	store := filepath.Join(home, "creds")
	if err := os.WriteFile(store, []byte(srv.RepoURLWithCreds("")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(cfg, []byte("[credential]\n\thelper = store --file="+store+"\n[user]\n\tname = Grace\n\temail = grace@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := gitx.Open(filepath.Join(t.TempDir(), "c.git"), srv.RepoURL("fleet.git"), gitx.Auth{},
		gitx.WithEnv("GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1", "HOME="+home))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.CommitAndPush(ctx, "main", setFile("helper.txt", "ok\n"), gitx.CommitMeta{Subject: "via helper"}, gitx.RetryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	// the author comes from the global git config when the caller gives none
	if got := gittest.Git(t, srv.Dir("fleet.git"), "log", "-1", "--format=%an <%ae>", res.Commit); got != "Grace <grace@example.com>" {
		t.Fatalf("author %q", got)
	}
	// without any git config the author is gitopstui
	bare, _ := gitx.Open(filepath.Join(t.TempDir(), "d.git"), srv.RepoURLWithCreds("fleet.git"), gitx.Auth{},
		gitx.WithEnv("GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1"))
	defer bare.Close()
	if a := bare.DefaultAuthor(ctx); a.Name != "gitopstui" {
		t.Fatalf("default author %+v", a)
	}
	// a helper with a wrong password: GIT_AUTH_FAILED, and git is told to forget it
	if err := os.WriteFile(store, []byte(strings.Replace(srv.RepoURLWithCreds(""), srv.Password, "wrong", 1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r2, _ := gitx.Open(filepath.Join(t.TempDir(), "e.git"), srv.RepoURL("fleet.git"), gitx.Auth{},
		gitx.WithEnv("GIT_CONFIG_GLOBAL="+cfg, "GIT_CONFIG_NOSYSTEM=1", "HOME="+home))
	defer r2.Close()
	_, err = r2.Fetch(ctx, "main")
	wantCode(t, err, model.CodeGitAuthFailed)
	if b, _ := os.ReadFile(store); strings.Contains(string(b), "wrong") {
		t.Fatalf("rejected credential kept: %q", b)
	}
}

func TestReadOnlyRemote(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"receivepack-off", "pre-receive-hook"} {
		t.Run(mode, func(t *testing.T) {
			srv, r := newHTTP(t)
			dir := srv.Dir("fleet.git")
			base := gittest.Log(t, dir, "main")[0]
			if mode == "receivepack-off" {
				srv.SetReadOnly(t, "fleet.git", true)
			} else {
				gittest.RejectPushes(t, dir, "this repository is read-only (mirror)")
			}
			var built string
			_, err := r.CommitAndPush(ctx, "main", setFile("apps/web/deployment.yaml", "replicas: 9\n"), meta("scale"), gitx.RetryOpts{})
			e := wantCode(t, err, model.CodeInsufficientPermission)
			if mode == "pre-receive-hook" {
				if !strings.Contains(e.Message, "this repository is read-only (mirror)") || !strings.Contains(e.Message, "pre-receive hook declined") {
					t.Fatalf("message %q", e.Message)
				}
				built, _ = e.Details["commitSha"].(string)
				// nothing lost locally: the commit is readable from the cache
				if b, _, err := r.ReadFile(ctx, built, "apps/web/deployment.yaml"); err != nil || string(b) != "replicas: 9\n" {
					t.Fatalf("commit %s not kept locally: %q %v", built, b, err)
				}
			} else if !strings.Contains(e.Message, "read-only") || !strings.Contains(e.Message, "403") || e.Details["remote"] == nil {
				t.Fatalf("message %q", e.Message)
			}
			if got := gittest.Log(t, dir, "main"); len(got) != 1 || got[0] != base {
				t.Fatalf("remote changed: %v", got)
			}
			// the local ref did not move: a read of main sees the remote head
			if _, head, err := r.ReadFile(ctx, "main", "README.md"); err != nil || head != base {
				t.Fatalf("main = %s %v", head, err)
			}
		})
	}
}

func TestSSH(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	gittest.InitBare(t, filepath.Join(root, "fleet.git"), seed)
	srv := gittest.NewSSHServer(t, root)
	open := func(auth gitx.Auth) *gitx.Repo {
		r, err := gitx.Open(filepath.Join(t.TempDir(), "c.git"), srv.RepoURL("fleet.git"), auth)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	t.Run("key file", func(t *testing.T) {
		r := open(gitx.Auth{SSHKeyFile: srv.ClientKey, KnownHostsFile: srv.KnownHosts})
		res, err := r.CommitAndPush(ctx, "main", setFile("ssh/key.txt", "key\n"), meta("over ssh"), gitx.RetryOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if got := gittest.Log(t, filepath.Join(root, "fleet.git"), "main")[0]; got != res.Commit {
			t.Fatalf("remote head %s, want %s", got, res.Commit)
		}
		if res.WebURL != "https://127.0.0.1/fleet/commit/"+res.Commit {
			t.Fatalf("web url %s", res.WebURL)
		}
	})
	t.Run("agent", func(t *testing.T) {
		sock := srv.StartAgent(t)
		r := open(gitx.Auth{SSHAgentSocket: sock, KnownHostsFile: srv.KnownHosts})
		res, err := r.CommitAndPush(ctx, "main", setFile("ssh/agent.txt", "agent\n"), meta("via agent"), gitx.RetryOpts{})
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := r.ReadFile(ctx, "main", "ssh/key.txt")
		if err != nil || string(b) != "key\n" || res.Parent == "" {
			t.Fatalf("read over ssh: %q %v", b, err)
		}
	})
	t.Run("unknown host key", func(t *testing.T) {
		empty := filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(empty, nil, 0o600)
		r := open(gitx.Auth{SSHKeyFile: srv.ClientKey, KnownHostsFile: empty})
		_, err := r.Fetch(ctx, "main")
		if e := wantCode(t, err, model.CodeGitAuthFailed); e.Details["reason"] != "host_key_unknown" {
			t.Fatalf("details %v", e.Details)
		}
		_, err = r.CommitAndPush(ctx, "main", setFile("x", "y"), meta("x"), gitx.RetryOpts{})
		wantCode(t, err, model.CodeGitAuthFailed)
	})
	t.Run("host key mismatch", func(t *testing.T) {
		other := gittest.NewSSHServer(t, root) // a different host key
		kh := filepath.Join(t.TempDir(), "known_hosts")
		b, _ := os.ReadFile(other.KnownHosts)
		os.WriteFile(kh, []byte(strings.Replace(string(b), other.Addr[strings.LastIndex(other.Addr, ":"):], srv.Addr[strings.LastIndex(srv.Addr, ":"):], 1)), 0o600)
		r := open(gitx.Auth{SSHKeyFile: srv.ClientKey, KnownHostsFile: kh})
		_, err := r.Fetch(ctx, "main")
		if e := wantCode(t, err, model.CodeGitAuthFailed); e.Details["reason"] != "host_key_mismatch" {
			t.Fatalf("details %v: %v", e.Details, err)
		}
	})
	t.Run("unauthorized key", func(t *testing.T) {
		other := gittest.NewSSHServer(t, root) // its client key is not authorized on srv
		r := open(gitx.Auth{SSHKeyFile: other.ClientKey, KnownHostsFile: srv.KnownHosts})
		_, err := r.CommitAndPush(ctx, "main", setFile("x", "y"), meta("x"), gitx.RetryOpts{})
		if e := wantCode(t, err, model.CodeGitAuthFailed); !strings.Contains(e.Message, "unable to authenticate") {
			t.Fatalf("message %q", e.Message)
		}
	})
}

// TestRacingWriters: two caches push to the same branch at the same moment,
// 100 rounds. The intents meet at a barrier after both have read the same
// head, so every round one push loses the race and must fetch, re-apply and
// retry. Every commit must land and none may be lost.
func TestRacingWriters(t *testing.T) {
	ctx := context.Background()
	srv, a := newHTTP(t)
	b := openHTTP(t, srv, "fleet.git")
	dir := srv.Dir("fleet.git")
	const rounds = 100
	var attempts [2]int
	var mine [2][]string
	for round := range rounds {
		var barrier sync.WaitGroup
		barrier.Add(2)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w, repo := range []*gitx.Repo{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				res, err := repo.CommitAndPush(ctx, "main", func(s gitx.Snapshot) (gitx.Changes, error) {
					if first {
						first = false
						barrier.Done()
						barrier.Wait()
					}
					path := fmt.Sprintf("writers/%d/log.txt", w)
					old, _ := s.ReadFile(path)
					return gitx.Changes{Write: map[string][]byte{path: append(old, fmt.Sprintf("round %d\n", round)...)}}, nil
				}, meta(fmt.Sprintf("writer %d round %d", w, round)), gitx.RetryOpts{})
				errs[w] = err
				attempts[w] += res.Attempts
				mine[w] = append(mine[w], res.Commit)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	log := gittest.Log(t, dir, "main")
	if len(log) != 2*rounds+1 {
		t.Fatalf("server has %d commits, want %d", len(log), 2*rounds+1)
	}
	onServer := map[string]bool{}
	for _, c := range log {
		onServer[c] = true
	}
	for w := range 2 {
		for i, c := range mine[w] {
			if !onServer[c] {
				t.Fatalf("writer %d round %d commit %s lost", w, i, c)
			}
		}
		want := ""
		for i := range rounds {
			want += fmt.Sprintf("round %d\n", i)
		}
		if got := gittest.Show(t, dir, "main", fmt.Sprintf("writers/%d/log.txt", w)); got+"\n" != want {
			t.Fatalf("writer %d file lost lines:\n%s", w, got)
		}
	}
	// exactly one writer lost each round and needed one retry
	if attempts[0]+attempts[1] != 3*rounds {
		t.Fatalf("attempts %v, want %d in total", attempts, 3*rounds)
	}
	gittest.Git(t, dir, "fsck", "--strict")
}

// TestConcurrentSameField: two writers change the same field from the same
// base; the loser's intent sees the field changed upstream on the new head
// and reports CONFLICT_DETECTED, which CommitAndPush returns as is.
func TestConcurrentSameField(t *testing.T) {
	ctx := context.Background()
	srv, a := newHTTP(t)
	b := openHTTP(t, srv, "fleet.git")
	const path = "apps/web/deployment.yaml"
	setReplicas := func(want string) gitx.Intent {
		const base = "replicas: 1\n"
		return func(s gitx.Snapshot) (gitx.Changes, error) {
			cur, err := s.ReadFile(path)
			if err != nil {
				return gitx.Changes{}, err
			}
			line, rest, _ := strings.Cut(string(cur), "\n")
			if line+"\n" != base {
				return gitx.Changes{}, model.Errorf(model.CodeConflictDetected, "replicas changed upstream").
					WithDetail("conflicts", []map[string]any{{"path": path, "field": "spec.replicas", "base": "1", "ours": want, "theirs": strings.TrimPrefix(line, "replicas: ")}})
			}
			return gitx.Changes{Write: map[string][]byte{path: []byte("replicas: " + want + "\n" + rest)}}, nil
		}
	}
	var barrier, wg sync.WaitGroup
	barrier.Add(2)
	errs := make([]error, 2)
	for i, r := range []*gitx.Repo{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			intent := setReplicas(fmt.Sprint(i + 2))
			first := true
			_, errs[i] = r.CommitAndPush(ctx, "main", func(s gitx.Snapshot) (gitx.Changes, error) {
				ch, err := intent(s)
				if first {
					first = false
					barrier.Done()
					barrier.Wait()
				}
				return ch, err
			}, meta("scale"), gitx.RetryOpts{})
		}()
	}
	wg.Wait()
	won, lost := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case model.CodeOf(err) == model.CodeConflictDetected:
			lost++
			if c := model.AsError(err).Details["conflicts"].([]map[string]any); c[0]["field"] != "spec.replicas" {
				t.Fatalf("conflict details %v", c)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 || lost != 1 {
		t.Fatalf("won %d lost %d: %v", won, lost, errs)
	}
	if got := gittest.Log(t, srv.Dir("fleet.git"), "main"); len(got) != 2 {
		t.Fatalf("log %v", got)
	}
}

func TestCache(t *testing.T) {
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "fleet.git", seed)
	c := gitx.NewCache(t.TempDir())
	defer c.Close()
	r1, err := c.Repo("repo-456", srv.RepoURLWithCreds("fleet.git"), gitx.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := c.Repo("repo-456", srv.RepoURLWithCreds("fleet.git"), gitx.Auth{})
	if r1 != r2 || filepath.Base(r1.Dir()) != "repo-456.git" {
		t.Fatalf("cache gave %p %p at %s", r1, r2, r1.Dir())
	}
	if _, err := c.Repo("../x", "http://x/y.git", gitx.Auth{}); model.CodeOf(err) != model.CodeBadRequest {
		t.Fatalf("bad id: %v", err)
	}
	if _, _, err := r1.ReadTree(context.Background(), "main", "apps"); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyRemoteAndFetchOnDemand(t *testing.T) {
	ctx := context.Background()
	srv := gittest.NewHTTPServer(t)
	srv.CreateRepo(t, "empty.git", nil)
	a := openHTTP(t, srv, "empty.git")
	if h, err := a.Fetch(ctx, "main"); err != nil || h != "" {
		t.Fatalf("Fetch(empty) = %q %v", h, err)
	}
	first, err := a.CommitAndPush(ctx, "main", setFile("clusters/prod/kustomization.yaml", "resources: []\n"), meta("bootstrap"), gitx.RetryOpts{})
	if err != nil || first.Parent != "" {
		t.Fatalf("bootstrap: %+v %v", first, err)
	}
	// another cache pushes; a read by that SHA fetches it on demand
	b := openHTTP(t, srv, "empty.git")
	second, err := b.CommitAndPush(ctx, "main", setFile("two.txt", "2\n"), meta("two"), gitx.RetryOpts{})
	if err != nil || second.Parent != first.Commit {
		t.Fatalf("second: %+v %v", second, err)
	}
	got, head, err := a.ReadFile(ctx, second.Commit, "two.txt")
	if err != nil || head != second.Commit || string(got) != "2\n" {
		t.Fatalf("read by SHA: %q %s %v", got, head, err)
	}
	// deleting the last file of a directory removes the directory
	third, err := a.CommitAndPush(ctx, "main", func(gitx.Snapshot) (gitx.Changes, error) {
		return gitx.Changes{Delete: []string{"clusters/prod/kustomization.yaml"}, Write: map[string][]byte{"same-a": []byte("x"), "same-b": []byte("x")}}, nil
	}, meta("cleanup"), gitx.RetryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if ls := gittest.Git(t, srv.Dir("empty.git"), "ls-tree", "-r", "-t", "--name-only", third.Commit); ls != "same-a\nsame-b\ntwo.txt" {
		t.Fatalf("tree after delete:\n%s", ls)
	}
	gittest.Git(t, srv.Dir("empty.git"), "fsck", "--strict")
}
