#!/bin/bash
# make-image.sh OUT.tar NAMES...: an OCI image archive, without a registry,
# that `ctr -n k8s.io images import OUT.tar` loads. Every NAMES argument is one
# image (its own config, so its own image id) with one or more names separated
# by commas ("docker.io/a/b:1,docker.io/c/d:1" is one image with two names,
# as after a retag). All images share one uncompressed layer: a static
# busybox with the tools the tests call. Needs busybox (static), tar,
# sha256sum and jq.
set -euo pipefail
out=$1
shift
[ $# -gt 0 ] || { echo "usage: $0 OUT.tar NAMES..." >&2; exit 2; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
blobs=$dir/layout/blobs/sha256
mkdir -p "$blobs" "$dir/rootfs"/{bin,proc,dev,sys,tmp,etc,data}
cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
for tool in sh df cat ls grep stat touch echo sleep mount awk head wc dd rm cut sed; do
        ln -s busybox "$dir/rootfs/bin/$tool"
done
echo 'root:x:0:0:root:/:/bin/sh' >"$dir/rootfs/etc/passwd"
echo 'root:x:0:' >"$dir/rootfs/etc/group"

# blob FILE: store FILE by its digest; prints "DIGEST SIZE".
blob() {
        local sum
        sum=$(sha256sum "$1" | cut -d' ' -f1)
        mv "$1" "$blobs/$sum"
        echo "sha256:$sum $(stat -c %s "$blobs/$sum")"
}

# Reproducible layer: fixed owner and times, sorted names.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
        -C "$dir/rootfs" -cf "$dir/layer.tar" .
read -r layer_digest layer_size < <(blob "$dir/layer.tar")

manifests='[]'
for names in "$@"; do
        # The config names the image, so every NAMES argument gets its own id.
        jq -n --arg layer "$layer_digest" --arg names "$names" '{
                architecture: "amd64", os: "linux",
                config: {Env: ["PATH=/bin"], Cmd: ["sleep", "100000"],
                         Labels: {"org.example.oci-shm-hook.test-names": $names}},
                rootfs: {type: "layers", diff_ids: [$layer]}}' >"$dir/config.json"
        read -r config_digest config_size < <(blob "$dir/config.json")
        jq -n --arg c "$config_digest" --argjson cs "$config_size" \
                --arg l "$layer_digest" --argjson ls "$layer_size" '{
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
                layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
                >"$dir/manifest.json"
        read -r manifest_digest manifest_size < <(blob "$dir/manifest.json")
        IFS=, read -ra list <<<"$names"
        for name in "${list[@]}"; do
                manifests=$(jq --arg d "$manifest_digest" --argjson s "$manifest_size" --arg n "$name" \
                        '. + [{mediaType: "application/vnd.oci.image.manifest.v1+json",
                               digest: $d, size: $s,
                               platform: {architecture: "amd64", os: "linux"},
                               annotations: {"io.containerd.image.name": $n}}]' <<<"$manifests")
        done
done
jq -n --argjson m "$manifests" '{schemaVersion: 2, manifests: $m}' >"$dir/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/layout/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$dir/layout" -cf "$out" .
