# fedactor: two commands matter, `make run` and `make test`.
#
# OpenBLAS (Debian: libopenblas-dev) makes training about ?x faster than
# gonum's pure-Go BLAS (scripts/bench_blas.sh; docs/benchmarks.md).
# TODO(blas-ratio): replace ?x with the ratio scripts/bench_blas.sh measures.
# It is found automatically; without it everything still works on pure Go.

GO ?= go

# OPENBLAS is "yes" when a C compiler can link -lopenblas.
OPENBLAS ?= $(shell printf 'int main(void){return 0;}\n' | $${CC:-cc} -x c - -lopenblas -o /dev/null >/dev/null 2>&1 && echo yes)
ifeq ($(OPENBLAS),yes)
BUILDTAGS := openblas
endif
TAGS := $(if $(BUILDTAGS),-tags $(BUILDTAGS))

# Packages whose tests run with the race detector: the ones with concurrency
# of their own; -short keeps the slow numeric cases out of the race run.
# actors/hosts is left out: its tests start two ProtoActor remotes in one
# process, and remote.Start sets gRPC's global logger, which races with the
# other remote's server (one remote per process, as in a real node, is fine).
RACE_PKGS := ./actors ./actors/policy ./actors/dp ./internal/... ./dataset/... ./plots/... ./nn/... ./crypto/...

.PHONY: run test vet bench soak fuzz proto blas-hint

## run: the main experiment, the split sweep, with its defaults.
run: blas-hint
	$(GO) run $(TAGS) ./experiments/split

## test: vet, then every test (race detector where it matters).
test: vet
	$(GO) test $(TAGS) -count=1 ./...
	$(GO) test $(TAGS) -count=1 -race -short $(RACE_PKGS)

vet:
	$(GO) vet $(TAGS) ./...

## bench: training, evaluation, crypto and actor-overhead benchmarks.
bench: blas-hint
	$(GO) test $(TAGS) -run '^$$' -bench . -benchtime 3x ./nn/ ./crypto/ ./actors/

## soak: 200 rounds per scheme with 30% random dropouts and hostile
## messages every round; reports rounds, rejections by reason, heap growth.
soak:
	$(GO) test -tags soak,$(BUILDTAGS) -count=1 -run '^TestSoak$$' -v -timeout 2h ./actors/

## fuzz: run every fuzz target for FUZZTIME (default 10m) each, one after another.
## internal/testenv's TestMakefileListsEveryFuzzTarget (part of `make test`)
## fails when a func Fuzz... in the tree is missing here, or one listed is gone.
FUZZTIME ?= 10m
FUZZ_TARGETS := ./dataset:FuzzReadIDX ./actors:FuzzPartyMessages ./actors:FuzzCheckpoint ./actors:FuzzOwnerCheckpoint \
	./crypto:FuzzUnmarshalPlain ./crypto:FuzzUnmarshalSS ./crypto:FuzzUnmarshalSSShamir ./crypto:FuzzUnmarshalSecAgg \
	./crypto:FuzzUnmarshalCKKS ./crypto:FuzzUnmarshalThresholdCKKS ./crypto:FuzzUnmarshalPaillier \
	./nn:FuzzLoadSafetensors ./dataset:FuzzReadCIFAR ./internal/sweep:FuzzReadSummary ./internal/sweep:FuzzReadParams
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t#*:} ($(FUZZTIME))"; \
		$(GO) test $(TAGS) -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) $${t%%:*}; \
	done

## proto: regenerate actors/fedactor.pb.go (needs protoc and protoc-gen-go v1.33.0).
proto:
	protoc --go_out=. --go_opt=paths=source_relative actors/fedactor.proto

# TODO(blas-ratio): replace ?x in the note with the ratio scripts/bench_blas.sh measures.
blas-hint:
ifneq ($(OPENBLAS),yes)
	@echo "note: OpenBLAS not found, using pure-Go BLAS (training about ?x slower)." >&2
	@echo "      For the fast path: sudo apt-get install libopenblas-dev" >&2
endif
