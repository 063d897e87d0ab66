#!/bin/bash
# Fuzz one target for a while:   tests/fuzz/run-long.sh TARGET SECONDS
# TARGET: state spec json policy size imageref (or "all", run one after another).
# Builds $BUILD_FUZZ (default build-fuzz) with clang when needed. The corpus
# grows in $FUZZ_WORK/TARGET/corpus (default /var/tmp/oci-shm-fuzz), seeded
# from tests/fuzz/corpus/TARGET; crashes, leaks, timeouts and OOMs land in
# $FUZZ_WORK/TARGET/artifacts. Exit status non-zero when anything was found.
# Reproduce a finding with:   build-fuzz/fuzz/fuzz_TARGET ARTIFACT
# Interesting new inputs can be minimized into the committed seeds with
#   build-fuzz/fuzz/fuzz_TARGET -merge=1 tests/fuzz/corpus/TARGET $FUZZ_WORK/TARGET/corpus
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$(pwd)
TARGETS=(state spec json policy size imageref mountinfo)
[ $# -eq 2 ] || { echo "usage: $0 TARGET|all SECONDS" >&2; exit 2; }
target=$1 seconds=$2
BUILD_FUZZ=${BUILD_FUZZ:-$TOP/build-fuzz}
FUZZ_WORK=${FUZZ_WORK:-/var/tmp/oci-shm-fuzz}

if [ "$target" = all ]; then
        status=0
        for t in "${TARGETS[@]}"; do "$0" "$t" "$seconds" || status=1; done
        exit $status
fi
case " ${TARGETS[*]} " in *" $target "*) ;; *) echo "unknown target '$target'" >&2; exit 2 ;; esac

# The largest input worth trying: a bit above the biggest real document.
case $target in
size) max_len=64 ;;
imageref) max_len=1024 ;;
state | policy) max_len=16384 ;;
*) max_len=65536 ;;
esac

if [ ! -x "$BUILD_FUZZ/fuzz/fuzz_$target" ]; then
        cmake -S "$TOP" -B "$BUILD_FUZZ" -DCMAKE_C_COMPILER=clang -DOCI_SHM_HOOK_FUZZ=ON \
                -DOCI_SHM_HOOK_INTEGRATION=OFF >/dev/null
        cmake --build "$BUILD_FUZZ" --target "fuzz_$target" -j"$(nproc)" >/dev/null
fi

dir=$FUZZ_WORK/$target
mkdir -p "$dir/corpus" "$dir/artifacts"
cp -n "$TOP/tests/fuzz/corpus/$target/"* "$dir/corpus/" 2>/dev/null || true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
before=$(find "$dir/artifacts" -type f | wc -l)
rc=0
"$BUILD_FUZZ/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$max_len" -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
after=$(find "$dir/artifacts" -type f | wc -l)
execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$dir/log")
echo "fuzz_$target: ${seconds}s, $execs executions, corpus $(ls "$dir/corpus" | wc -l) files, exit $rc, new artifacts $((after - before))"
if [ "$rc" != 0 ] || [ "$after" -gt "$before" ]; then
        tail -n 40 "$dir/log" >&2
        find "$dir/artifacts" -type f -newer "$dir/corpus" >&2 || true
        exit 1
fi
