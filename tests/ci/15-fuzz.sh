#!/bin/bash
# CI phase: build the libFuzzer targets with clang (ASan + UBSan) in
# $BUILD-fuzz, replay every seed corpus, then fuzz each target for
# FUZZ_SECONDS (default 15) seconds. Any crash, leak, sanitizer report,
# timeout (>10 s for one input) or OOM fails the phase.
# Long runs:  tests/fuzz/run-long.sh TARGET|all SECONDS
set -euo pipefail
TOP=$(pwd)
BUILD=$(realpath -m "${BUILD:-$TOP/build}") # absolute: hooks and phases run elsewhere
FUZZ_BUILD=$BUILD-fuzz
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
TARGETS=(state spec json policy size imageref mountinfo)

# clang and its runtime (libFuzzer and the sanitizers live in libclang-rt-14-dev).
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
if [ ${#missing[@]} -gt 0 ]; then
        for pkg in "${missing[@]}"; do
                apt-cache show "$pkg" >/dev/null 2>&1 || { echo "FAIL: package $pkg is not available" >&2; exit 1; }
        done
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$TOP" -B "$FUZZ_BUILD" -DCMAKE_C_COMPILER=clang -DOCI_SHM_HOOK_FUZZ=ON \
        -DOCI_SHM_HOOK_INTEGRATION=OFF >/dev/null
cmake --build "$FUZZ_BUILD" -j"$(nproc)" >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
work=$(mktemp -d /tmp/oci-shm-fuzz-ci.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${TARGETS[@]}"; do
        bin=$FUZZ_BUILD/fuzz/fuzz_$t
        seeds=$TOP/tests/fuzz/corpus/$t
        mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
        # Every committed seed first, once: a regression input fails fast.
        if ! "$bin" -runs=0 "$seeds" >"$work/$t/replay.log" 2>&1; then
                echo "FAIL: fuzz_$t crashes on a committed seed:" >&2
                tail -n 30 "$work/$t/replay.log" >&2
                failed=1
                continue
        fi
        rc=0
        "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
                -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" "$seeds" \
                >"$work/$t/log" 2>&1 || rc=$?
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/$t/log" | tail -n1)
        if [ "$rc" != 0 ] || [ -n "$(ls -A "$work/$t/artifacts")" ]; then
                echo "FAIL: fuzz_$t found a problem (exit $rc):" >&2
                tail -n 40 "$work/$t/log" >&2
                for a in "$work/$t/artifacts"/*; do
                        [ -e "$a" ] || continue
                        echo "--- $(basename "$a") (base64):" >&2
                        base64 -w0 "$a" >&2
                        echo >&2
                done
                failed=1
        else
                echo "ok: fuzz_$t: ${FUZZ_SECONDS}s, ${runs:-?} runs, no crash"
        fi
done
[ "$failed" = 0 ] || exit 1
echo "fuzzing: all targets clean"
