package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// errNotServed reports that the Go module proxy does not serve a module
// version; the generator then falls back to controller-gen on the /api module.
var errNotServed = errors.New("module version not served by the Go module proxy")

// goTool runs the go command with a stable environment: no workspace, the
// local toolchain, and the caller's proxy and module cache settings.
type goTool struct {
	goCmd string
	// workDir is a scratch directory outside any module, so that module
	// downloads never read or edit the project's go.mod.
	workDir string
}

func (g goTool) env(extra ...string) []string {
	env := append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local")
	return append(env, extra...)
}

func (g goTool) run(ctx context.Context, dir string, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.goCmd, args...)
	cmd.Dir = dir
	cmd.Env = g.env(extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s%s", g.goCmd, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()), strings.TrimSpace(stdout.String()))
	}
	return stdout.Bytes(), nil
}

// download fetches module@version into the module cache through the go
// command and returns its extracted (read-only) directory.
func (g goTool) download(ctx context.Context, module, version string) (string, error) {
	out, runErr := g.run(ctx, g.workDir, nil, "mod", "download", "-json", module+"@"+version)
	var info struct {
		Dir   string
		Error string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		if runErr != nil {
			return "", runErr
		}
		return "", fmt.Errorf("go mod download %s@%s: decode: %w", module, version, err)
	}
	if info.Error != "" {
		if notServed(info.Error) {
			return "", fmt.Errorf("%s@%s: %w (%s)", module, version, errNotServed, firstLine(info.Error))
		}
		return "", fmt.Errorf("go mod download %s@%s: %s", module, version, info.Error)
	}
	if runErr != nil {
		return "", runErr
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: no directory reported", module, version)
	}
	return info.Dir, nil
}

// notServed tells whether a go mod download error means "this version is not
// available" (as opposed to a network or checksum failure, which must stop
// the generator rather than silently change where the CRDs come from).
func notServed(msg string) bool {
	for _, s := range []string{"403 Forbidden", "404 Not Found", "410 Gone", "not available", "unknown revision", "invalid version"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// installControllerGen builds controller-gen at the pinned version into dir
// and returns the binary's path.
func (g goTool) installControllerGen(ctx context.Context, pkgAtVersion, dir string) (string, error) {
	if _, err := g.run(ctx, g.workDir, []string{"GOBIN=" + dir}, "install", pkgAtVersion); err != nil {
		return "", err
	}
	return filepath.Join(dir, "controller-gen"), nil
}

// controllerGenCRDs copies a read-only /api module into a scratch dir and runs
// controller-gen there the way the Flux controllers' Makefiles do
// (crd:crdVersions=v1 paths=./...). It returns the generated files by name.
func (g goTool) controllerGenCRDs(ctx context.Context, controllerGen, apiDir, scratch string) (map[string][]byte, error) {
	src := filepath.Join(scratch, "api")
	out := filepath.Join(scratch, "crds")
	if err := copyTree(apiDir, src); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, controllerGen, "crd:crdVersions=v1", "paths=./...", "output:crd:artifacts:config="+out)
	cmd.Dir = src
	// The copied module may lack go.sum lines for packages that only
	// controller-gen loads; -mod=mod lets go list add them in the copy.
	cmd.Env = g.env("GOFLAGS=-mod=mod")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("controller-gen in %s: %w: %s", apiDir, err, strings.TrimSpace(string(msg)))
	}
	return readYAMLFiles(out)
}

// readYAMLFiles returns the *.yaml files directly inside dir by base name.
func readYAMLFiles(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no CRD files in %s", dir)
	}
	return files, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// copyTree copies the regular files of src into dst with writable modes.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
