/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The user namespace the hook runs in: the initial one (rootful engines), or
 * one an unprivileged user made (rootless Podman), where the hook has no
 * privilege that user lacks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#define USERNS_UID_MAP_MAX  65536 /* the kernel allows 340 lines of about 33 bytes */
#define USERNS_OVERFLOW_UID 65534 /* the kernel's default overflowuid */

struct userns {
        bool initial;          /* the initial user namespace: uid_map is "0 0 4294967295" */
        bool root_mapped;      /* uid 0 here is a uid of the parent namespace... */
        uint32_t root_uid;     /* ...this one: 1000 for a rootless Podman of user 1000 */
        uint32_t overflow_uid; /* what an owner with no uid here shows as (65534) */
};

/*
 * Parse the text of a /proc/PID/uid_map (lines "INSIDE OUTSIDE COUNT").
 * Fails with EINVAL, the message quoting the line, on anything else.
 */
int userns_parse_uid_map(const char *text, size_t len, struct userns *out, struct shm_error *err);

/*
 * The hook's own namespace: the initial one by its nsfs inode, any other from
 * /proc/self/uid_map. When that cannot be read
 * or parsed (no /proc), it counts as the initial one, so the strict trust
 * rule applies; `err` then says why, for a debug line.
 */
void userns_current(struct userns *out, struct shm_error *err);

/*
 * May a file owned by `owner` steer the hook (running as `euid`)? In the
 * initial namespace: root or the hook's own uid. In another one also the
 * overflow uid, which is how root's files (and every owner outside the
 * namespace) show there; a uid mapped into the namespace other than those is
 * another user of it (a container's, or a system container's user) and is
 * refused. See policy.c for why.
 */
bool userns_owner_trusted(const struct userns *ns, uid_t owner, uid_t euid);

/* For the decision line: "" in the initial namespace, else "userns=rootless uid=1000"
 * (uid=unmapped when uid 0 has no mapping). */
struct userns_text {
        char s[48];
};
struct userns_text userns_format(const struct userns *ns);
