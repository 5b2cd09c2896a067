# gitopstui: build, test, bench, lint, run. Go 1.26 is the toolchain.
export GOTOOLCHAIN := local
GO       ?= go
BIN      ?= bin/gitopstui
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOFLAGS_TEST ?= -race -count=1 -timeout 30m

.PHONY: all build run test unit e2e bench fuzz lint controlplane fluxcontrollers bundle fmt tidy

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gitopstui

# Runs the TUI on the default store ($$GITOPSTUI_DATA_DIR or the XDG data dir).
run: build
	./$(BIN)

# The test control plane (kube-apiserver + etcd), built once per machine into the user's cache dir.
controlplane:
	bash testdata/controlplane/build.sh

# The real Flux source- and kustomize-controller for the end-to-end suite, built once per machine.
fluxcontrollers:
	bash testdata/fluxcontrollers/build.sh

# Everything: vet, then every test (the end-to-end suite included) with the race detector
# against the real control plane and the real Flux controllers.
test: controlplane fluxcontrollers
	$(GO) vet ./...
	$(GO) test $(GOFLAGS_TEST) ./...

# Only the end-to-end loop with the real Flux controllers.
e2e: controlplane fluxcontrollers
	$(GO) test -count=1 -timeout 20m -v ./services/e2e/...

# Regenerate the embedded Flux install bundle from the pinned Flux modules.
bundle:
	cd services/fluxbundle && $(GO) generate

# Only the tests that need no cluster binaries (quick loop while editing).
unit:
	$(GO) test -count=1 ./model/... ./store/... ./cmd/...

# Every benchmark the issues ask for, side by side with its anchor, as one table (bench.md).
bench: controlplane build
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

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff

fmt:
	gofmt -w $$(git ls-files '*.go')

tidy:
	$(GO) mod tidy
