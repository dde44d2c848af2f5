# ---------------------------------------------------------------- docs
# The interactive API docs (Swagger UI at /docs) are embedded in the server:
# scripts/embed-docs.py turns the pinned npm package swagger-ui-dist
# (tools/package.json + package-lock.json, installed by scripts/tools.sh)
# and our index page into build/docs/assets.c, which defines svc_docs_site
# for src/main.c. Nothing is read from disk at run time.
#   make docs-assets   just the embedded C file

DOCS_DIST := tools/node_modules/swagger-ui-dist
DOCS_C := build/docs/assets.c
DOCS_OBJ := $(B)/obj/docs/assets.o
DOCS_SRC := src/runtime/docs.html src/runtime/docs.js

.PHONY: docs-assets
docs-assets: $(DOCS_C)

# npm ci only when the package is missing or the lockfile changed: tools.sh
# compares the lockfile with node_modules; npm gives the package's files a
# 1985 mtime, so the touch is what makes this rule quiet afterwards.
$(DOCS_DIST)/package.json: tools/package.json tools/package-lock.json
	$(Q)scripts/tools.sh
	@test -f $@ || { echo "docs: $@ missing after scripts/tools.sh" >&2; exit 1; }
	@touch $@

$(DOCS_C): $(DOCS_DIST)/package.json scripts/embed-docs.py $(DOCS_SRC)
	@test -n "$(PY)" || { scripts/find-python.sh; exit 1; }
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)$(PY) scripts/embed-docs.py $@ --dist $(DOCS_DIST) --index src/runtime/docs.html \
	    --init src/runtime/docs.js --mount /docs
	@touch $@

$(DOCS_OBJ): $(DOCS_C)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(SERVER): $(DOCS_OBJ)
