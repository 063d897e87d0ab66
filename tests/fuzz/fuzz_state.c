/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the OCI state on the hook's stdin (runc and crun forms). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct oci_state state;
        struct shm_error err = {0};
        char *buf = malloc(size + 1);

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        if (oci_state_parse(buf, size, &state, &err) == 0) {
                /* What the parser promises its callers. */
                if (state.pid <= 1 || state.pid > STATE_PID_LIMIT || !state.bundle ||
                    state.bundle[0] != '/' || !state.id || !container_id_valid(state.id))
                        abort();
                oci_state_free(&state);
        } else if (!err.message[0] || err.code <= 0) {
                abort(); /* every refusal says why */
        }
        free(buf);
        return 0;
}
