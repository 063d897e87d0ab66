/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_reader.h"

int container_id_valid(const char *id)
{
        size_t len = strlen(id);
        if (len == 0 || len > CONTAINER_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return 0;
        return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") ==
               len;
}

/* The state is streamed: runc puts every annotation in it, and none is needed here. */
enum field { F_STATE, F_ID, F_PID, F_BUNDLE, F_STATUS };

static const struct json_field state_fields[] = {
    [F_STATE] = {-1, NULL, JSON_SHAPE_OBJECT, "the container state"},
    [F_ID] = {F_STATE, "id", JSON_SHAPE_STRING, "state.id"},
    [F_PID] = {F_STATE, "pid", JSON_SHAPE_INTEGER, "state.pid"},
    [F_BUNDLE] = {F_STATE, "bundle", JSON_SHAPE_STRING, "state.bundle"},
    [F_STATUS] = {F_STATE, "status", JSON_SHAPE_STRING, "state.status"},
};

struct state_parser {
        struct oci_state *state;
        bool started, has_pid, pid_overflows;
        long long pid;
};

static int on_value(struct json_reader *r, int field, const char *key, const char *text, size_t len,
                    struct shm_error *err)
{
        struct state_parser *p = r->ctx;
        char **target = field == F_ID       ? &p->state->id
                        : field == F_BUNDLE ? &p->state->bundle
                        : field == F_STATUS ? &p->state->status
                                            : NULL;
        (void)key;
        if (field == F_PID) {
                p->has_pid = true;
                p->pid_overflows = json_integer_value(text, len, &p->pid) < 0;
                return 0;
        }
        if (!target)
                return 0;
        free(*target);
        *target = strndup(text, len);
        return *target ? 0 : shm_error_set(err, ENOMEM, "out of memory");
}

static int on_begin(struct json_reader *r, int field, struct shm_error *err)
{
        struct state_parser *p = r->ctx;
        (void)field;
        (void)err;
        p->started = true;
        return 0;
}

static const struct json_reader_ops state_ops = {.value = on_value, .begin = on_begin};

static int check_state(const struct state_parser *p, struct shm_error *err)
{
        const struct oci_state *state = p->state;
        const char *id = state->id, *bundle = state->bundle;

        if (!id)
                return shm_error_set(err, EINVAL, "the container state has no 'id'");
        if (!container_id_valid(id))
                return shm_error_set(err, EINVAL,
                                     "the container state has an invalid id '%.64s' (expected "
                                     "letters, digits, '_', '.', '+', '-')",
                                     id);
        if (!p->has_pid)
                return shm_error_set(err, EINVAL, "the state of container '%s' has no 'pid'", id);
        if (p->pid_overflows)
                return shm_error_set(err, EINVAL,
                                     "the state of container '%s' has an invalid pid: out of range",
                                     id);
        if (p->pid <= 1 || p->pid > STATE_PID_LIMIT)
                return shm_error_set(
                    err, EINVAL, "the state of container '%s' has an invalid pid %lld", id, p->pid);
        if (!bundle || !*bundle)
                return shm_error_set(err, EINVAL, "the state of container '%s' has no 'bundle'",
                                     id);
        if (bundle[0] != '/')
                return shm_error_set(err, EINVAL,
                                     "the bundle '%s' of container '%s' is not an absolute path",
                                     bundle, id);
        return 0;
}

static int state_done(struct state_parser *p, int r, struct shm_error *err)
{
        if (r == 0 && !p->state->id && !p->has_pid && !p->state->bundle)
                r = shm_error_set(err, EINVAL,
                                  "the container state on stdin has no 'id', 'pid' or 'bundle': "
                                  "run by a runtime as a prestart or createRuntime hook");
        if (r == 0)
                r = check_state(p, err);
        if (r < 0)
                oci_state_free(p->state);
        else
                p->state->pid = (pid_t)p->pid;
        return r;
}

int oci_state_parse(const char *buf, size_t len, struct oci_state *state, struct shm_error *err)
{
        struct state_parser p = {.state = state};

        memset(state, 0, sizeof(*state));
        if (strspn(buf, " \t\r\n") >= len)
                return shm_error_set(err, EINVAL,
                                     "the container state on stdin is empty: run by a runtime "
                                     "as a prestart or createRuntime hook");
        int r = json_read_buffer(state_fields, ARRAY_SIZE(state_fields), &state_ops, &p,
                                 "the container state on stdin", buf, len, err);
        return state_done(&p, r, err);
}

int oci_state_read(int fd, struct oci_state *state, struct shm_error *err)
{
        struct state_parser p = {.state = state};

        memset(state, 0, sizeof(*state));
        int r = json_read_fd(state_fields, ARRAY_SIZE(state_fields), &state_ops, &p,
                             "the container state on stdin", fd, STATE_MAX_BYTES, err);
        if (r == -EINVAL && strstr(err->message, "premature EOF") && !p.started)
                r = shm_error_set(err, EINVAL,
                                  "the container state on stdin is empty: run by a runtime as a "
                                  "prestart or createRuntime hook");
        else if (r == -EINVAL && strstr(err->message, "premature EOF"))
                r = shm_error_set(err, EINVAL,
                                  "the container state on stdin is not valid JSON: it is empty or "
                                  "cut short (the hook is run by a runtime, as a prestart or "
                                  "createRuntime hook)");
        return state_done(&p, r, err);
}

void oci_state_free(struct oci_state *state)
{
        free(state->id);
        free(state->bundle);
        free(state->status);
        memset(state, 0, sizeof(*state));
}
