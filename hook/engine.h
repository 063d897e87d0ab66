/* SPDX-License-Identifier: Apache-2.0 */
/* Where each engine keeps a container's image reference. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "spec.h"
#include "state.h"

#define ENGINE_FILE_MAX_BYTES (16u << 20)

/*
 * Find the image reference of the container from the engine that made it:
 *   Podman (io.container.manager=libpod): containers-storage containers.json beside
 *     the bundle;
 *   CRI-O (annotation io.kubernetes.cri-o.ContainerType): io.kubernetes.cri-o.ImageName;
 *   Docker: config.v2.json beside the container's /etc/hostname source;
 *   otherwise (containerd, bundles written by hand): io.kubernetes.cri.image-name,
 *     then io.kubernetes.cri-o.ImageName, then containers-storage.
 * Sets *ref (caller frees) and *source (a static description), or leaves
 * *ref NULL when none is found. A missing or malformed engine file is "no
 * image", never an error: *note explains why for the debug log.
 */
void engine_image_reference(const char *id, const char *bundle, const struct oci_spec *spec,
                            char **ref, const char **source, char *note, size_t note_size);

/*
 * A Kubernetes pod's sandbox (pause) container. Its /dev/shm is the pod's
 * shared tmpfs, and it has no memory limit of its own: the pod's containers
 * size that tmpfs by their rules, the sandbox never does.
 */
bool engine_is_pod_sandbox(const struct oci_spec *spec);
