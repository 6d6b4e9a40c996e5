# numsync — the targets a newcomer guesses. `make test` is what CI runs.
GO        ?= go
BIN       ?= bin/numsync
FUZZTIME  ?= 10s
FUZZLONG  ?= 2m
GOLANGCI  ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
GOBIN     := $(shell $(GO) env GOPATH)/bin
BENCH     ?= .
CHAOS_TRIALS  ?= 5
CHAOS_SECONDS ?= 300
CHAOS_NUMBERS ?= 2000
CHAOS_SEED    ?= 1
# bash, for `set -o pipefail` in the bench recipe.
SHELL     := /bin/bash

.PHONY: all build test vet tidy race fuzz-short fuzz bench lint demo chaos chaos-short clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/numsync

vet:
	$(GO) vet ./...

# go.mod and go.sum say exactly what the code imports (a direct import
# marked "// indirect", or a module no longer used, fails the build).
tidy:
	$(GO) mod tidy -diff

race:
	$(GO) test -race -count=1 -timeout 15m ./...

# The fuzz targets run briefly on every test run (a crash found here fails
# the build); `make fuzz` runs them long.
fuzz-short:
	@set -e; for t in $$($(GO) run ./internal/tools/fuzztargets); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

test: tidy vet race fuzz-short chaos-short

# A bounded soak (internal/tools/chaos): numsync lab with faults, a large
# generated CSV, numsync SIGKILLed at random moments and rerun, then every
# invariant checked against the labs' request logs. CHAOS_TRIALS,
# CHAOS_SECONDS (overall bound), CHAOS_NUMBERS and CHAOS_SEED scale it.
chaos:
	CHAOS_TRIALS=$(CHAOS_TRIALS) CHAOS_SECONDS=$(CHAOS_SECONDS) CHAOS_NUMBERS=$(CHAOS_NUMBERS) CHAOS_SEED=$(CHAOS_SEED) \
		$(GO) run ./internal/tools/chaos

# The short soak every test run does.
chaos-short:
	$(MAKE) chaos CHAOS_TRIALS=2 CHAOS_NUMBERS=200 CHAOS_SECONDS=90

fuzz:
	$(MAKE) fuzz-short FUZZTIME=$(FUZZLONG)

# Runs every benchmark once (BENCH=regex picks some) and ends with one
# summary table of figure, target, measured, ratio (internal/tools/benchtable).
# pipefail keeps go test's exit status, which the pipe would otherwise lose.
bench:
	set -o pipefail; $(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -benchtime=1x -timeout 60m ./... 2>&1 | $(GO) run ./internal/tools/benchtable

lint:
	@test -x $(GOBIN)/golangci-lint || $(GO) install $(GOLANGCI)
	$(GOBIN)/golangci-lint run ./...

demo:
	$(GO) run ./cmd/numsync demo

clean:
	rm -rf bin
