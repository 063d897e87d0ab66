/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI state the runtime writes to a hook's stdin (runc and crun forms). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The state repeats config.json's annotations: bounded like config.json. */
#define STATE_MAX_BYTES  (64u << 20)
#define CONTAINER_ID_MAX 1024
/* The kernel's PID_MAX_LIMIT: no pid can be larger. */
#define STATE_PID_LIMIT 4194304

struct oci_state {
        char *id;
        pid_t pid;
        char *bundle; /* absolute */
        char *status; /* may be NULL */
};

/*
 * Parse the state: `id` (a safe name), `pid` (an integer > 1), `bundle` (an
 * absolute path) are required; these keys given twice or in another letter
 * case are refused, everything else is skipped unread.
 */
int oci_state_parse(const char *buf, size_t len, struct oci_state *state, struct shm_error *err);
/* The same, streamed from fd (stdin) with bounded memory. */
int oci_state_read(int fd, struct oci_state *state, struct shm_error *err);
void oci_state_free(struct oci_state *state);

/* Container ids become path components (Podman, Docker lookups): [A-Za-z0-9_.+-], not "." or "..".
 */
int container_id_valid(const char *id);
