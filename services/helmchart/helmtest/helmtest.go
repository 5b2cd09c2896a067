// Package helmtest serves the test chart from a real Helm repository on
// 127.0.0.1 (packaged with Helm's SDK, indexed with its index.yaml writer,
// served by net/http) and holds the fixture repository laid out like Flux's
// official example (apps/base/podinfo with the HelmRepository and the
// HelmRelease, apps/staging and apps/production with values patches).
// Tests only.
package helmtest

import (
	"embed"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
)

//go:embed all:fixture
var fixture embed.FS

// RepoURLPlaceholder is the HelmRepository URL the fixture's
// repository.yaml holds; Files replaces it with the served repository's.
const RepoURLPlaceholder = "http://127.0.0.1:8879/charts"

// Files returns the fixture repository's files by path, with the
// HelmRepository pointing at repoURL ("" keeps the placeholder).
func Files(t testing.TB, repoURL string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(fixture, "fixture/repo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fixture.ReadFile(p)
		if repoURL != "" {
			b = []byte(strings.ReplaceAll(string(b), RepoURLPlaceholder, repoURL))
		}
		out[strings.TrimPrefix(p, "fixture/repo/")] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ChartFiles returns the test chart's files by path under the chart
// directory ("Chart.yaml", "templates/deployment.yaml", ...).
func ChartFiles(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	sub, err := fs.Sub(fixture, "fixture/charts/podinfo")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Repo is a Helm repository served on 127.0.0.1.
type Repo struct {
	URL string
	Dir string // the packaged charts and index.yaml
	srv *httptest.Server
}

// Close stops serving (the cache of a fetcher must then answer).
func (r *Repo) Close() { r.srv.Close() }

// Serve packages the test chart once per version (Chart.yaml's version and
// appVersion set to it) into a temporary directory, writes index.yaml and
// serves it under /charts on 127.0.0.1 until the test ends.
func Serve(t testing.TB, versions ...string) *Repo {
	t.Helper()
	dir := t.TempDir()
	var files []*archive.BufferedFile
	for p, b := range ChartFiles(t) {
		files = append(files, &archive.BufferedFile{Name: p, Data: b})
	}
	for _, v := range versions {
		c, err := loader.LoadFiles(files)
		if err != nil {
			t.Fatal(err)
		}
		c.Metadata.Version, c.Metadata.AppVersion = v, v
		if _, err := chartutil.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/charts/", http.StripPrefix("/charts/", http.FileServer(http.Dir(dir))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := &Repo{URL: srv.URL + "/charts", Dir: dir, srv: srv}
	idx, err := repo.IndexDirectory(dir, r.URL)
	if err != nil {
		t.Fatal(err)
	}
	idx.SortEntries()
	if err := idx.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// Corrupt overwrites the packaged chart of version v (its digest no
// longer matches the index).
func (r *Repo) Corrupt(t testing.TB, v string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.Dir, "podinfo-"+v+".tgz"), []byte("not a chart"), 0o644); err != nil {
		t.Fatal(err)
	}
}
