# gitopstui: build, test, bench, lint, run. Go 1.26 is the toolchain.
export GOTOOLCHAIN := local
GO       ?= go
BIN      ?= bin/gitopstui
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOFLAGS_TEST ?= -race -count=1 -timeout 30m

# The release targets, read from .goreleaser.yaml (goos × goarch) so the two cannot drift.
GOOS_LIST   := $(shell sed -n 's/^ *goos: *\[\(.*\)\]/\1/p' .goreleaser.yaml | tr -d ,)
GOARCH_LIST := $(shell sed -n 's/^ *goarch: *\[\(.*\)\]/\1/p' .goreleaser.yaml | tr -d ,)

.PHONY: all build run test unit e2e bench fuzz lint archcheck crossbuild controlplane fluxcontrollers bundle fmt tidy

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gitopstui

# Runs the TUI on the default store ($$GITOPSTUI_DATA_DIR or the XDG data dir).
run: build
	./$(BIN)

# The test control plane (kube-apiserver + etcd), built once per machine into the user's cache dir.
controlplane:
	bash testdata/controlplane/build.sh

# The real Flux source-, kustomize- and helm-controller (with the helm CLI, the anchor of the
# HelmRelease preview benchmark) for the end-to-end suite, built once per machine.
fluxcontrollers:
	bash testdata/fluxcontrollers/build.sh
	bash testdata/helmcontroller/build.sh

# Everything: the import map and size limits, vet, then every test (the end-to-end suite
# and the checker's own tests included) with the race detector against the real control
# plane and the real Flux controllers.
test: controlplane fluxcontrollers
	$(GO) run ./testdata/lint
	$(GO) vet ./... ./testdata/lint
	$(GO) test $(GOFLAGS_TEST) ./... ./testdata/lint

# Only the end-to-end loop with the real Flux controllers.
e2e: controlplane fluxcontrollers
	$(GO) test -count=1 -timeout 20m -v ./services/e2e/...

# Regenerate the embedded Flux install bundle from the pinned Flux modules.
bundle:
	cd services/fluxbundle && $(GO) generate

# Only the tests that need no cluster binaries (quick loop while editing).
unit:
	$(GO) test -count=1 ./model/... ./store/... ./cmd/... ./testdata/lint

# Every benchmark the issues ask for, side by side with its anchor, as one table (bench.md).
bench: controlplane fluxcontrollers build
	bash testdata/bench/run.sh

# Every fuzz target, one after another, each for FUZZTIME (their seeds already run in `make test`).
# New inputs are not minimised: with the Kubernetes packages linked in, minimising stalls the run.
FUZZTIME ?= 30s
fuzz:
	@set -e; for t in \
		./services:FuzzDecodeInput ./services:FuzzCatalogInputs ./services:FuzzGitOpsInputs \
		./services:FuzzDeployInputs ./services:FuzzYAML ./services/validate:FuzzValidate ./services/manifest:FuzzEnvValue; do \
		pkg=$${t%%:*}; fn=$${t#*:}; echo "== $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 0 $$pkg; \
	done

# Formatting, vet, a tidy go.mod, the import map and size limits, and a build of every
# release target.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./... ./testdata/lint
	$(GO) mod tidy -diff
	$(GO) run ./testdata/lint
	$(MAKE) --no-print-directory crossbuild

# DESIGN.md's import map (cmd -> ui -> services/* -> store -> model) and the size limits
# (600 lines a file, 80 a function): one `path:line: message` per violation.
archcheck:
	$(GO) run ./testdata/lint

# Builds every goos/goarch pair of .goreleaser.yaml as the release does (CGO_ENABLED=0),
# reporting every pair that fails.
crossbuild:
	@test -n "$(GOOS_LIST)" -a -n "$(GOARCH_LIST)" || { echo 'crossbuild: no goos/goarch list in .goreleaser.yaml'; exit 1; }
	@failed=; for os in $(GOOS_LIST); do for arch in $(GOARCH_LIST); do \
		echo "build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o /dev/null ./cmd/gitopstui \
			|| failed="$$failed $$os/$$arch"; \
	done; done; \
	test -z "$$failed" || { echo "crossbuild failed:$$failed"; exit 1; }

fmt:
	gofmt -w $$(git ls-files '*.go')

tidy:
	$(GO) mod tidy
