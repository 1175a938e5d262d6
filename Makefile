# make test is what CI runs: go vet, then every test with the race detector against a
# throwaway redis-server (installed from Debian's packages when missing and root).
GO ?= go
FUZZTIME ?= 10s

.PHONY: test vet build bench bench-redis fuzz

test: vet
	.ci/with-redis $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/vigie ./cmd/vigie

bench:
	.ci/with-redis $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./...

# vigie's pipeline on Redis (a stream where most events match) beside redis-benchmark's
# unpipelined INCR on the same throwaway server, and their ratio (.ci/bench-redis).
bench-redis:
	.ci/with-redis .ci/bench-redis

# Runs each fuzz target for FUZZTIME (make test already runs their seed corpora).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done
