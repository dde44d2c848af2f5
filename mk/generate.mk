# Tests of the generator's constructs beyond api/openapi.yaml: the spec in
# tests/generated/constructs/ is generated into $(B)/constructs-gen and its
# C test linked against it (with the scaffold's stub handlers). Built by
# test-bins, run by scripts/test.d/20-codegen.sh.
CONSTRUCTS_SPEC := tests/generated/constructs/spec.yaml
CONSTRUCTS_GEN := $(B)/constructs-gen
CONSTRUCTS_TEST := $(B)/tests/generated/constructs_test
CONSTRUCTS_SRC := tests/generated/constructs/constructs_test.c \
    $(addprefix $(CONSTRUCTS_GEN)/,api_types.gen.c api_router.gen.c api_spec.gen.c handlers_stub.gen.c)

$(CONSTRUCTS_GEN)/api.gen.h: $(CONSTRUCTS_SPEC) $(CODEGEN_DEPS)
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	$(Q)$(PY) codegen/generate.py --quiet --strict --scaffold --spec $< --out $(CONSTRUCTS_GEN)

$(CONSTRUCTS_TEST): $(CONSTRUCTS_GEN)/api.gen.h tests/generated/constructs/constructs_test.c $(RUNTIME_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) -I$(CONSTRUCTS_GEN) $(CPPFLAGS) $(filter-out -MMD -MP,$(CFLAGS)) $(LDFLAGS) -o $@ \
	    $(CONSTRUCTS_SRC) $(RUNTIME_OBJ) -lcriterion $(LDLIBS)

test-bins: $(CONSTRUCTS_TEST)
.PHONY: constructs-test
constructs-test: $(CONSTRUCTS_TEST)
	$(CONSTRUCTS_TEST)
