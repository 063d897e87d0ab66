/* SPDX-License-Identifier: Apache-2.0 */
/* Where each engine keeps a container's image reference. */
#pragma once

#include "error.h"
#include "spec.h"
#include "state.h"

#define ENGINE_FILE_MAX_BYTES (16u << 20)

/*
 * Find the image reference of the container, in this order:
 *   containerd CRI annotation io.kubernetes.cri.image-name,
 *   CRI-O annotation io.kubernetes.cri-o.ImageName,
 *   Podman: containers-storage containers.json beside the bundle,
 *   Docker: config.v2.json beside the container's /etc/hostname source.
 * Sets *ref (caller frees) and *source (a static description), or leaves
 * *ref NULL when none is found. A missing or malformed engine file is "no
 * image", never an error: *note explains why for the debug log.
 */
void engine_image_reference(const char *id, const char *bundle, const struct oci_spec *spec,
                            char **ref, const char **source, char *note, size_t note_size);
