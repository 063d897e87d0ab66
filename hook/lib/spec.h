/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of a bundle's config.json the hook reads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"

/*
 * Bounds on the document, not on what it holds: the reader streams it with
 * 64 KiB of memory, and skips what no rule reads, so a large or odd config
 * costs time only up to this size.
 */
#define SPEC_MAX_BYTES (64u << 20)
/* Annotations kept when every one is asked for (explain); more are counted. */
#define SPEC_MAX_ANNOTATIONS 4096

/* The config.json mounts[] entry whose destination is /dev/shm (the last one). */
struct spec_mount {
        bool present;
        bool bind; /* type "bind" or a bind/rbind option */
        char *type;
        char *source;
};

/* What the hook reads of config.json; every string is owned. */
struct oci_spec {
        char *root_path;                /* absolute */
        struct annotation *annotations; /* only the keys asked for */
        size_t n_annotations;
        size_t n_annotations_skipped; /* read past, unstored */
        uint64_t memory_limit;        /* 0: none; the lowest of limit and unified memory.max */
        struct spec_mount shm;
        char *hostname_source; /* the /etc/hostname bind source (Docker) */
        char **bind_sources;   /* of every bind mount, for identifying /dev/shm */
        size_t n_bind_sources;
};

/* The annotation keys to keep; NULL keeps every one (up to SPEC_MAX_ANNOTATIONS). */
struct spec_keys {
        const char *const *keys;
        size_t n;
};

/*
 * Parse config.json text; a relative root.path is joined to `bundle`.
 * Annotations outside `keys` are skipped unread: their number, size and bytes
 * never refuse a container. A kept annotation given twice or holding a NUL
 * character is refused, as is any field the hook reads with the wrong type or
 * a case variant of its key (see json_reader.h).
 */
int oci_spec_parse(const char *buf, size_t len, const char *bundle, const struct spec_keys *keys,
                   struct oci_spec *spec, struct shm_error *err);

/* Read <bundle>/config.json (not through a symlink, size-capped) and parse it. */
int oci_spec_load(const char *bundle, const struct spec_keys *keys, struct oci_spec *spec,
                  struct shm_error *err);

void oci_spec_free(struct oci_spec *spec);

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);

/*
 * A mount destination as the runtimes resolve it, lexically: joined to "/",
 * with ".", ".." and repeated slashes folded (Go's filepath.Clean, which runc
 * and securejoin apply). Allocated, of any length; NULL when out of memory.
 */
char *oci_spec_clean_path(const char *path);
