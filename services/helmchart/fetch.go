// Package helmchart fetches Helm charts from where Flux gets them (a
// HelmRepository's HTTP index, a chart directory in a GitRepository), keeps
// the packaged charts in a cache in the data dir, and renders a chart with
// Helm's own Go SDK (helm.sh/helm/v4, the version helm-controller v1.6
// links) as helm-controller installs it. It is the only package that links
// Helm; services/api and ui never do.
package helmchart

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
	repo "helm.sh/helm/v4/pkg/repo/v1"

	"github.com/gitopstui/gitopstui/model"
	"github.com/gitopstui/gitopstui/services/manifest"
)

// Limits of what is downloaded.
const (
	maxIndexBytes = 64 << 20
	maxChartBytes = 32 << 20
	maxChartFiles = 5000
)

// Chart is a loaded chart.
type Chart struct {
	c *chart.Chart
	// Origin says where it came from ("HelmRepository http://…/charts",
	// "GitRepository charts/web"), ValuesFile where its values.yaml is.
	Origin     string
	ValuesFile string
}

// Name returns the chart's name.
func (c *Chart) Name() string { return c.c.Metadata.Name }

// Version returns the chart's version.
func (c *Chart) Version() string { return c.c.Metadata.Version }

// Info is what the manifest planner needs of the chart.
func (c *Chart) Info() manifest.HelmChart {
	return manifest.HelmChart{Name: c.Name(), Version: c.Version(), Defaults: c.c.Values, Schema: c.c.Schema, ValuesFile: c.ValuesFile}
}

// Fetcher downloads charts from HelmRepositories into a cache directory:
// <dir>/<sha256 of the repository URL>/<name>-<version>.tgz, verified
// against the index's digest when it has one.
type Fetcher struct {
	dir    string
	client *http.Client
}

// NewFetcher returns a fetcher caching in dir (created when needed).
func NewFetcher(dir string, client *http.Client) *Fetcher {
	if client == nil {
		client = http.DefaultClient
	}
	return &Fetcher{dir: dir, client: client}
}

// FromRepository returns the chart name at version (a version or a semver
// range; "" is the latest) of the HelmRepository at repoURL. An exact
// version already in the cache is read without asking the repository.
func (f *Fetcher) FromRepository(ctx context.Context, repoURL, name, version string) (*Chart, error) {
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, model.Errorf(model.CodeBadRequest, "HelmRepository URL %q: only http and https repositories are supported (not OCI)", repoURL).WithDetail("url", repoURL)
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(repoURL, "/")))
	dir := filepath.Join(f.dir, hex.EncodeToString(sum[:8]))
	origin := "HelmRepository " + repoURL
	if exact(version) {
		if b, err := os.ReadFile(filepath.Join(dir, name+"-"+version+".tgz")); err == nil {
			return loadArchive(b, origin, name+"-"+version+".tgz")
		}
	}
	idx, err := f.index(ctx, repoURL)
	if err != nil {
		return nil, err
	}
	cv, err := idx.Get(name, version)
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "chart %s version %q is not in the HelmRepository %s: %v", name, version, repoURL, err).
			WithDetail("chart", name).WithDetail("version", version)
	}
	file := name + "-" + cv.Version + ".tgz"
	if b, err := os.ReadFile(filepath.Join(dir, file)); err == nil && (cv.Digest == "" || digest(b) == cv.Digest) {
		return loadArchive(b, origin, file)
	}
	if len(cv.URLs) == 0 {
		return nil, model.Errorf(model.CodeBadRequest, "chart %s %s in %s has no download URL", name, cv.Version, repoURL)
	}
	ref, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, model.Wrap(model.CodeBadRequest, err, "chart URL "+cv.URLs[0])
	}
	b, err := f.get(ctx, ref, maxChartBytes)
	if err != nil {
		return nil, err
	}
	if cv.Digest != "" && digest(b) != cv.Digest {
		return nil, model.Errorf(model.CodeBadRequest, "chart %s from %s: digest %s, the index says %s", file, ref, digest(b), cv.Digest)
	}
	if err := writeAtomic(dir, file, b); err != nil {
		return nil, err
	}
	return loadArchive(b, origin, file)
}

// exact reports whether version names one version (no range, not latest).
func exact(version string) bool {
	return version != "" && !strings.ContainsAny(version, "<>=~^*xX|, ")
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// index downloads and parses the repository's index.yaml.
func (f *Fetcher) index(ctx context.Context, repoURL string) (*repo.IndexFile, error) {
	b, err := f.get(ctx, strings.TrimSuffix(repoURL, "/")+"/index.yaml", maxIndexBytes)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "gitopstui-index-*.yaml")
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "index of "+repoURL)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, model.Wrap(model.CodeInternal, err, "index of "+repoURL)
	}
	idx, err := repo.LoadIndexFile(tmp.Name())
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "index.yaml of HelmRepository %s: %v", repoURL, err).WithDetail("url", repoURL)
	}
	return idx, nil
}

func (f *Fetcher) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, model.Wrap(model.CodeBadRequest, err, "GET "+u)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "GET %s: %v", u, err).WithDetail("url", u)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, model.Errorf(model.CodeBadRequest, "GET %s: %s", u, resp.Status).WithDetail("url", u)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "GET %s: %v", u, err).WithDetail("url", u)
	}
	if int64(len(b)) > limit {
		return nil, model.Errorf(model.CodeBadRequest, "GET %s: larger than %d bytes", u, limit).WithDetail("url", u)
	}
	return b, nil
}

func writeAtomic(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return model.Wrap(model.CodeInternal, err, "chart cache")
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return model.Wrap(model.CodeInternal, err, "chart cache")
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return model.Wrap(model.CodeInternal, err, "chart cache")
	}
	return nil
}

func loadArchive(b []byte, origin, file string) (*Chart, error) {
	c, err := loader.LoadArchive(bytes.NewReader(b))
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "chart %s from %s: %v", file, origin, err)
	}
	return &Chart{c: c, Origin: origin, ValuesFile: file + ": " + c.Metadata.Name + "/values.yaml"}, nil
}

// FromFS loads the chart directory dir of a repository snapshot (a chart
// in a GitRepository), honouring its .helmignore.
func FromFS(fsys fs.FS, dir, origin string) (*Chart, error) {
	dir = strings.TrimPrefix(path.Clean(dir), "./")
	if _, err := fs.Stat(fsys, path.Join(dir, "Chart.yaml")); err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "%s: no chart at %s (no Chart.yaml)", origin, dir).WithDetail("chart", dir)
	}
	rules := ignore.Empty()
	if b, err := fs.ReadFile(fsys, path.Join(dir, ".helmignore")); err == nil {
		if r, err := ignore.Parse(bytes.NewReader(b)); err == nil {
			rules = r
		}
	}
	rules.AddDefaults()
	var files []*archive.BufferedFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel == "" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, fi) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if len(files) >= maxChartFiles {
			return fmt.Errorf("more than %d files", maxChartFiles)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: rel, Data: b})
		return nil
	})
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "%s: read chart %s: %v", origin, dir, err).WithDetail("chart", dir)
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, model.Errorf(model.CodeBadRequest, "%s: chart %s: %v", origin, dir, err).WithDetail("chart", dir)
	}
	return &Chart{c: c, Origin: origin, ValuesFile: path.Join(dir, "values.yaml")}, nil
}
