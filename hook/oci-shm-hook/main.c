/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-hook: size a container's /dev/shm by a node policy.
 * Hook mode reads the OCI state on stdin, one way through: policy, state,
 * config.json, engine identity, decision, mount, one log line. `check`,
 * `explain` (explain.c) and `status` (status.c) are for admins.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "engine.h"
#include "explain.h"
#include "log.h"
#include "lookup.h"
#include "mount.h"
#include "options.h"
#include "policy.h"
#include "record.h"
#include "size.h"
#include "spec.h"
#include "state.h"
#include "status.h"

/* The annotations to keep from config.json: those rules read, and the engines' own. */
static int wanted_keys(const struct policy *p, struct spec_keys *keys, struct shm_error *err)
{
        const char *const *rule_keys;
        size_t n_rule_keys = policy_annotation_keys(p, &rule_keys);
        const char **list = malloc((engine_keys.n + n_rule_keys) * sizeof(*list));

        if (!list)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(list, engine_keys.keys, engine_keys.n * sizeof(*list));
        if (n_rule_keys)
                memcpy(list + engine_keys.n, rule_keys, n_rule_keys * sizeof(*list));
        *keys = (struct spec_keys){.keys = list, .n = engine_keys.n + n_rule_keys};
        return 0;
}

/* What one container start decided and did, for its one log line. */
struct decision_line {
        const char *id;
        const struct userns *userns;
        const struct engine *engine;
        struct image_lookup *image; /* NULL: not looked up */
        const struct policy_decision *decision;
        const struct shm_outcome *outcome;
        const char *result;
        const char *error;
};

/*
 * One line per container, in key=value form for grep: what was decided and
 * what came of it. Every value from input is either a fixed word, a
 * normalized image reference (no spaces or quotes) or quoted.
 */
static void log_decision(int priority, const struct decision_line *l)
{
        const struct policy_decision *d = l->decision;
        char rule[512] = "none", error_text[1100] = "", q[1060];
        const char *image = l->image ? image_lookup_name(l->image) : NULL;
        struct userns_text ns = l->userns ? userns_format(l->userns) : (struct userns_text){""};

        if (d && d->rule)
                snprintf(rule, sizeof(rule), "%s:%u", d->rule->file, d->rule->line);
        if (l->error)
                snprintf(error_text, sizeof(error_text), " error=%s",
                         log_quoted(l->error, q, sizeof(q)));
        log_msg(priority,
                "container=%s image=%s rule=%s action=%s bytes=%" PRIu64 " shm=%s before=%" PRIu64
                " after=%" PRIu64 " result=%s%s engine=%s image_source=%s%s%s",
                l->id, image ? image : "none", rule,
                d && d->rule ? policy_action_name(d->rule->action) : "none", d ? d->bytes : 0,
                l->outcome ? shm_kind_name(l->outcome->kind) : "unseen",
                l->outcome ? l->outcome->before : 0, l->outcome ? l->outcome->after : 0, l->result,
                error_text, engine_name(l->engine ? l->engine->kind : ENGINE_NONE),
                image && l->image->source ? l->image->source : "none", ns.s[0] ? " " : "", ns.s);
}

/* The image could not be had where an image= rule needs it: say why, once. */
static void log_image_problem(const char *id, struct image_lookup *l)
{
        if (!l->ref && l->note[0])
                log_msg(l->warn ? LOG_WARNING : LOG_DEBUG,
                        "container=%s: no image reference (%s): image= rules do not apply", id,
                        l->note);
}

/* Read and drop the rest of stdin, so the runtime's write of the state never fails. */
static void drain_stdin(void)
{
        char buf[65536];
        size_t total = 0;
        ssize_t n;
        while (total < STATE_MAX_BYTES &&
               ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)))
                total += n > 0 ? (size_t)n : 0;
}

/* Problems in the policy: logged, and the container starts unchanged unless told otherwise. */
static int policy_invalid(const struct options *o, const struct policy *policy, const char *id)
{
        int priority = o->fail_on_policy_error ? LOG_ERR : LOG_WARNING;
        /* At every container start: the first few; `check` lists them all. */
        size_t shown = policy->n_problems < 5 ? policy->n_problems : 5;

        for (size_t i = 0; i < shown; i++)
                log_msg(priority, "policy %s:%u: %s", policy->problems[i].file,
                        policy->problems[i].line, policy->problems[i].message);
        if (shown < policy->n_problems)
                log_msg(priority, "policy: %zu more problems; run 'oci-shm-hook check'",
                        policy->n_problems - shown);
        log_msg(priority, "container=%s: the policy is invalid; %s", id ? id : "unknown",
                o->fail_on_policy_error ? "refusing the container (--on-policy-error=fail)"
                                        : "/dev/shm stays as the engine made it");
        return o->fail_on_policy_error ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Everything a container start holds, released in one place. */
struct hook_run {
        struct policy policy;
        struct oci_state state;
        struct oci_spec spec;
        struct spec_keys keys;
        struct engine engine;
        struct image_lookup lookup;
};

static void hook_run_free(struct hook_run *h)
{
        image_lookup_free(&h->lookup);
        engine_free(&h->engine);
        oci_spec_free(&h->spec);
        free((void *)h->keys.keys);
        oci_state_free(&h->state);
        policy_free(&h->policy);
}

/* Act on a size or host decision, and say what came of it. */
static int apply_decision(const struct options *o, struct hook_run *h,
                          const struct policy_decision *decision, struct decision_line *line)
{
        struct shm_outcome outcome;
        struct shm_error err = {0}, record_err = {0};
        struct shm_apply_args args = {
            .pid = h->state.pid,
            .spec = &h->spec,
            .engine = &h->engine,
            .host = decision->kind == DECISION_HOST,
            .bytes = decision->bytes,
            .api = o->mount_api,
        };

        /* Before joining the container: the engine's files and /run are the host's. */
        image_lookup_name(&h->lookup);
        _cleanup_close_ int record_dir = record_dir_open(RECORD_DIR, &record_err);
        if (shm_apply(&args, &outcome, &err) < 0) {
                line->result = "failed";
                line->error = err.message;
                log_decision(LOG_ERR, line);
                return EXIT_FAILURE;
        }
        line->outcome = &outcome;
        line->result = outcome.result;
        log_decision(LOG_INFO, line);
        /* For `status`; it never fails or delays the container. */
        if (record_dir < 0)
                log_msg(LOG_DEBUG, "container=%s: no decision record: %s", h->state.id,
                        record_err.message);
        record_write(
            record_dir,
            &(struct decision_record){
                .id = h->state.id,
                .pid = h->state.pid,
                .start_time = outcome.start_time,
                /* status names a bundle no engine claims (runc, crun) from their state dirs */
                .engine = h->engine.kind == ENGINE_NONE ? "unknown" : engine_name(h->engine.kind),
                .image = image_lookup_name(&h->lookup),
                .rule_file = decision->rule->file,
                .rule_line = decision->rule->line,
                .kind = shm_kind_name(outcome.kind),
                .target = decision->bytes,
                .after = outcome.after,
                .result = outcome.result,
            });
        return EXIT_SUCCESS;
}

/* Decide and act for the container; 0 or an exit status of 1, logged. */
static int decide_and_apply(const struct options *o, struct hook_run *h)
{
        struct policy_decision decision;
        struct shm_error err = {0};
        struct decision_line line = {.id = h->state.id,
                                     .userns = &h->policy.userns,
                                     .engine = &h->engine,
                                     .image = &h->lookup,
                                     .decision = &decision};
        struct policy_input in = {
            .annotations = h->spec.annotations,
            .n_annotations = h->spec.n_annotations,
            .k8s_namespace = h->engine.k8s_namespace,
            .k8s_pod = h->engine.k8s_pod,
            .k8s_container = h->engine.k8s_container,
            /* The config's limit, or a lower one above it (a pod's), as the kernel has it. */
            .memory_limit =
                size_lower_limit(h->spec.memory_limit, cgroup_memory_limit(h->state.pid)),
            .host_memory = cgroup_host_memory(),
        };

        if (policy_needs_image(&h->policy) && !(in.image = image_lookup_find(&h->lookup)))
                log_image_problem(h->state.id, &h->lookup);
        if (policy_decide(&h->policy, &in, &decision, &err) < 0) {
                line.result = "failed";
                line.error = err.message;
                log_decision(LOG_ERR, &line);
                return EXIT_FAILURE;
        }
        if (decision.kind == DECISION_NO_MATCH) {
                /* Not worth an engine lookup unless the line is going to be logged. */
                line.image = o->log_priority >= LOG_DEBUG ? &h->lookup : NULL;
                line.result = "no-match";
                log_decision(LOG_DEBUG, &line);
                return EXIT_SUCCESS;
        }
        if (decision.warning[0])
                log_msg(LOG_WARNING, "container=%s: rule %s:%u: %s", h->state.id,
                        decision.rule->file, decision.rule->line, decision.warning);
        if (decision.kind == DECISION_KEEP) {
                line.result = "exempt";
                log_decision(LOG_INFO, &line);
                return EXIT_SUCCESS;
        }
        return apply_decision(o, h, &decision, &line);
}

static int run_hook(const struct options *o)
{
        struct hook_run h = {0};
        struct shm_error err = {0};
        int status = EXIT_FAILURE;

        log_init(o->log_priority, true);
        if (isatty(STDIN_FILENO)) {
                log_msg(LOG_ERR, "hook mode reads the OCI state JSON on stdin; see 'oci-shm-hook "
                                 "--help' for check and explain");
                return EXIT_USAGE;
        }
        /* The policy first: with no rule, nothing about the container matters. */
        if (policy_load(&h.policy, o->policy, &err) < 0) {
                log_msg(LOG_ERR, "%.255s", err.message);
                goto out;
        }
        if (!h.policy.n_problems && !h.policy.n_rules) {
                drain_stdin();
                status = EXIT_SUCCESS;
                goto out;
        }
        if (oci_state_read(STDIN_FILENO, &h.state, &err) < 0) {
                log_msg(LOG_ERR, "%.255s", err.message);
                goto out;
        }
        if (h.policy.n_problems) {
                status = policy_invalid(o, &h.policy, h.state.id);
                goto out;
        }
        if (wanted_keys(&h.policy, &h.keys, &err) < 0 ||
            oci_spec_load(h.state.bundle, &h.keys, &h.spec, &err) < 0 ||
            engine_identify(h.state.id, h.state.bundle, &h.spec, &h.engine, &err) < 0) {
                log_msg(LOG_ERR, "container=%s: %s", h.state.id, err.message);
                goto out;
        }
        h.lookup = (struct image_lookup){
            .id = h.state.id, .engine = &h.engine, .spec = &h.spec, .log = true};
        if (h.engine.sandbox) {
                /* The pod's containers size its shared /dev/shm; the sandbox has no limit. */
                struct decision_line line = {.id = h.state.id,
                                             .userns = &h.policy.userns,
                                             .engine = &h.engine,
                                             .result = "skipped-sandbox"};
                log_decision(LOG_DEBUG, &line);
                status = EXIT_SUCCESS;
                goto out;
        }
        status = decide_and_apply(o, &h);
out:
        hook_run_free(&h);
        return status;
}

int main(int argc, char **argv)
{
        struct options o;
        if (argc > 1 && strcmp(argv[1], "status") == 0)
                return status_main(argc - 1, argv + 1);
        int r = options_parse(argc, argv, &o);
        if (r >= 0)
                return r;
        switch (o.command) {
        case CMD_CHECK:
                return run_check(&o);
        case CMD_EXPLAIN:
                return run_explain(&o);
        case CMD_HOOK:
        default:
                return run_hook(&o);
        }
}
