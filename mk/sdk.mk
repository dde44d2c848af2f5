# Client SDKs generated from the spec (README "Client SDKs").
#   make sdk          regenerate sdk/c, sdk/python (codegen/sdk.py) and
#                     sdk/typescript/src/schema.gen.ts (openapi-typescript)
#   make check-sdk    fail when any of them differs from what the spec produces
#   make sdk-c-test   the Criterion binary of the C client (needs API_URL)
.PHONY: sdk check-sdk sdk-ts-deps sdk-c-test

SDK_TS := sdk/typescript
SDK_TS_SCHEMA := $(SDK_TS)/src/schema.gen.ts
SDK_TS_GEN := $(SDK_TS)/node_modules/.bin/openapi-typescript

# npm packages of the TypeScript SDK, pinned by its lockfile; Node from
# scripts/tools.sh (Debian's nodejs when missing).
$(SDK_TS)/node_modules/.stamp: $(SDK_TS)/package-lock.json
	$(Q)scripts/tools.sh
	$(Q)cd $(SDK_TS) && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@
sdk-ts-deps: $(SDK_TS)/node_modules/.stamp

sdk: $(SDK_TS)/node_modules/.stamp
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/sdk.py --spec $(SPEC) --out sdk
	$(Q)$(SDK_TS_GEN) $(SPEC) --output $(SDK_TS_SCHEMA) >/dev/null

check-sdk: $(SDK_TS)/node_modules/.stamp
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/sdk.py --spec api/openapi.yaml --out sdk --check
	$(Q)tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	    $(SDK_TS_GEN) api/openapi.yaml --output "$$tmp/schema.gen.ts" >/dev/null && \
	    if ! cmp -s "$$tmp/schema.gen.ts" $(SDK_TS_SCHEMA); then \
	        echo "the TypeScript SDK is out of date with api/openapi.yaml; run make sdk:" >&2; \
	        echo "  $(SDK_TS_SCHEMA)" >&2; exit 1; fi

# Like generated/, the C and Python clients follow the spec and the
# generator at build time (sdk.py rewrites only files whose bytes change);
# the TypeScript types need npm, so `make sdk` regenerates those.
SDK_STAMP := build/sdk.stamp
$(SDK_STAMP): $(SPEC) $(CODEGEN_DEPS)
	@mkdir -p $(@D)
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/sdk.py --spec $(SPEC) --out sdk
	@touch $@
ifeq ($(SPEC),api/openapi.yaml)
sdk/c/api_client.gen.c sdk/c/api_client.gen.h sdk/python/api_client.py: $(SDK_STAMP) ;
endif

# The C client links the server's generated types and the runtime pieces
# they need (no server loop, no libpq; regex.c for PCRE2 patterns), plus
# libcurl.
SDK_C_OBJ := $(call obj,sdk/c/api_client.gen.c generated/api_types.gen.c \
    src/runtime/rt.c src/runtime/json.c src/runtime/validate.c src/runtime/regex.c \
    src/runtime/log.c)
$(B)/obj/sdk/c/%.o $(B)/obj/tests/sdk/%.o: CPPFLAGS += -Isdk/c
$(B)/obj/sdk/c/api_client.gen.o: sdk/c/api_client.gen.h

$(B)/tests/sdk/c_sdk_test: $(B)/obj/tests/sdk/c_sdk_test.o $(SDK_C_OBJ)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lcriterion -lcurl -lpcre2-8 -lpthread -lm

sdk-c-test: $(B)/tests/sdk/c_sdk_test
