# Purser. `make demo` runs the main job on the embedded BlueOcean cluster;
# `make test` installs the Debian packages its tests need (make deps), builds
# the local control plane (once per machine and version) and runs every
# test, including those against a real kube-apiserver.

GO       ?= go
KBIN     := $(CURDIR)/.cache/kcluster/bin
KRUN     := $(CURDIR)/.cache/kcluster/run
# Builds the control plane's binaries into KBIN, or finds them there.
KCLUSTER_BUILD := $(GO) -C hack/kcluster run . build --out $(KBIN)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/purserhq/purser/internal/version.Version=$(VERSION)
STATICCHECK_VERSION ?= v0.6.1
# helm, for the chart's tests (deploy/helm), comes from its Go module and is
# kept by version like the control plane; deploy/helm's tests name the same
# version.
HELM_VERSION ?= v3.22.0
HELM     := $(CURDIR)/.cache/helm/$(HELM_VERSION)/helm
# What helm's own release build sets: its version, and the Kubernetes
# version it assumes without a cluster (1.<client-go minor>, 1.37 for
# v3.22.0). Without them, helm template checks charts against Kubernetes
# 1.20.
HELM_LDFLAGS := -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) -X helm.sh/helm/v3/internal/version.metadata= \
	$(foreach p,pkg/chartutil pkg/lint/rules,-X helm.sh/helm/v3/$(p).k8sVersionMajor=1 -X helm.sh/helm/v3/$(p).k8sVersionMinor=37)
# GoReleaser runs from the Go module proxy (go run pkg@version): it stays out
# of go.mod, and this version builds with the Go that go.mod asks for.
GORELEASER_VERSION ?= v2.17.0
GORELEASER := $(GO) run github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)
# GoReleaser reads the commit only after the remote's URL: in a clone
# without a remote it names a snapshot "none". Lend it the project's URL,
# through git's environment, for that case only.
GORELEASER_GIT_ENV = $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/purserhq/purser.git)
# Where `make install` puts purser: PREFIX/bin when PREFIX is given, else
# where `go install` would (GOBIN, or the first GOPATH entry's bin).
PREFIX   ?=
BINDIR   ?= $(if $(PREFIX),$(PREFIX)/bin,$(or $(shell $(GO) env GOBIN),$(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin))
# Engines are pure functions of a snapshot: no clients, no HTTP, no database.
ENGINES  := ./internal/audit/... ./internal/cost/... ./internal/plan/... ./internal/sched/... ./internal/classify/... ./internal/money/... ./internal/policy/... ./internal/govern/... ./internal/history/... ./internal/budget ./internal/rightsize ./internal/phase ./internal/downscale/engine
# The model and the demo data they read link no client either, so engine
# tests that load the demo stay small.
PURE     := $(ENGINES) ./internal/snapshot ./internal/scenario
# What writes to the file system; engines return files in memory instead.
FILE_WRITES := WriteFile|Create|CreateTemp|OpenFile|Mkdir|MkdirAll|MkdirTemp|Rename|Remove|RemoveAll|Symlink|Link|Chmod|Chown|Chtimes|Truncate|OpenRoot

.PHONY: all build install uninstall deps helm test test-short lint demo kcluster cluster-up cluster-down bench fuzz fuzz-smoke fuzz-list release-check release-snapshot krew-manifest clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/purser ./cmd/purser

## install: purser into BINDIR, with kubectl-purser (`kubectl purser`) and kubectl's completion hook beside it
install:
	install -d "$(DESTDIR)$(BINDIR)"
	$(GO) build -ldflags "$(LDFLAGS)" -o "$(DESTDIR)$(BINDIR)/purser" ./cmd/purser
	ln -sf purser "$(DESTDIR)$(BINDIR)/kubectl-purser"
	install -m 0755 deploy/kubectl/kubectl_complete-purser "$(DESTDIR)$(BINDIR)/kubectl_complete-purser"
	@case ":$$PATH:" in *":$(BINDIR):"*) ;; *) echo "note: $(BINDIR) is not on PATH; add it to run purser and kubectl purser";; esac

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/purser" "$(DESTDIR)$(BINDIR)/kubectl-purser" "$(DESTDIR)$(BINDIR)/kubectl_complete-purser"

## deps: install the Debian packages the tests need (hack/deps.txt) when run as root, else name the apt-get line
deps:
	@hack/deps.sh

## demo: audit, cost and plan of the embedded BlueOcean demo cluster
demo:
	@$(GO) run -ldflags "$(LDFLAGS)" ./cmd/purser demo
	@echo
	@echo "Next: browse it, with two weeks of history, its API and metrics:"
	@echo "  go run ./cmd/purser serve --demo --listen 127.0.0.1:8080 --auth none   # then open http://127.0.0.1:8080/ (dashboard) or /api/v1/findings"

## helm: build helm $(HELM_VERSION) from its Go module into .cache/helm (once per version)
helm:
	@test -x "$(HELM)" || GOBIN="$(dir $(HELM))" $(GO) install -ldflags "$(HELM_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

## kcluster: build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok (cached by version)
kcluster:
	$(KCLUSTER_BUILD)

## test: every test, the local control plane included; missing packages are installed first, before the long build
# The build is a recipe line, not a prerequisite beside deps: make would be
# free to run the two in either order (or at once with -j).
test: deps
	$(KCLUSTER_BUILD)
	@$(MAKE) --no-print-directory helm
	$(GO) -C hack/kcluster test ./...
	PURSER_HELM=$(HELM) PURSER_REQUIRE_HELM=1 PURSER_REQUIRE_CLUSTER=1 PURSER_REQUIRE_BROWSER=1 PURSER_REQUIRE_PROMETHEUS=1 PURSER_KCLUSTER_BIN=$(KBIN) $(GO) test -count=1 -timeout 40m ./...

## test-short: the tests that need no control plane
test-short:
	$(GO) test -short ./...

lint:
	@out=$$(gofmt -l cmd internal hack deploy); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@bad=$$($(GO) list -f '{{.ImportPath}}: {{join .Imports " "}}' $(ENGINES) | grep -E ' (net/http|database/sql)( |$$)'); \
		if [ -n "$$bad" ]; then echo "engine packages must not import net/http or database/sql:"; echo "$$bad"; exit 1; fi
	@bad=$$($(GO) list -deps $(PURE) | grep -E '^(k8s.io/client-go|database/sql|github.com/digitalocean/godo|github.com/prometheus/client_golang)'); \
		if [ -n "$$bad" ]; then echo "engine, model and demo packages must not link API clients or databases, even indirectly:"; echo "$$bad"; exit 1; fi
	@bad=$$($(GO) list -deps -test $(ENGINES) | grep -E '^(k8s.io/client-go|database/sql)'); \
		if [ -n "$$bad" ]; then echo "engine tests must not link API clients or databases: live tests belong in internal/e2e"; echo "$$bad"; exit 1; fi
	@bad=$$($(GO) list -deps -f '{{if not .Standard}}{{$$d := .Dir}}{{range .GoFiles}}{{$$d}}/{{.}} {{end}}{{end}}' $(PURE) | tr ' ' '\n' | \
		grep '^$(CURDIR)/internal/' | xargs -r grep -lE '\bos\.($(FILE_WRITES))\(|"github.com/purserhq/purser/internal/(atomicfile|outdir)"'); \
		if [ -n "$$bad" ]; then echo "engine, model and demo packages must not write files, even through what they import; the edges (cli, outdir, atomicfile) do:"; echo "$$bad"; exit 1; fi

## bench: decode, index, each audit check, cost and each plan strategy at 1,000 and 10,000 generated pods (BENCH_PODS=1000,10000,150000 adds the limit; several GB), with allocations
BENCH_PODS ?= 1000,10000
BENCHTIME ?= 1s
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./internal/snapshot/
	PURSER_BENCH_PODS=$(BENCH_PODS) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./internal/scenario/synth/

# Every fuzz target, as package:Target; fuzz-list fails when a func Fuzz
# in the tree is missing here, so a new target cannot be forgotten.
FUZZ_TARGETS := \
	internal/config:FuzzParse \
	internal/pricing:FuzzParse \
	internal/pricing/doapi:FuzzRefresh \
	internal/plan:FuzzParse \
	internal/snapshot:FuzzDecode \
	internal/snapshot:FuzzLoad \
	internal/usage:FuzzDecodeAllocation \
	internal/usage:FuzzQueryUsage
# FUZZ picks some of them: make fuzz FUZZ=internal/plan:FuzzParse
FUZZ ?= $(FUZZ_TARGETS)
FUZZTIME ?= 60s
FUZZSMOKETIME ?= 4s
# Minimizing each new interesting input (60s by default) would take most
# of a short run; a failing input is written whole, and running its test
# again with -fuzzminimizetime 60s shrinks it.
FUZZMINIMIZETIME ?= 0

## fuzz: every fuzz target for FUZZTIME (60s) each, one after another, printing each one's final execs line
fuzz: fuzz-list
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; failed=""; \
	for t in $(FUZZ); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) ./$$pkg/ >"$$log" 2>&1 && \
			last=$$(grep '^fuzz: elapsed' "$$log" | tail -n 1 | sed -E 's/^fuzz: //; s/ [(][0-9]+[/]sec[)]//') && [ -n "$$last" ]; then \
			echo "$$pkg $$name: $$last"; \
		else \
			cat "$$log"; echo "$$pkg $$name: FAILED"; failed="$$failed $$pkg:$$name"; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets failed:$$failed"; exit 1; fi

## fuzz-smoke: every fuzz target for FUZZSMOKETIME (4s) each, as CI runs them
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSMOKETIME)

## fuzz-list: check that FUZZ_TARGETS names every func Fuzz of the tree, and nothing else
fuzz-list:
	@found=$$(git ls-files --cached --others --exclude-standard -- '*_test.go' | xargs -r grep -Ho '^func Fuzz[A-Za-z0-9_]*' | \
		sed -E 's|/[^/]*:func |:|'); \
	bad=0; \
	for t in $$found; do case " $(FUZZ_TARGETS) " in *" $$t "*) ;; *) echo "fuzz target $$t is not in FUZZ_TARGETS in the Makefile"; bad=1;; esac; done; \
	for t in $(FUZZ_TARGETS); do case " "$$(echo $$found)" " in *" $$t "*) ;; *) echo "FUZZ_TARGETS in the Makefile names $$t, which is not in the tree"; bad=1;; esac; done; \
	exit $$bad

## cluster-up: start a local control plane in the background, load BlueOcean, print the KUBECONFIG line
cluster-up: kcluster
	@$(GO) run ./hack/cluster up --dir $(KRUN) --bin $(KBIN)

cluster-down:
	@$(GO) run ./hack/cluster down --dir $(KRUN)

## release-check: validate .goreleaser.yaml
release-check:
	@$(GORELEASER) --version >/dev/null || { echo "GoReleaser $(GORELEASER_VERSION) could not be fetched or built from the Go module proxy (the go command says why, above); only releases need it" >&2; exit 1; }
	$(GORELEASER) check

## release-snapshot: release archives for linux and darwin (amd64, arm64) and checksums into dist/, unpublished; then the krew manifest
release-snapshot: release-check
	$(GORELEASER_GIT_ENV) $(GORELEASER) release --snapshot --clean
	@$(MAKE) --no-print-directory krew-manifest

## krew-manifest: fill deploy/krew/purser.yaml from dist/checksums.txt into dist/krew/purser.yaml
krew-manifest:
	@mkdir -p dist/krew
	hack/krew-manifest.sh dist > dist/krew/purser.yaml.tmp
	mv dist/krew/purser.yaml.tmp dist/krew/purser.yaml
	@echo "wrote dist/krew/purser.yaml"

clean:
	rm -rf bin dist
