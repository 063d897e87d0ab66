#!/bin/bash
# CI phase: the whole ctest suite (unit, integration, security) once more with
# the hook and the tests built with ASan + UBSan (gcc) in $BUILD-asan, then the
# hook's real runs under valgrind (tests/security/valgrind-runs.sh) with an
# uninstrumented, dynamically linked hook in $BUILD-dynamic.
#
# The hook runs under runc/crun/Podman as a prestart hook: the runtime passes
# its environment on (unless a hook entry sets "env"), so ASAN_OPTIONS reaches
# it. abort_on_error makes a report fail the hook, hence the container, hence
# the test; log_path also writes every report to $LOGS, and any file there
# fails this phase, even from a run whose test did not notice.
set -euo pipefail
TOP=$(pwd)
BUILD=$(realpath -m "${BUILD:-$TOP/build}") # absolute: hooks and phases run elsewhere
ASAN_BUILD=$BUILD-asan

cmake -S "$TOP" -B "$ASAN_BUILD" -DOCI_SHM_HOOK_WERROR=ON -DOCI_SHM_HOOK_SANITIZE=ON >/dev/null
cmake --build "$ASAN_BUILD" -j"$(nproc)" >/dev/null

LOGS=$(mktemp -d /tmp/oci-shm-sanitizers.XXXXXX)
chmod 0755 "$LOGS"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_exe_name=1:log_path=$LOGS/asan
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_exe_name=1:log_path=$LOGS/ubsan
status=0
(cd "$ASAN_BUILD" && ctest --output-on-failure --timeout 900) || status=1
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ -n "$(ls -A "$LOGS")" ]; then
        echo "FAIL: sanitizer reports:" >&2
        for f in "$LOGS"/*; do
                echo "=== $f" >&2
                cat "$f" >&2
        done
        status=1
else
        echo "ok: no ASan/UBSan report from any test or hook run"
fi
rm -rf "$LOGS"

# memcheck replaces malloc through the dynamic loader: it needs the dynamic hook.
DYNAMIC_BUILD=$BUILD-dynamic
cmake -S "$TOP" -B "$DYNAMIC_BUILD" -DOCI_SHM_HOOK_WERROR=ON -DOCI_SHM_HOOK_STATIC=OFF \
        -DBUILD_TESTING=OFF >/dev/null
cmake --build "$DYNAMIC_BUILD" --target oci-shm-hook -j"$(nproc)" >/dev/null
echo "--- valgrind runs of $DYNAMIC_BUILD/oci-shm-hook (the same code, linked dynamically)"
OCI_SHM_HOOK_BIN=$DYNAMIC_BUILD/oci-shm-hook bash "$TOP/tests/security/valgrind-runs.sh" || status=1
exit $status
