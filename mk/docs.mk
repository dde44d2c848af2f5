# ---------------------------------------------------------------- docs
# The interactive API docs (Swagger UI at /docs) are embedded in the server:
# scripts/embed-docs.py turns the pinned npm package swagger-ui-dist
# (tools/package.json + package-lock.json, installed by scripts/tools.sh)
# and our index page into build/docs/assets.c, which defines svc_docs_site
# for src/main.c. Nothing is read from disk at run time.
#   make docs-assets   just the embedded C file
#   make docs-test API_URL=http://127.0.0.1:8080
#                      the browser test against a running server (it creates
#                      one user there); screenshot in build/docs-test.png

DOCS_DIST := tools/node_modules/swagger-ui-dist
DOCS_C := build/docs/assets.c
DOCS_OBJ := $(B)/obj/docs/assets.o
DOCS_SRC := src/runtime/docs.html src/runtime/docs.js

.PHONY: docs-assets docs-test
docs-assets: $(DOCS_C)

docs-test:
	@test -n "$(API_URL)" || { echo "docs-test: set API_URL to a running server (make run)" >&2; exit 1; }
	$(Q)scripts/tools.sh
	$(Q)node tests/browser/docs_test.js --base $(API_URL) --try-it-out --screenshot build/docs-test.png

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
