/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One entry of /proc/<pid>/mountinfo, found by mount ID (and, when asked,
 * another mount of the same device).
 *
 * The hook needs a line or two of the table at every container start.
 * libmount parses the whole table and loads libblkid, libselinux and pcre2
 * with it, which cost more than the rest of the hook (the README's
 * Performance section); this reads lines until it has what it needs. The
 * unit tests check it against libmount on the machine's own table.
 */
#pragma once

#include "error.h"

struct mountinfo_entry {
        int id;
        int parent_id;
        unsigned major, minor;
        char *root;        /* the mount's root within its file system, "/" for all of it */
        char *mount_point; /* \ooo escapes decoded, like root, fstype and source */
        char *fstype;      /* with any ".subtype" */
        char *source;
};

/*
 * Parse one line (with or without its newline):
 *   ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL-FIELDS...] - FSTYPE SOURCE SUPER-OPTIONS
 * Returns 0, -EINVAL for a malformed line, or -ENOMEM. On failure *e is empty.
 */
int mountinfo_parse_line(const char *line, struct mountinfo_entry *e);

/* The entry of mount `id` in the table at `path`; -ENOENT when it is not there. */
int mountinfo_find(const char *path, int id, struct mountinfo_entry *e, struct shm_error *err);

/*
 * The same, reading the whole table to find in *twin (when not NULL) another
 * mount of device major:minor: a bind of the same file system elsewhere.
 * *twin stays empty (fstype NULL) when there is none.
 */
int mountinfo_find_twin(const char *path, int id, unsigned major, unsigned minor,
                        struct mountinfo_entry *e, struct mountinfo_entry *twin,
                        struct shm_error *err);

void mountinfo_entry_free(struct mountinfo_entry *e);
