/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Adding a hook entry to a bundle's config.json, for oci-shm-runtime. The
 * entry is inserted into the original text: every other byte stays as it was
 * (a re-encoded document would change what the runtime reads: escapes such as
 * lone surrogates, numbers, duplicate keys, key order).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define BUNDLE_MAX_HOOK_ARGS 16
/*
 * The shim holds config.json in memory to edit it: Docker's and containerd's
 * configs are tens of kilobytes (Docker passes no annotations before 24), so
 * a larger one is refused rather than copied. The hook reads up to
 * SPEC_MAX_BYTES by streaming.
 */
#define BUNDLE_MAX_BYTES (4u << 20)

struct hook_entry {
        const char *path;
        const char *args[BUNDLE_MAX_HOOK_ARGS]; /* NULL-terminated */
        const char *env[BUNDLE_MAX_HOOK_ARGS];  /* NULL-terminated */
        int timeout;                            /* seconds; 0: none */
};

/*
 * Given config.json text buf[0..len) (buf[len] == '\0'), produce the text with
 * `hook` appended to hooks.<stage>: the entry goes after the last one of that
 * stage; a missing stage is added as the last member of "hooks", a missing
 * "hooks" as the last member of the document, and a null one is replaced.
 * Nothing else changes. When a hook entry of any stage already has hook->path
 * (or names the same file), nothing is produced: *out stays NULL and *added
 * is false. Refuses invalid JSON (strict: see json_parse_object), duplicate
 * keys at the top level or in "hooks", a key that is "hooks" or a stage name
 * only when case is ignored (runc reads it, crun does not), and a "hooks" or
 * hooks.<stage> of the wrong type.
 */
int bundle_config_add_hook(const char *buf, size_t len, const char *stage,
                           const struct hook_entry *hook, char **out, size_t *out_len, bool *added,
                           struct shm_error *err);

/*
 * Do the same to <bundle>/config.json: read it with open_regular_file() (no
 * symlink, size-capped like the hook's own read), write the new text to a
 * temporary file in the bundle directory with the old file's mode (and, as
 * root, owner), fsync it and rename it over config.json. *added tells
 * whether the file was changed.
 */
int bundle_add_hook(const char *bundle, const char *stage, const struct hook_entry *hook,
                    bool *added, struct shm_error *err);
