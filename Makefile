# numsync — the targets a newcomer guesses. `make test` is what CI runs.
GO        ?= go
BIN       ?= bin/numsync
FUZZTIME  ?= 10s
FUZZLONG  ?= 2m
GOLANGCI  ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
GOBIN     := $(shell $(GO) env GOPATH)/bin
BENCH     ?= .
# bash, for `set -o pipefail` in the bench recipe.
SHELL     := /bin/bash

.PHONY: all build test vet race fuzz-short fuzz bench lint demo chaos clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/numsync

vet:
	$(GO) vet ./...

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

test: vet race fuzz-short

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
