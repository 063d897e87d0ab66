/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"

int container_id_valid(const char *id)
{
        size_t len = strlen(id);
        if (len == 0 || len > CONTAINER_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return 0;
        return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") ==
               len;
}

int oci_state_parse(const char *buf, size_t len, struct oci_state *state, struct shm_error *err)
{
        _cleanup_yajl_tree_ yajl_val tree = NULL;
        const char *id, *bundle, *status;
        int64_t pid;
        bool has_pid;
        int r;

        memset(state, 0, sizeof(*state));
        if (strspn(buf, " \t\r\n") == len)
                return shm_error_set(err, EINVAL,
                                     "the container state on stdin is empty: run by a runtime "
                                     "as a prestart or createRuntime hook");
        r = json_parse_object(buf, len, "the container state on stdin", &tree, err);
        if (r < 0)
                return r;
        r = json_check_unique_keys(tree, "the container state", err);
        if (r < 0)
                return r;
        if ((r = json_get_string(tree, "id", "state", &id, err)) < 0 ||
            (r = json_get_string(tree, "bundle", "state", &bundle, err)) < 0 ||
            (r = json_get_string(tree, "status", "state", &status, err)) < 0 ||
            (r = json_get_int64(tree, "pid", "state", &pid, &has_pid, err)) < 0)
                return r;

        if (!id)
                return shm_error_set(err, EINVAL, "the container state has no 'id'");
        if (!container_id_valid(id))
                return shm_error_set(err, EINVAL,
                                     "the container state has an invalid id '%.64s' (expected "
                                     "letters, digits, '_', '.', '+', '-')",
                                     id);
        if (!has_pid)
                return shm_error_set(err, EINVAL, "the state of container '%s' has no 'pid'", id);
        if (pid <= 1 || pid > STATE_PID_LIMIT)
                return shm_error_set(err, EINVAL,
                                     "the state of container '%s' has an invalid pid %lld", id,
                                     (long long)pid);
        if (!bundle || !*bundle)
                return shm_error_set(err, EINVAL, "the state of container '%s' has no 'bundle'",
                                     id);
        if (bundle[0] != '/')
                return shm_error_set(err, EINVAL,
                                     "the bundle '%s' of container '%s' is not an absolute path",
                                     bundle, id);

        state->id = strdup(id);
        state->bundle = strdup(bundle);
        state->status = status ? strdup(status) : NULL;
        state->pid = (pid_t)pid;
        if (!state->id || !state->bundle || (status && !state->status)) {
                oci_state_free(state);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        return 0;
}

void oci_state_free(struct oci_state *state)
{
        free(state->id);
        free(state->bundle);
        free(state->status);
        memset(state, 0, sizeof(*state));
}
