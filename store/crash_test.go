package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/store"
)

// The crash child is this test binary run again with these variables set.
const (
	crashDirEnv    = "GITOPSTUI_CRASH_CHILD_DIR"
	crashPrefixEnv = "GITOPSTUI_CRASH_CHILD_PREFIX"
	crashSeedEnv   = "GITOPSTUI_CRASH_SEED"
)

// crashRounds is how many times the child is killed.
const crashRounds = 200

// TestCrashChild is the writer that TestCrashSafety kills: it does nothing in
// a normal test run. In the child it writes deployments, one Update each, and
// prints each id on stdout once the transaction has committed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	prefix := os.Getenv(crashPrefixEnv)
	seed, _ := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 1))
	db, err := store.Open(dir, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	methods := model.DeploymentMethods
	for n := 0; ; n++ {
		now := time.Now().UTC()
		d := model.Deployment{
			ID:               fmt.Sprintf("%s-%05d", prefix, n),
			ProjectID:        fmt.Sprintf("proj-%d", rng.IntN(3)),
			EnvironmentID:    fmt.Sprintf("env-%d", rng.IntN(7)),
			DeploymentMethod: methods[rng.IntN(len(methods))],
			Status:           model.DeployPending,
			Image:            "registry.example/app:" + strconv.Itoa(n),
			Message:          payload(rng),
			CreatedAt:        now,
			UpdatedAt:        now,
		}
		if d.DeploymentMethod == model.MethodGitOpsUI || d.DeploymentMethod == model.MethodGitOpsGit {
			d.GitCommitSha = fmt.Sprintf("%040x", rng.Uint64())
		}
		if err := db.Update(func(tx *store.Tx) error { return store.Deployments.Put(tx, d) }); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(4)
		}
		// Acknowledge only after Update returned: the commit is on disk.
		fmt.Fprintln(os.Stdout, d.ID)
	}
}

// payload is mostly small, sometimes several pages (overflow pages, splits).
func payload(rng *rand.Rand) string {
	n := rng.IntN(400)
	if rng.IntN(8) == 0 {
		n = 4096 + rng.IntN(12*1024)
	}
	return strings.Repeat(string(rune('a'+rng.IntN(26))), n)
}

// TestCrashSafety kills a writing child with SIGKILL at random points, 200
// times over the same file. After every kill the file opens, passes bbolt's
// consistency check, its indexes agree with its records, and every write the
// child acknowledged is there.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		return // we are the child of another TestCrashSafety
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s: %v", crashSeedEnv, err)
		}
	}
	t.Logf("seed %d (set %s to repeat)", seed, crashSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 2))
	dir := t.TempDir()
	var acked []string
	var killedBeforeAck, killedAfterAck, maxAcks int
	start := time.Now()
	for round := 0; round < crashRounds; round++ {
		ids, early := crashRound(t, self, dir, round, rng.Uint64(), rng)
		if early {
			killedBeforeAck++
		} else {
			killedAfterAck++
		}
		maxAcks = max(maxAcks, len(ids))
		acked = append(acked, ids...)
		verifyAfterCrash(t, dir, round, acked)
	}
	t.Logf("%d rounds in %s: %d kills at a random time from start, %d kills amid writes; %d acknowledged writes (max %d in one round), all present",
		crashRounds, time.Since(start).Round(time.Millisecond), killedBeforeAck, killedAfterAck, len(acked), maxAcks)
	if len(acked) == 0 {
		t.Fatal("the child never acknowledged a write: the test proved nothing")
	}
}

// crashRound runs one child and kills it. Half of the rounds kill at a random
// time after start (often while opening or migrating), the others after a
// random number of acknowledged writes plus a random delay (amid commits).
// It returns the ids acknowledged with a complete line.
func crashRound(t *testing.T, self, dir string, round int, childSeed uint64, rng *rand.Rand) (acked []string, early bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashDirEnv+"="+dir,
		crashPrefixEnv+"="+fmt.Sprintf("dep-r%03d", round),
		crashSeedEnv+"="+strconv.FormatUint(childSeed, 10),
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return // EOF; a line cut by the kill is not an acknowledgement
			}
			if id := strings.TrimSpace(line); strings.HasPrefix(id, "dep-r") {
				lines <- id
			}
		}
	}()

	early = rng.IntN(2) == 0
	if early {
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
	} else {
		want := 1 + rng.IntN(12)
		for len(acked) < want {
			id, ok := <-lines
			if !ok {
				t.Fatalf("round %d: child exited early: %v\n%s", round, cmd.Wait(), stderr.String())
			}
			acked = append(acked, id)
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	for id := range lines {
		acked = append(acked, id)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL\n%s", round, err, stderr.String())
	}
	return acked, early
}

// verifyAfterCrash opens the store as gitopstui does and checks it.
func verifyAfterCrash(t *testing.T, dir string, round int, acked []string) {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatalf("round %d: open after kill: %v", round, err)
	}
	defer db.Close()
	if db.Bolt().NoSync {
		t.Fatal("the store commits without fsync: acknowledged writes would not survive a power cut")
	}
	err = db.Bolt().View(func(tx *bolt.Tx) error {
		var problems []string
		for err := range tx.Check() {
			problems = append(problems, err.Error())
		}
		if len(problems) > 0 {
			return fmt.Errorf("bbolt consistency check: %s", strings.Join(problems, "; "))
		}
		records := tx.Bucket([]byte("deployments"))
		if records == nil {
			if len(acked) > 0 {
				return errors.New("deployments bucket missing")
			}
			return nil
		}
		for _, id := range acked {
			if records.Get([]byte(id)) == nil {
				return fmt.Errorf("acknowledged deployment %s is missing", id)
			}
		}
		// Records and indexes are written in one transaction: they must agree.
		n := records.Stats().KeyN
		for _, ix := range []string{"all", "project", "environment", "method"} {
			b := tx.Bucket([]byte("deployments.idx." + ix))
			if b == nil {
				return fmt.Errorf("index %s missing", ix)
			}
			if got := b.Stats().KeyN; got != n {
				return fmt.Errorf("index %s has %d entries for %d records", ix, got, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if v, err := db.SchemaVersion(); err != nil || v != store.SchemaVersionCurrent() {
		t.Fatalf("round %d: schema version %d, %v; want %d", round, v, err, store.SchemaVersionCurrent())
	}
	// The public API reads the last acknowledged record too.
	if len(acked) > 0 {
		last := acked[len(acked)-1]
		if err := db.View(func(tx *store.Tx) error {
			_, err := store.Deployments.Get(tx, last)
			return err
		}); err != nil {
			t.Fatalf("round %d: get %s: %v", round, last, err)
		}
	}
}
