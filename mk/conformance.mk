# Conformance suites: for a spec, the generator writes conformance.gen.c
# (codegen/conformance.py) beside the generated code; these rules build it
# into a Criterion binary linked with the runtime.
#
#   make conformance SPEC=path/to/doc.yaml    generate into a temporary folder, build, run,
#                                             print one summary line (exit 0 ok, 1 spec
#                                             errors or failing cases, 2 usage error)
#   make conformance-bins CONF_DIRS="d1 d2"   build <d>/conformance-$(CFG) for folders that
#                                             already hold generated code (one parallel make)
# SANITIZE=address,undefined works as for the other targets; CONF_KEEP=1 keeps the folder.

CONF_DIRS ?=
CONF_CPPFLAGS := -D_GNU_SOURCE -Isrc/runtime -I$(PG_INC)
# The suite itself is large and straight-line: -O0 keeps its compile time low
# (it is compiled after CFLAGS, so it wins); the code under test keeps $(OPT).
CONF_SUITE_OPT := -O0
# A scaffolded folder (generate.py --scaffold) also holds handler stubs and a
# main(); the suite brings its own of both.
CONF_NOT_LINKED = $(1)/handlers_stub.gen.c $(1)/main.gen.c

define conf_dir_rules
$(1)/%.$(CFG).o: $(1)/%.c $(1)/api.gen.h
	@$$(if $$(Q),echo "  CC      $$<")
	$$(Q)$$(CC) $$(CONF_CPPFLAGS) -I$(1) $$(CFLAGS) $$(if $$(filter conformance.gen.c,$$(notdir $$<)),$$(CONF_SUITE_OPT)) -c -o $$@ $$<

$(1)/conformance-$(CFG): $(patsubst %.c,%.$(CFG).o,$(filter-out $(CONF_NOT_LINKED),$(wildcard $(1)/*.gen.c))) $(RUNTIME_OBJ)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$^ -lcriterion $$(LDLIBS)
endef
$(foreach d,$(CONF_DIRS),$(eval $(call conf_dir_rules,$(patsubst %/,%,$(d)))))

.PHONY: conformance conformance-bins
conformance-bins: $(foreach d,$(CONF_DIRS),$(patsubst %/,%,$(d))/conformance-$(CFG))

conformance:
	@test -n "$(PY)" || { scripts/find-python.sh; exit 2; }
	$(Q)$(PY) codegen/conformance_run.py --spec "$(SPEC)" --make "$(MAKE)" \
	    $(if $(SANITIZE),--sanitize $(SANITIZE)) $(if $(CONF_KEEP),--keep)
