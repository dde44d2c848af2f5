# One entry point for building, running and testing.
#   make run            deps, generate, build, throwaway PostgreSQL (unless DATABASE_URL), migrate, serve
#   make test           everything: drift check, generator tests, unit + integration tests
#                       under AddressSanitizer and UndefinedBehaviorSanitizer, release build
#   make generate       regenerate generated/ from api/openapi.yaml (SPEC=, OUT= to override;
#                       another OUT gets a buildable scaffold; GENFLAGS=--strict)
#   make check-generated  fail when generated/ differs from what the spec produces
#   make build          the server binary (release: build/release/server)
#   make SANITIZE=address,undefined build   the same under sanitizers (build/san/)
#   V=1                 show full command lines
SHELL := /bin/bash
.DEFAULT_GOAL := build

SPEC ?= api/openapi.yaml
OUT ?= generated
PY := $(shell scripts/find-python.sh 2>/dev/null)

ifeq ($(SANITIZE),)
  CFG := release
  OPT := -O2 -g
else
  CFG := san
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif
B := build/$(CFG)

ifeq ($(V),1)
  Q :=
else
  Q := @
endif

CC ?= cc
PG_INC := $(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wshadow
CPPFLAGS := -D_GNU_SOURCE -Isrc/runtime -Igenerated -Isrc/service -I$(PG_INC)
CFLAGS := -std=c17 $(WARN) $(OPT) -MMD -MP
LDFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE),)
LDLIBS := -lpq -lpcre2-8 -lpthread -lm

RUNTIME_SRC := $(sort $(wildcard src/runtime/*.c))
GEN_SRC := generated/api_types.gen.c generated/api_router.gen.c generated/api_spec.gen.c
GEN_FILES := $(GEN_SRC) generated/api.gen.h generated/operations.gen.tsv
SERVICE_SRC := $(sort $(wildcard src/service/*.c))
MIGRATIONS := $(sort $(wildcard db/migrations/*.sql))
CODEGEN_DEPS := $(shell find codegen -name '*.py' -o -name '*.j2' 2>/dev/null | sort)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
RUNTIME_OBJ := $(call obj,$(RUNTIME_SRC))
GEN_OBJ := $(call obj,$(GEN_SRC))
SERVICE_OBJ := $(call obj,$(SERVICE_SRC))
SERVER := $(B)/server

.PHONY: build run test generate check-generated deps clean unit-tests test-bins FORCE

build: $(SERVER)

deps:
	$(Q)scripts/deps.sh

# ---------------------------------------------------------------- generation
# Regenerates when the spec or the generator changes; the generator only
# rewrites files whose bytes change, so up-to-date objects stay up to date.
GEN_STAMP := build/generated.stamp
$(GEN_STAMP): $(SPEC) $(CODEGEN_DEPS)
	@mkdir -p $(@D)
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/generate.py --spec $(SPEC) --out $(OUT)
	@touch $@
ifeq ($(SPEC)$(OUT),api/openapi.yamlgenerated)
$(GEN_FILES): $(GEN_STAMP) ;
endif

generate:
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/generate.py --spec $(SPEC) --out $(OUT) $(if $(filter generated,$(OUT)),,--scaffold) $(GENFLAGS)

check-generated:
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/generate.py --spec api/openapi.yaml --out generated --check

# ---------------------------------------------------------------- compile
$(B)/obj/%.o: %.c | $(GEN_FILES)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/migrations.c: $(MIGRATIONS) scripts/embed_migrations.py
	@mkdir -p $(@D)
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) scripts/embed_migrations.py $@ $(MIGRATIONS)

$(B)/migrations.o: $(B)/migrations.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# A handler the service does not implement fails here, naming the operation.
$(B)/handlers.ok: generated/operations.gen.tsv $(SERVICE_OBJ) scripts/check-handlers.sh
	$(Q)scripts/check-handlers.sh generated/operations.gen.tsv $(SERVICE_OBJ)
	@touch $@

$(SERVER): $(B)/obj/src/main.o $(SERVICE_OBJ) $(GEN_OBJ) $(RUNTIME_OBJ) $(B)/migrations.o $(B)/handlers.ok
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# ---------------------------------------------------------------- tests
# Each tests/<dir>/<name>_test.c is one Criterion binary.
RUNTIME_TESTS := $(patsubst tests/runtime/%.c,$(B)/tests/runtime/%,$(sort $(wildcard tests/runtime/*_test.c)))
GEN_TESTS := $(patsubst tests/generated/%.c,$(B)/tests/generated/%,$(sort $(wildcard tests/generated/*_test.c)))
INTEG_TESTS := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(sort $(wildcard tests/integration/*_test.c)))
TEST_HELPERS_RT := $(call obj,$(filter-out %_test.c,$(wildcard tests/runtime/*.c)))
TEST_HELPERS_IT := $(call obj,$(filter-out %_test.c,$(wildcard tests/integration/*.c)))

$(B)/tests/runtime/%: $(B)/obj/tests/runtime/%.o $(TEST_HELPERS_RT) $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lcurl $(LDLIBS)

$(B)/tests/generated/%: $(B)/obj/tests/generated/%.o $(GEN_OBJ) $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

$(B)/tests/integration/%: $(B)/obj/tests/integration/%.o $(TEST_HELPERS_IT) $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lcurl $(LDLIBS)

test-bins: $(SERVER) $(RUNTIME_TESTS) $(GEN_TESTS) $(INTEG_TESTS)

# The whole suite; scripts/test.sh says what runs in which order.
test: deps
	$(Q)scripts/test.sh

# ---------------------------------------------------------------- run
run: deps
	$(Q)$(MAKE) --no-print-directory build
	$(Q)scripts/run.sh $(SERVER)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Feature targets live in mk/*.mk (bench, docs, sdk, conformance, ...), each
# owning its own variables and phony targets.
include $(sort $(wildcard mk/*.mk))

# ---------------------------------------------------------------- fuzzing
# libFuzzer (clang) over the JSON decoder and the generated decoders, seeded
# with JSONTestSuite. `make fuzz` runs FUZZ_SECONDS; `make fuzz-replay` runs
# every seed once (deterministic; part of make test).
FUZZ_SECONDS ?= 60
FUZZ_SEEDS ?= tests/fuzz/seeds ../shared/testdata/JSONTestSuite/test_parsing
FUZZ_BIN := build/fuzz/json_fuzz
FUZZ_SRC := tests/fuzz/json_fuzz.c generated/api_types.gen.c src/runtime/rt.c src/runtime/json.c src/runtime/validate.c

$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard src/runtime/*.h) generated/api.gen.h
	@mkdir -p $(@D)/corpus
	$(Q)clang -std=c17 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    $(CPPFLAGS) -o $@ $(FUZZ_SRC) -lm

# The HTTP/1.1 request parser on its own (head, chunked body, unescape),
# seeded with a few heads and bodies: `make fuzz-h1`.
H1_FUZZ_SEEDS ?= tests/fuzz/h1_seeds
H1_FUZZ_BIN := build/fuzz/h1_fuzz
H1_FUZZ_SRC := tests/fuzz/h1_fuzz.c src/runtime/h1.c

$(H1_FUZZ_BIN): $(H1_FUZZ_SRC) src/runtime/h1.h
	@mkdir -p $(@D)/h1_corpus
	$(Q)clang -std=c17 $(WARN) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    $(CPPFLAGS) -o $@ $(H1_FUZZ_SRC)

.PHONY: fuzz fuzz-h1 fuzz-replay
fuzz: $(FUZZ_BIN)
	cd build/fuzz && ./json_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 corpus $(abspath $(FUZZ_SEEDS))

fuzz-h1: $(H1_FUZZ_BIN)
	cd build/fuzz && ./h1_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 h1_corpus $(abspath $(H1_FUZZ_SEEDS))

fuzz-replay: $(FUZZ_BIN) $(H1_FUZZ_BIN)
	$(Q)$(FUZZ_BIN) -runs=0 $(FUZZ_SEEDS)
	$(Q)$(H1_FUZZ_BIN) -runs=0 $(H1_FUZZ_SEEDS)
