/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of a bundle's config.json the hook reads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

#define SPEC_MAX_BYTES       (4u << 20)
#define SPEC_MAX_ANNOTATIONS 4096
#define SPEC_MAX_MOUNTS      4096

/* The config.json mounts[] entry whose destination is /dev/shm (the last one). */
struct spec_mount {
        bool present;
        bool bind; /* type "bind" or a bind/rbind option */
        char *type;
        char *source;
};

/* What the hook reads of config.json; every string is owned. */
struct oci_spec {
        char *root_path; /* absolute */
        struct annotation *annotations;
        size_t n_annotations;
        uint64_t memory_limit; /* 0: none */
        struct spec_mount shm;
        char *hostname_source; /* the /etc/hostname bind source (Docker) */
};

/* Parse config.json text; a relative root.path is joined to `bundle`. */
int oci_spec_parse(const char *buf, size_t len, const char *bundle, struct oci_spec *spec,
                   struct shm_error *err);

/* Read <bundle>/config.json (not through a symlink, size-capped) and parse it. */
int oci_spec_load(const char *bundle, struct oci_spec *spec, struct shm_error *err);

void oci_spec_free(struct oci_spec *spec);

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);

/* Is `path` "/dev/shm" once repeated and trailing slashes are folded? */
bool spec_path_is_dev_shm(const char *path);
