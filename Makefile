# make test is what CI runs: go vet, then every test with the race detector against a
# throwaway redis-server (installed from Debian's packages when missing and root).
GO ?= go
FUZZTIME ?= 10s

.PHONY: test vet build dist bench bench-engine fuzz

test: vet
	.ci/with-redis $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

# VERSION is stamped into the binaries (vigie version): the git tag or commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS = -s -w -X main.version=$(VERSION)
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/vigie ./cmd/vigie

# Static release binaries (no cgo: the time zones and the starter pack are built
# in), one per platform, with their SHA-256 sums, in dist/.
dist:
	rm -rf dist && mkdir -p dist
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=dist/vigie-$(VERSION)-$$os-$$arch$$ext; echo "== $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $$out ./cmd/vigie || exit 1; \
	done
	cd dist && sha256sum vigie-* > SHA256SUMS

bench:
	.ci/with-redis $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./...

# The engine alone on the starter pack and the labelled data, memory store:
# events/s and CPU time per event, serial and on every core.
bench-engine:
	$(GO) test ./rules -run '^$$' -bench 'Evaluate/rules.example.yaml' -benchmem -benchtime=3s

# Runs each fuzz target for FUZZTIME (make test already runs their seed corpora).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
