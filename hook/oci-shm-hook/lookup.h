/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image reference, looked up once and only when needed: on a Podman host
 * that reads containers.json, which a policy without image= rules never needs
 * to decide (a decision line still names the image).
 */
#pragma once

#include <stdbool.h>

#include "engine.h"
#include "imageref.h"
#include "spec.h"

struct image_lookup {
        const char *id;
        const struct engine *engine;
        const struct oci_spec *spec;
        bool log; /* say so when the reference is invalid (hook mode) */
        bool done, warn;
        char *ref;
        const char *source;
        struct image_ref image;
        char note[512];
        char parse_error[256];
};

/* The parsed reference, looked up on first use; NULL when there is none or it is invalid. */
const struct image_ref *image_lookup_find(struct image_lookup *l);
/* For a log line: the normalized reference (no spaces or quotes), "invalid" or NULL. */
const char *image_lookup_name(struct image_lookup *l);
void image_lookup_free(struct image_lookup *l);
