# Benchmarks (docs/PERFORMANCE.md). Never part of `make test`.
#   make bench        full run: 3 interleaved rounds of 10 s per workload, ours vs the peers
#   make bench-quick  one short round (3 s per workload) while working
#   make bench-json   codec micro-benchmark: generated code vs cJSON and jansson
# Knobs of bench/run.sh pass through the environment (ROUNDS, DURATION, PEERS, PERF=1, ...).
PEERS_DIR ?= ../shared/peers
PEERS_BIN ?= /tmp/peers-bin
BENCH_PKGS := wrk linux-perf libcjson-dev libjansson-dev nginx-light postgresql-15 postgresql-client-15

.PHONY: bench bench-quick bench-json bench-deps bench-peers

bench-deps:
	$(Q)missing=""; for p in $(BENCH_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then echo "bench: installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

# The Go peers, built offline from Debian packages by the peers' own script.
bench-peers: bench-deps
	$(Q)if [ -x $(PEERS_BIN)/gin-peer ] && [ -x $(PEERS_BIN)/fasthttp-peer ] && [ -x $(PEERS_BIN)/nethttp-peer ]; then :; \
	elif [ -x $(PEERS_DIR)/build.sh ]; then PEERS_BIN=$(PEERS_BIN) $(PEERS_DIR)/build.sh >/dev/null; \
	else echo "bench: no $(PEERS_DIR)/build.sh; the Go peers will be skipped"; fi

bench: deps bench-peers
	$(Q)$(MAKE) --no-print-directory build
	$(Q)PEERS_BIN=$(PEERS_BIN) PEERS_DIR=$(abspath $(PEERS_DIR)) bench/run.sh

bench-quick: deps bench-peers
	$(Q)$(MAKE) --no-print-directory build
	$(Q)PEERS_BIN=$(PEERS_BIN) PEERS_DIR=$(abspath $(PEERS_DIR)) ROUNDS=$${ROUNDS:-1} DURATION=$${DURATION:-3s} \
	    WARMUP=$${WARMUP:-1s} bench/run.sh

# Codec micro-benchmark. JSON_BENCH_ITERS=1000 for a smoke run.
JSON_BENCH := $(B)/bench/json_bench
JSON_BENCH_ITERS ?= 200000
$(JSON_BENCH): bench/json_bench.c $(call obj,generated/api_types.gen.c) $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ -lcjson -ljansson $(LDLIBS)

bench-json: bench-deps
	$(Q)$(MAKE) --no-print-directory $(JSON_BENCH)
	$(Q)$(JSON_BENCH) $(JSON_BENCH_ITERS)
