# gitopstui: build, test, bench, lint, run. Go 1.26 is the toolchain.
export GOTOOLCHAIN := local
GO       ?= go
BIN      ?= bin/gitopstui
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOFLAGS_TEST ?= -race -count=1 -timeout 30m

.PHONY: all build run test unit bench lint controlplane fmt tidy

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gitopstui

# Runs the TUI on the default store ($$GITOPSTUI_DATA_DIR or the XDG data dir).
run: build
	./$(BIN)

# The test control plane (kube-apiserver + etcd), built once per machine into the user's cache dir.
controlplane:
	bash testdata/controlplane/build.sh

# Everything: vet, then every test with the race detector against the real control plane.
test: controlplane
	$(GO) vet ./...
	$(GO) test $(GOFLAGS_TEST) ./...

# Only the tests that need no cluster binaries (quick loop while editing).
unit:
	$(GO) test -count=1 ./model/... ./store/... ./cmd/...

bench: controlplane build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./... | tee bench.out

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff

fmt:
	gofmt -w $$(git ls-files '*.go')

tidy:
	$(GO) mod tidy
