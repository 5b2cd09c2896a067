// Package generate builds the offline Flux install bundle that package
// fluxbundle embeds: for each Flux release it takes the controller versions
// from the flux2 module's manifests, the CRDs from the controller modules (or,
// where the Go module proxy does not serve a controller module, from
// controller-gen run on its /api module), the licence texts of those modules,
// and writes the controller manifests (Namespace, RBAC, ServiceAccounts,
// Services, Deployments, NetworkPolicies) from Go code, checked against the
// upstream manifests wherever those are served. Everything is fetched through
// the go command; the output is deterministic.
package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// DefaultVersions are the Flux releases the bundle embeds, oldest first.
// v2.9.5 is the newest flux2 release the Go module proxy serves: it is made of
// source-controller v1.9.5, kustomize-controller v1.9.5, helm-controller
// v1.6.4 and notification-controller v1.9.4, whose CRDs are byte-identical to
// those of the API modules the project pins (source/kustomize v1.9.6,
// helm v1.6.5). Add a release here once its flux2 module is served.
func DefaultVersions() []string { return []string{"v2.9.5"} }

// ControllerGen is the controller-gen that the Flux v2.9 controllers' Makefiles
// pin (CONTROLLER_GEN_VERSION); it reproduces their CRDs byte for byte.
const ControllerGen = "sigs.k8s.io/controller-tools/cmd/controller-gen@v0.21.0"

// components are the controllers the bundle installs, in Flux's order.
func components() []Component {
	return []Component{
		{Name: "source-controller", Module: "github.com/fluxcd/source-controller"},
		{Name: "kustomize-controller", Module: "github.com/fluxcd/kustomize-controller"},
		{Name: "helm-controller", Module: "github.com/fluxcd/helm-controller"},
		{Name: "notification-controller", Module: "github.com/fluxcd/notification-controller"},
	}
}

// Component is one Flux controller and the Go module it is released from
// (its API types live in Module + "/api").
type Component struct {
	Name   string
	Module string
}

// fluxModule is the flux2 CLI module whose manifests name the controller
// versions of a Flux release.
const fluxModule = "github.com/fluxcd/flux2/v2"

// Config tells Run where to write and which go command to use.
type Config struct {
	// OutDir receives one directory per Flux version; it is replaced whole.
	OutDir string
	// Versions are the Flux releases to generate (default DefaultVersions()).
	Versions []string
	// GoCmd is the go command (default "go").
	GoCmd string
	// Log receives progress lines (default io.Discard).
	Log io.Writer
}

// Metadata is bundle.json, the index of one generated Flux release.
// Package fluxbundle reads the same JSON.
type Metadata struct {
	FluxVersion string              `json:"fluxVersion"`
	Namespace   string              `json:"namespace"`
	Source      string              `json:"source"`
	Manifests   string              `json:"manifests"`
	License     string              `json:"license"`
	Components  []ComponentMetadata `json:"components"`
}

// ComponentMetadata describes one controller of a generated release.
type ComponentMetadata struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Image     string `json:"image"`
	CRDs      string `json:"crds"`
	License   string `json:"license"`
	CRDSource string `json:"crdSource"`
}

type componentVersion struct {
	Component
	Version string
	Image   string
	// moduleDir is the extracted controller module, "" when not served.
	moduleDir string
}

// Run generates every configured Flux version into cfg.OutDir. It builds the
// output in a sibling temporary directory and swaps it in at the end, so a
// failed run leaves the previous bundle untouched.
func Run(ctx context.Context, cfg Config) error {
	if cfg.OutDir == "" {
		return fmt.Errorf("generate: no output directory")
	}
	if cfg.GoCmd == "" {
		cfg.GoCmd = "go"
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	versions := cfg.Versions
	if len(versions) == 0 {
		versions = DefaultVersions()
	}
	out, err := filepath.Abs(cfg.OutDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(filepath.Dir(out), ".fluxbundle-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	scratch, err := os.MkdirTemp("", "fluxbundle-scratch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	g := &generator{
		tool: goTool{goCmd: cfg.GoCmd, workDir: scratch},
		log:  cfg.Log,
		tmp:  scratch,
	}
	for _, v := range versions {
		if err := g.release(ctx, v, filepath.Join(staging, v)); err != nil {
			return fmt.Errorf("flux %s: %w", v, err)
		}
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	return os.Rename(staging, out)
}

type generator struct {
	tool          goTool
	log           io.Writer
	tmp           string
	controllerGen string
}

func (g *generator) logf(format string, args ...any) {
	fmt.Fprintf(g.log, format+"\n", args...)
}

// release writes one Flux version's bundle into dir.
func (g *generator) release(ctx context.Context, fluxVersion, dir string) error {
	fluxDir, err := g.tool.download(ctx, fluxModule, fluxVersion)
	if err != nil {
		return err
	}
	g.logf("flux %s: %s", fluxVersion, fluxDir)
	files := map[string][]byte{}

	meta := Metadata{
		FluxVersion: fluxVersion,
		Namespace:   DefaultNamespace,
		Source:      fluxModule + "@" + fluxVersion,
		Manifests:   "flux-system.yaml",
		License:     "LICENSE",
	}
	var notice strings.Builder
	noticeHeader(&notice, fluxVersion)
	comps, err := g.components(ctx, fluxDir, files, &meta, &notice)
	if err != nil {
		return err
	}

	objs, err := controllerManifests(fluxVersion, comps)
	if err != nil {
		return err
	}
	checks, err := verifyAgainstUpstream(fluxDir, comps, objs)
	if err != nil {
		return err
	}
	manifests, err := renderObjects(objs, fluxVersion)
	if err != nil {
		return err
	}
	files[meta.Manifests] = manifests
	license, err := os.ReadFile(filepath.Join(fluxDir, "LICENSE"))
	if err != nil {
		return err
	}
	files[meta.License] = license

	noticeManifests(&notice, fluxVersion, checks)
	files["NOTICE"] = []byte(notice.String())

	metaJSON, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	files["bundle.json"] = append(metaJSON, '\n')
	return writeFiles(dir, files)
}

// components resolves each controller's version from the Flux release in
// fluxDir, adds its CRDs and licence to files and describes it in meta and
// notice.
func (g *generator) components(ctx context.Context, fluxDir string, files map[string][]byte, meta *Metadata, notice *strings.Builder) ([]componentVersion, error) {
	var comps []componentVersion
	for _, c := range components() {
		version, err := controllerVersion(fluxDir, c.Name)
		if err != nil {
			return nil, err
		}
		cv := componentVersion{Component: c, Version: version, Image: DefaultRegistry + "/" + c.Name + ":" + version}
		crds, license, source, moduleDir, err := g.crds(ctx, c, version)
		if err != nil {
			return nil, fmt.Errorf("%s %s CRDs: %w", c.Name, version, err)
		}
		cv.moduleDir = moduleDir
		comps = append(comps, cv)
		files[c.Name+"/crds.yaml"] = crds
		files[c.Name+"/LICENSE"] = license
		meta.Components = append(meta.Components, ComponentMetadata{
			Name: c.Name, Version: version, Image: cv.Image,
			CRDs: c.Name + "/crds.yaml", License: c.Name + "/LICENSE", CRDSource: source,
		})
		fmt.Fprintf(notice, "%s %s\n", c.Name, version)
		fmt.Fprintf(notice, "  image:   %s\n", cv.Image)
		fmt.Fprintf(notice, "  CRDs:    %s/crds.yaml, %s\n", c.Name, source)
		fmt.Fprintf(notice, "  licence: %s/LICENSE (Apache-2.0)\n\n", c.Name)
	}
	return comps, nil
}

// noticeHeader writes the NOTICE file's opening: what the bundle is and whose.
func noticeHeader(notice *strings.Builder, fluxVersion string) {
	fmt.Fprintf(notice, "Flux %s offline install bundle\n", fluxVersion)
	notice.WriteString("==================================\n\n")
	notice.WriteString("This directory is generated by services/fluxbundle/internal/gen (go generate in\n")
	notice.WriteString("services/fluxbundle). It carries material of the Flux project\n")
	notice.WriteString("(https://fluxcd.io, Copyright The Flux authors), licensed under the Apache\n")
	notice.WriteString("License, Version 2.0; the licence text of each module it came from lies next to\n")
	notice.WriteString("the files taken from that module.\n\n")
	fmt.Fprintf(notice, "Flux release: %s (controller versions from %s@%s manifests/bases)\n\n", fluxVersion, fluxModule, fluxVersion)
}

// noticeManifests writes the NOTICE entry of flux-system.yaml with the
// upstream checks it passed.
func noticeManifests(notice *strings.Builder, fluxVersion string, checks []string) {
	notice.WriteString("flux-system.yaml\n")
	notice.WriteString("  The controller manifests (Namespace, ResourceQuota, RBAC, ServiceAccounts,\n")
	notice.WriteString("  Services, Deployments, NetworkPolicies) are written by gitopstui in Go after\n")
	fmt.Fprintf(notice, "  the manifests of %s@%s (manifests/) and of the\n", fluxModule, fluxVersion)
	notice.WriteString("  controllers (config/manager), to match `flux install --export` with its\n")
	notice.WriteString("  default options. licence of the Flux manifests: LICENSE (Apache-2.0).\n")
	notice.WriteString("  Checked against upstream when generated:\n")
	for _, c := range checks {
		fmt.Fprintf(notice, "    - %s\n", c)
	}
}

// writeFiles writes files (slash paths relative to dir) into dir.
func writeFiles(dir string, files map[string][]byte) error {
	for _, name := range sortedKeys(files) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// controllerVersion reads a controller's version from the flux2 module's
// manifests/bases/<name>/kustomization.yaml, whose resources point at the
// controller's release assets (.../releases/download/<version>/<name>.crds.yaml).
func controllerVersion(fluxDir, name string) (string, error) {
	path := filepath.Join(fluxDir, "manifests", "bases", name, "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	re := regexp.MustCompile(`^https://github\.com/fluxcd/` + regexp.QuoteMeta(name) + `/releases/download/(v[0-9][0-9A-Za-z.+-]*)/` + regexp.QuoteMeta(name) + `\.crds\.yaml$`)
	for _, r := range k.Resources {
		if m := re.FindStringSubmatch(r); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("%s: no %s CRD release asset among the resources", path, name)
}

// crds returns a controller's CRD files concatenated in file-name order,
// the licence of the module they came from and a line saying where from.
func (g *generator) crds(ctx context.Context, c Component, version string) (crds, license []byte, source, moduleDir string, err error) {
	var files map[string][]byte
	var licenseDir string
	dir, err := g.tool.download(ctx, c.Module, version)
	switch {
	case err == nil:
		files, err = readYAMLFiles(filepath.Join(dir, "config", "crd", "bases"))
		if err != nil {
			return nil, nil, "", "", err
		}
		source = fmt.Sprintf("from %s@%s config/crd/bases", c.Module, version)
		licenseDir, moduleDir = dir, dir
		g.logf("  %s %s: CRDs from the controller module", c.Name, version)
	case strings.Contains(err.Error(), errNotServed.Error()):
		g.logf("  %s %s: controller module not served, controller-gen on %s/api", c.Name, version, c.Module)
		apiDir, err := g.tool.download(ctx, c.Module+"/api", version)
		if err != nil {
			return nil, nil, "", "", err
		}
		if g.controllerGen == "" {
			if g.controllerGen, err = g.tool.installControllerGen(ctx, ControllerGen, filepath.Join(g.tmp, "bin")); err != nil {
				return nil, nil, "", "", err
			}
		}
		files, err = g.tool.controllerGenCRDs(ctx, g.controllerGen, apiDir, filepath.Join(g.tmp, c.Name+"-"+version))
		if err != nil {
			return nil, nil, "", "", err
		}
		source = fmt.Sprintf("generated by %s (crd:crdVersions=v1) from %s/api@%s, as the controller module is not served by the Go module proxy",
			ControllerGen, c.Module, version)
		licenseDir = apiDir
	default:
		return nil, nil, "", "", err
	}
	var buf bytes.Buffer
	for _, name := range sortedKeys(files) {
		data := files[name]
		if !bytes.HasPrefix(data, []byte("---\n")) {
			buf.WriteString("---\n")
		}
		buf.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			buf.WriteByte('\n')
		}
	}
	license, err = os.ReadFile(filepath.Join(licenseDir, "LICENSE"))
	if err != nil {
		return nil, nil, "", "", err
	}
	return buf.Bytes(), license, source, moduleDir, nil
}

// renderObjects writes objects as one multi-document YAML file with sorted
// keys (sigs.k8s.io/yaml), after dropping the empty fields that Go's typed
// structs always carry (creationTimestamp: null, status: {}, strategy: {}).
func renderObjects(objs []runtime.Object, fluxVersion string) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Code generated by services/fluxbundle/internal/gen. DO NOT EDIT.\n")
	fmt.Fprintf(&buf, "# Flux %s controllers as `flux install --export` installs them (see NOTICE).\n", fluxVersion)
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		clean(m)
		data, err := yaml.Marshal(m)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(data)
	}
	return buf.Bytes(), nil
}

// clean drops the status (objects are desired state), an empty spec (as on
// Namespace) and, everywhere, null values, empty strategy maps and the zero
// divisor of resourceFieldRef, which Go's typed structs always carry.
func clean(m map[string]any) {
	delete(m, "status")
	dropEmpty(m)
	if spec, ok := m["spec"].(map[string]any); ok && len(spec) == 0 {
		delete(m, "spec")
	}
}

func dropEmpty(m map[string]any) {
	for k, v := range m {
		switch vv := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropEmpty(vv)
			if len(vv) == 0 && k == "strategy" {
				delete(m, k)
			}
			if k == "resourceFieldRef" && vv["divisor"] == "0" {
				delete(vv, "divisor")
			}
		case []any:
			for _, e := range vv {
				if em, ok := e.(map[string]any); ok {
					dropEmpty(em)
				}
			}
		}
	}
}
