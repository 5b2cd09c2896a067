// Package testcluster owns the real Kubernetes control plane that gitopstui's tests run
// against: a kube-apiserver and an etcd built by testdata/controlplane/build.sh (once per
// machine, into the user's cache dir) and started through controller-runtime's envtest.
//
// It always starts its own processes from the cached binaries, on a loopback port of its
// own: USE_EXISTING_CLUSTER, KUBECONFIG and envtest's binary-path variables in the
// environment are ignored, so a test can never reach a real cluster by accident.
//
// It hands tests an admin *rest.Config and kubeconfig, users with no permissions (client
// certificates) to bind Roles to, CRD installation, an API server that can be stopped and
// started again on the same URL over the same etcd data, and stand-ins for what a kubelet
// and the controller manager would do (Ready Nodes, available Deployments), since neither
// runs. When the binaries are missing the helper builds them itself: a test never skips.
//
// Use Start for a cluster per test, or Shared from TestMain for one per package.
package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// buildScript is the path of the build script relative to the repository root.
const buildScript = "testdata/controlplane/build.sh"

// Option configures Start.
type Option func(*options)

type options struct {
	crdDirs []string
	crdYAML [][]byte
	apiArgs map[string][]string
	logw    io.Writer
}

// WithCRDDirs installs the CRDs found in each directory (YAML or JSON files) before Start
// returns; the CRDs are Established by then. A missing directory fails Start.
func WithCRDDirs(dirs ...string) Option {
	return func(o *options) { o.crdDirs = append(o.crdDirs, dirs...) }
}

// WithCRDYAML installs the CustomResourceDefinitions in the given YAML (or JSON) streams;
// a stream may hold several documents separated by ---.
func WithCRDYAML(docs ...[]byte) Option {
	return func(o *options) { o.crdYAML = append(o.crdYAML, docs...) }
}

// WithAPIServerArg sets a kube-apiserver flag (without the leading --), replacing envtest's
// default for it, e.g. WithAPIServerArg("feature-gates", "Foo=true").
func WithAPIServerArg(name string, values ...string) Option {
	return func(o *options) {
		if o.apiArgs == nil {
			o.apiArgs = map[string][]string{}
		}
		o.apiArgs[name] = values
	}
}

// WithControlPlaneOutput copies kube-apiserver's and etcd's output to w (for debugging).
func WithControlPlaneOutput(w io.Writer) Option {
	return func(o *options) { o.logw = w }
}

// Cluster is a running control plane. Its methods are safe for concurrent use, except that
// StopAPIServer, StartAPIServer and Restart must not race each other.
type Cluster struct {
	env     *envtest.Environment
	workDir string // holds the API server's certificates and etcd's data; removed by Stop
	admin   *rest.Config

	userMu sync.Mutex // serialises User: envtest's CA is not safe for concurrent use

	mu      sync.Mutex
	stopped bool
}

// Start starts a control plane for one test and stops it in t.Cleanup. It builds the
// binaries first when they are missing (logged; this takes minutes once per machine).
func Start(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	c, err := start(func(format string, args ...any) {
		t.Logf(format, args...)
		fmt.Fprintf(os.Stderr, format+"\n", args...) // visible while go test buffers t.Logf
	}, opts...)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("testcluster: stop: %v", err)
		}
	})
	return c
}

func start(logf func(string, ...any), opts ...Option) (*Cluster, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	binDir, err := ensureBinaries(logf)
	if err != nil {
		return nil, err
	}
	crds, err := decodeCRDs(o.crdYAML)
	if err != nil {
		return nil, err
	}
	for _, d := range o.crdDirs {
		if _, err := os.Stat(d); err != nil {
			return nil, fmt.Errorf("CRD directory: %w", err)
		}
	}

	workDir, err := os.MkdirTemp("", "gitopstui-testcluster-")
	if err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	certDir := filepath.Join(workDir, "apiserver")
	dataDir := filepath.Join(workDir, "etcd")
	for _, d := range []string{certDir, dataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			_ = os.RemoveAll(workDir)
			return nil, fmt.Errorf("work dir: %w", err)
		}
	}

	// Our own cert and data directories (rather than envtest's random ones) survive a stop,
	// so the API server comes back with the same serving certificate, client CA and port,
	// and etcd with the same data.
	api := &envtest.APIServer{
		CertDir: certDir,
		Path:    filepath.Join(binDir, "kube-apiserver"),
		Out:     o.logw,
		Err:     o.logw,
	}
	// Stop within seconds even with watches open: by default kube-apiserver waits up to its
	// request timeout (60s) for long-running requests before it exits.
	api.Configure().Set("shutdown-send-retry-after", "true")
	api.Configure().Set("shutdown-watch-termination-grace-period", "1s")
	for name, values := range o.apiArgs {
		api.Configure().Set(name, values...)
	}
	etcd := &envtest.Etcd{
		DataDir: dataDir,
		Path:    filepath.Join(binDir, "etcd"),
		Out:     o.logw,
		Err:     o.logw,
	}
	ownCluster := false
	env := &envtest.Environment{
		// Always our own control plane: envtest would otherwise attach to whatever cluster
		// KUBECONFIG names when USE_EXISTING_CLUSTER=true is in the environment, and the
		// tests would install and uninstall Flux there. Config stays nil and the admin
		// config is made from our own CA, so KUBECONFIG is never read.
		UseExistingCluster:    &ownCluster,
		BinaryAssetsDirectory: binDir,
		ControlPlane:          envtest.ControlPlane{APIServer: api, Etcd: etcd},
		CRDDirectoryPaths:     o.crdDirs,
		CRDs:                  crds,
		ErrorIfCRDPathMissing: true,
		// Two cores shared by parallel test binaries: give the processes room.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		_ = os.RemoveAll(workDir)
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	return &Cluster{env: env, workDir: workDir, admin: cfg}, nil
}

// Config returns a copy of the admin (system:masters) client configuration.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.admin) }

// Clientset returns an admin clientset (fails the test on error).
func (c *Cluster) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatalf("testcluster: clientset: %v", err)
	}
	return cs
}

// URL is the API server's address (https://127.0.0.1:PORT/); it stays the same across
// StopAPIServer/StartAPIServer and Restart.
func (c *Cluster) URL() string { return c.admin.Host }

// InstallCRDs installs CRDs from YAML streams into a running cluster (handy with Shared,
// where options are fixed at the first start) and waits until they are Established.
func (c *Cluster) InstallCRDs(t testing.TB, docs ...[]byte) {
	t.Helper()
	crds, err := decodeCRDs(docs)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	if _, err := envtest.InstallCRDs(c.Config(), envtest.CRDInstallOptions{CRDs: crds}); err != nil {
		t.Fatalf("testcluster: install CRDs: %v", err)
	}
}

// StopAPIServer stops kube-apiserver only; etcd keeps running with all data. Clients and
// watches see connection errors until StartAPIServer.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	if err := c.env.ControlPlane.APIServer.Stop(); err != nil {
		t.Fatalf("testcluster: stop kube-apiserver: %v", err)
	}
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same URL with the
// same certificates, so every existing config (admin and users) works again. It returns
// once the API server is healthy.
func (c *Cluster) StartAPIServer(t testing.TB) {
	t.Helper()
	if err := c.env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatalf("testcluster: start kube-apiserver: %v", err)
	}
	c.waitReady(t)
}

// Restart stops and starts kube-apiserver (see StopAPIServer and StartAPIServer): same URL,
// same etcd data.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	c.StopAPIServer(t)
	c.StartAPIServer(t)
}

// waitReady waits until the API server answers /readyz (healthz alone may pass before the
// post-start hooks have finished).
func (c *Cluster) waitReady(t testing.TB) {
	t.Helper()
	cs := c.Clientset(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var last error
	for {
		_, last = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testcluster: kube-apiserver not ready after restart: %v", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops the control plane and removes its data. Start's t.Cleanup and Shared.Run
// call it; calling it again does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	err := c.env.Stop()
	return errors.Join(err, os.RemoveAll(c.workDir))
}

// decodeCRDs reads every CustomResourceDefinition from YAML/JSON streams.
func decodeCRDs(docs [][]byte) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var crds []*apiextensionsv1.CustomResourceDefinition
	for i, doc := range docs {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(doc), 4096)
		for {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			err := dec.Decode(crd)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("CRD YAML #%d: %w", i, err)
			}
			if crd.Kind == "" && crd.Name == "" {
				continue // empty document
			}
			if crd.Kind != "CustomResourceDefinition" {
				return nil, fmt.Errorf("CRD YAML #%d: %s %q is not a CustomResourceDefinition", i, crd.Kind, crd.Name)
			}
			crds = append(crds, crd)
		}
	}
	return crds, nil
}

// ensureBinaries returns the directory holding kube-apiserver and etcd, building them with
// build.sh when either is missing.
func ensureBinaries(logf func(string, ...any)) (string, error) {
	script, err := findBuildScript()
	if err != nil {
		return "", err
	}
	out, err := exec.Command("bash", script, "--print-dir").Output()
	if err != nil {
		return "", fmt.Errorf("%s --print-dir: %w", script, exitDetail(err))
	}
	dir := strings.TrimSpace(string(out))
	if isExec(filepath.Join(dir, "kube-apiserver")) && isExec(filepath.Join(dir, "etcd")) {
		return dir, nil
	}
	logf("testcluster: kube-apiserver/etcd missing in %s: building them now with %s (once per machine: 10-20 minutes on 2 cores; `make controlplane` does this ahead of time)", dir, buildScript)
	cmd := exec.Command("bash", script)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build control plane with %s: %w", script, err)
	}
	dir = strings.TrimSpace(stdout.String())
	logf("testcluster: control plane built in %s", dir)
	return dir, nil
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}

// findBuildScript walks up from the working directory (go test runs in the package's
// directory) to the repository root that holds testdata/controlplane/build.sh.
func findBuildScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, buildScript)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory", buildScript)
		}
		dir = parent
	}
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
