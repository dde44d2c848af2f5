# Conformance suites (sourced by scripts/test.sh): for api/openapi.yaml and
# every document in ../shared/testdata/openapi/ (and the smaller ones in
# openapi-extra/, which cost seconds), generate the code and its
# conformance suite (codegen/conformance.py), build all of them with one
# parallel make under the sanitizers, and run each suite. A document the
# generator refuses counts as a failure with its spec errors in the log.

step "conformance suites (generated from each spec, ASan + UBSan)"
conf_root=$root/build/conformance/suites
rm -rf "$conf_root"
mkdir -p "$conf_root"
conf_docs=(api/openapi.yaml)
for f in ../shared/testdata/openapi/*.yaml ../shared/testdata/openapi/*.yml ../shared/testdata/openapi/*.json \
    ../shared/testdata/openapi-extra/*.yaml ../shared/testdata/openapi-extra/*.json; do
    [ -f "$f" ] && conf_docs+=("$f")
done
conf_dirs=()
conf_names=()
for doc in "${conf_docs[@]}"; do
    name=$(basename "${doc%.*}")
    case $doc in *openapi-extra/*) name=extra-$name ;; esac
    d=$conf_root/$name
    log=$work/conformance-generate-$name.log
    if "$PY" codegen/generate.py --spec "$doc" --out "$d" --conformance "$d" >"$log" 2>&1; then
        conf_dirs+=("$d")
        conf_names+=("$name")
        grep -a -E '^conformance:' "$log" | sed "s|^|   $name: |"
    else
        record "conformance/$name: generate" 1 "$log"
    fi
done
if [ ${#conf_dirs[@]} -gt 0 ]; then
    nice -n 10 make -k -s -j"$JOBS" SANITIZE=$SAN conformance-bins CONF_DIRS="${conf_dirs[*]}" \
        >"$work/conformance-build.log" 2>&1
    for i in "${!conf_dirs[@]}"; do
        d=${conf_dirs[$i]}
        name=${conf_names[$i]}
        if [ -x "$d/conformance-san" ]; then
            run "conformance/$name" "$d/conformance-san" --jobs "$JOBS"
        else
            grep -a -A3 "$d" "$work/conformance-build.log" >"$work/conformance-build-$name.log"
            record "conformance/$name: build" 1 "$work/conformance-build-$name.log"
        fi
    done
fi
