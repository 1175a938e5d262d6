# make test is what CI runs: go vet, then every test with the race detector against a
# throwaway redis-server (installed from Debian's packages when missing and root).
GO ?= go
FUZZTIME ?= 10s

.PHONY: test vet build bench bench-replay fuzz

test: vet
	.ci/with-redis $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/vigie ./cmd/vigie

bench:
	.ci/with-redis $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./...

# Times `vigie replay` on corpora of BENCH_N events dealt from ../shared/data
# against a plain decode of the same files, and prints the CPU ratio and the peak
# memory of each (rules/replay/internal/benchreplay).
BENCH_N ?= 100000,1000000
bench-replay: build
	$(GO) run ./rules/replay/internal/benchreplay -vigie bin/vigie -n $(BENCH_N)

# Runs each fuzz target for FUZZTIME (make test already runs their seed corpora).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
