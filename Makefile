# make test is what CI runs: go vet, then every test with the race detector against a
# throwaway redis-server and with Debian's chromium for the console's browser test (both
# installed from Debian's packages when missing and root).
GO ?= go
FUZZTIME ?= 10s

.PHONY: test vet build dist load bench bench-engine bench-instructions bench-http bench-http-instructions bench-redis bench-redis-instructions bench-replay soak soak-redis longrun fuzz models

# -timeout: bot/daemon's tests alone take about 20 minutes with the race detector
# on two cores at load 15-20 (35 before their leases were shortened and the tests
# that wait on processes and leases ran two at a time); past the timeout the test
# then running fails, whatever it is, so it leaves room for a busy machine
# (cmd/vigie's TestDockerfile, which builds vigie without cgo, went past 10
# minutes at load 30-40 once).
test: vet
	.ci/with-chromium .ci/with-redis $(GO) test -race -count=1 -timeout 45m ./...

vet:
	$(GO) vet ./...
	@unformatted=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt -w these files:"; echo "$$unformatted"; exit 1; fi

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

# The load generator (cmd/vigie-load): open loop at a fixed rate, or closed loop.
load:
	$(GO) build -o bin/vigie-load ./cmd/vigie-load

bench:
	.ci/with-redis $(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./...

# The engine alone on the starter pack and the labelled data, memory store:
# events/s and CPU time per event, serial and on every core.
bench-engine:
	$(GO) test ./rules -run '^$$' -bench 'Evaluate/rules.example.yaml' -benchmem -benchtime=3s

# Instructions per event of the engine and of vigie replay, beside encoding/json's
# decode, counted by valgrind (the same figure however busy the machine is);
# BASE=<revision> puts that revision's beside them (.ci/bench-instructions).
bench-instructions:
	.ci/bench-instructions

# vigie's pipeline on Redis (a stream where most events match) beside redis-benchmark's
# unpipelined INCR on the same throwaway server, and their ratio (.ci/bench-redis).
# BENCH_BASE=REV runs the build of that revision alternately with this one.
bench-redis:
	.ci/with-redis .ci/bench-redis

# What Redis executes per event of that pipeline, in instructions (cachegrind on
# a redis-server of its own), beside what it executes per unpipelined INCR: the
# same figure however busy the machine is (.ci/bench-redis-instructions).
# BENCH_BASE=REV puts that revision's beside it.
bench-redis-instructions:
	.ci/bench-redis-instructions

# Times `vigie replay` on corpora of BENCH_N events dealt from ../shared/data
# against a plain decode of the same files, and prints the CPU ratio and the peak
# memory of each (rules/replay/internal/benchreplay).
BENCH_N ?= 100000,1000000
bench-replay: build
	$(GO) run ./rules/replay/internal/benchreplay -vigie bin/vigie -n $(BENCH_N)

# The starter pack's models, trained again on the labelled data beside the
# repository: the same data make the same files, byte for byte (docs/models.md,
# "Training"). DATA is where the data are.
DATA ?= ../shared/data
models: build
	bin/vigie train --label spam --negatives ok,abuse --out models/spam.bin \
	  $(DATA)/youtube-spam.dev.jsonl $(DATA)/abuse-en.dev.jsonl $(DATA)/abuse-fr.dev.jsonl
	bin/vigie train --label abuse --negatives ok,spam --grams=false --bits 20 --epochs 16 \
	  --caught-weight 0.2 --config rules.example.yaml --model abuse --out models/abuse.bin \
	  $(DATA)/abuse-en.dev.jsonl $(DATA)/abuse-fr.dev.jsonl $(DATA)/youtube-spam.dev.jsonl

# Runs each fuzz target for FUZZTIME (make test already runs their seed corpora).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# vigie run as the load targets start it: memory store, no platform and so no
# desk (their tokens unset), the starter pack, logs to a file.
# VIGIE is the binary they run: another build may be compared with this one
# (make bench-http VIGIE=/path/to/old/vigie).
VIGIE ?= ./bin/vigie
VIGIE_RUN = env -u VIGIE_REDIS_URL -u VIGIE_REDIS_URL_FILE -u DISCORD_TOKEN -u TELEGRAM_TOKEN \
	-u META_APP_SECRET -u META_PAGE_TOKEN -u VIGIE_WEBHOOK_SECRET -u VIGIE_ADMIN_TOKEN \
	$(VIGIE) run --config rules.example.yaml

BENCH_ADDR ?= 127.0.0.1:18080
FLOOR_ADDR ?= 127.0.0.1:18081
BENCH_TIME ?= 10s
BENCH_CONNS ?= 64
BENCH_RATE ?= 5000

# bench-http compares vigie with a bare server that reads, decodes and answers
# the same JSON (vigie-load -serve), side by side on this machine: closed loop
# for the most each takes (vigie's share of the floor is the figure), then
# each alone at BENCH_RATE events/s, open loop, for its p99 (the floor's p99 is
# what the machine and the load generator themselves add). The ratio of the
# servers' CPU per event is the steadier figure when other work shares the
# machine.
# Each server is measured twice in the closed loop: cold, in its first
# BENCH_TIME (a fresh vigie's heap and tables are still growing into new
# memory, about one page fault an event), then warm, after a further
# BENCH_WARM of the same closed loop on each server alike (vigie's faults an
# event fall to a tenth or so, the rest being its memory store's growth as new
# authors arrive); the open loop comes after, on both servers warm.
BENCH_WARM ?= 20s
bench-http: build load
	@set -e; tmp=$$(mktemp -d); \
	$(VIGIE_RUN) --listen $(BENCH_ADDR) 2>$$tmp/vigie.log & vpid=$$!; \
	./bin/vigie-load -serve $(FLOOR_ADDR) >$$tmp/floor.log & fpid=$$!; \
	trap 'kill $$vpid $$fpid 2>/dev/null; wait $$vpid $$fpid 2>/dev/null; rm -rf $$tmp' EXIT; \
	load="./bin/vigie-load -wait 10s -conns $(BENCH_CONNS)"; \
	closed="$$load -mode max -duration $(BENCH_TIME) -interval $(BENCH_TIME)"; \
	echo "== cold: floor, closed loop"; $$closed -url http://$(FLOOR_ADDR)/v1/events -pid $$fpid | tee $$tmp/floor.cold; \
	echo "== cold: vigie, closed loop"; $$closed -url http://$(BENCH_ADDR)/v1/events -pid $$vpid | tee $$tmp/vigie.cold; \
	echo "== warm-up: floor then vigie, closed loop, $(BENCH_WARM) each"; \
	$$load -mode max -duration $(BENCH_WARM) -interval $(BENCH_WARM) -url http://$(FLOOR_ADDR)/v1/events -pid $$fpid | grep '^total'; \
	$$load -mode max -duration $(BENCH_WARM) -interval $(BENCH_WARM) -url http://$(BENCH_ADDR)/v1/events -pid $$vpid | grep '^total'; \
	echo "== warm: floor, closed loop"; $$closed -url http://$(FLOOR_ADDR)/v1/events -pid $$fpid | tee $$tmp/floor.warm; \
	echo "== warm: vigie, closed loop"; $$closed -url http://$(BENCH_ADDR)/v1/events -pid $$vpid | tee $$tmp/vigie.warm; \
	echo "== warm: vigie, open loop at $(BENCH_RATE)/s"; $$load -rate $(BENCH_RATE) -duration $(BENCH_TIME) -interval $(BENCH_TIME) -url http://$(BENCH_ADDR)/v1/events -pid $$vpid | tee $$tmp/open.out; \
	echo "== warm: floor, open loop at $(BENCH_RATE)/s"; $$load -rate $(BENCH_RATE) -duration $(BENCH_TIME) -interval $(BENCH_TIME) -url http://$(FLOOR_ADDR)/v1/events -pid $$fpid | tee $$tmp/flooropen.out; \
	field() { sed -n "s/^total .* $$1=\([0-9.]*$$2\).*/\1/p" $$3; }; \
	closedline() { \
	  f=$$(field throughput '' $$tmp/floor.$$1); v=$$(field throughput '' $$tmp/vigie.$$1); \
	  fc=$$(field server_cpu '' $$tmp/floor.$$1); vc=$$(field server_cpu '' $$tmp/vigie.$$1); \
	  ff=$$(field server_faults '' $$tmp/floor.$$1); vf=$$(field server_faults '' $$tmp/vigie.$$1); \
	  echo "vigie $$v/s, floor $$f/s: ratio $$(awk "BEGIN{printf \"%.2f\", $$v/$$f}");" \
	    "CPU per event: vigie $${vc}µs, floor $${fc}µs: ratio $$(awk "BEGIN{printf \"%.2f\", $$fc/$$vc}");" \
	    "page faults per event: vigie $$vf, floor $$ff"; }; \
	echo "== cold (first $(BENCH_TIME)): $$(closedline cold)"; \
	echo "== warm (after $(BENCH_WARM) more): $$(closedline warm);" \
		"p99 at $(BENCH_RATE)/s: vigie $$(field p99 ms $$tmp/open.out), floor $$(field p99 ms $$tmp/flooropen.out);" \
		"log $$(wc -c <$$tmp/vigie.log) bytes"

# Instructions per event of vigie run serving POST /v1/events one event at a
# time, counted by valgrind (the same figure however busy the machine is);
# BASE=<revision> puts that revision's beside it (.ci/bench-http-instructions).
bench-http-instructions:
	.ci/bench-http-instructions

LONGRUN ?= 16m
LONGRUN_RATE ?= 300
LONGRUN_DIR ?=
LONGRUN_DATA ?=

SOAK_ADDR ?= 127.0.0.1:18090
SOAK_DURATION ?= 30m
SOAK_RATE ?= 3000
SOAK_AUTHORS ?= 1000000
SOAK_INTERVAL ?= 1m
SOAK_LOG ?= /dev/null

# soak runs vigie for SOAK_DURATION at SOAK_RATE events/s from SOAK_AUTHORS
# authors (memory store, no desk) and prints its resident memory every
# SOAK_INTERVAL: flat once the windows are full, or it leaks.
soak: build load
	@set -e; \
	$(VIGIE_RUN) --listen $(SOAK_ADDR) 2>>$(SOAK_LOG) & vpid=$$!; \
	trap 'kill $$vpid 2>/dev/null; wait $$vpid 2>/dev/null' EXIT; \
	./bin/vigie-load -wait 10s -url http://$(SOAK_ADDR)/v1/events -rate $(SOAK_RATE) -authors $(SOAK_AUTHORS) \
		-duration $(SOAK_DURATION) -interval $(SOAK_INTERVAL) -pid $$vpid

# soak-redis runs `vigie run` on a redis-server of its own and a fake Telegram
# desk for SOAK_DURATION (45m) at SOAK_RATE (500) events/s, stops redis-server
# for 2 minutes at 15m and vigie (SIGSTOP) for 40 s at 25m, and writes a row of
# vigie's and Redis's figures a minute (.ci/soak-redis, docs/speed.md). Ports
# SOAK_PORT, +10, +20 (26400). Not part of make test.
soak-redis:
	SOAK_DURATION=$(or $(SOAK_REDIS_DURATION),45m) SOAK_RATE=$(or $(SOAK_REDIS_RATE),500) .ci/soak-redis

# longrun runs vigie for LONGRUN (16m) on a redis-server and a fake Telegram desk
# at LONGRUN_RATE events/s while redis-server is stopped, frozen and the desk
# answers 500 and 429 (.ci/longrun, docs/operations.md): a table of resident
# memory, goroutines, open files, the store's metrics and the log's lines, a
# minute a row, in LONGRUN_DIR. Not part of make test.
longrun:
	LONGRUN=$(LONGRUN) LONGRUN_RATE=$(LONGRUN_RATE) LONGRUN_DIR=$(LONGRUN_DIR) LONGRUN_DATA=$(LONGRUN_DATA) .ci/longrun
