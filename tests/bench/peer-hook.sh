#!/bin/bash
# The benchmark's peer: the prestart hook an admin would write instead of
# oci-shm-hook. It reads the state and config.json with jq, picks a size by
# image with the same ten rules as the benchmark's 10-rule policy, and resizes
# /dev/shm with nsenter and mount. (No grow-only check, no safety checks: it
# is already the cheap version.)
set -euo pipefail
state=$(cat)
pid=$(jq -r .pid <<<"$state")
bundle=$(jq -r .bundle <<<"$state")
IFS=$'\t' read -r root image < <(jq -r \
        '[.root.path, (.annotations["io.kubernetes.cri.image-name"] // "")] | @tsv' \
        "$bundle/config.json")
[[ $root == /* ]] || root=$bundle/$root
size=
case $image in
*/team-0000/*) size=1g ;;
*/team-0001-tool:*) size=2g ;;
registry.example.com/team-0002/*) size=512m ;;
*/team-0003/*) size=1g ;;
*/team-0004-tool:*) size=2g ;;
registry.example.com/team-0005/*) size=512m ;;
*/team-0006/*) size=1g ;;
*/team-0007-tool:*) size=2g ;;
registry.example.com/team-0008/*) size=512m ;;
docker.io/bench/app:*) size=65m ;;
esac
[ -n "$size" ] || exit 0
exec nsenter -t "$pid" -m mount -o remount,size="$size" "$root/dev/shm"
