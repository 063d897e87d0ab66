/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-hook: size a container's /dev/shm by a node policy.
 * Hook mode reads the OCI state on stdin; `check` and `explain` are for admins.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "engine.h"
#include "fileio.h"
#include "imageref.h"
#include "log.h"
#include "mount.h"
#include "policy.h"
#include "record.h"
#include "size.h"
#include "spec.h"
#include "state.h"
#include "status.h"

#ifndef OCI_SHM_HOOK_VERSION
#define OCI_SHM_HOOK_VERSION "0.0.0"
#endif

#define EXIT_USAGE          2
#define MAX_CLI_ANNOTATIONS 256

enum command { CMD_HOOK, CMD_CHECK, CMD_EXPLAIN };

struct options {
        enum command command;
        const char *policy;
        const char *stage;
        bool fail_on_policy_error;
        int log_priority;
        enum shm_mount_api mount_api;
        /* explain */
        const char *image;
        const char *bundle;
        const char *id;
        bool has_memory_limit;
        uint64_t memory_limit;
        struct annotation annotations[MAX_CLI_ANNOTATIONS];
        size_t n_annotations;
};

static void usage(FILE *out)
{
        fprintf(out,
                "Usage:\n"
                "  oci-shm-hook [--policy PATH] [STAGE]      hook mode: OCI state JSON on stdin\n"
                "  oci-shm-hook check [--policy PATH]        validate the policy\n"
                "  oci-shm-hook explain [--policy PATH] --image REF [--annotation KEY=VALUE]...\n"
                "                       [--memory-limit SIZE]\n"
                "  oci-shm-hook explain [--policy PATH] --bundle DIR [--id ID]\n"
                "  oci-shm-hook --version | --help\n"
                "\n"
                "Sizes a container's /dev/shm at start, by the first matching rule of a node\n"
                "policy such as:  image=selenium/*  shm=2g\n"
                "\n"
                "STAGE is the hook stage it was registered under: prestart or createRuntime.\n"
                "\n"
                "Options:\n"
                "  -p, --policy PATH          a policy file, or a directory of *.conf files\n"
                "                             (default: $OCI_SHM_HOOK_POLICY, else\n"
                "                             " POLICY_DEFAULT_DIR "/*.conf then\n"
                "                             " POLICY_DEFAULT_FILE ")\n"
                "      --on-policy-error=fail refuse containers while the policy is invalid\n"
                "                             (default: ignore, containers start unchanged)\n"
                "      --log-level LEVEL      error, warning, info (default) or debug\n"
                "      --mount-api MODE       auto (default), or legacy: the fallback for kernels\n"
                "                             without openat2, the new mount API and statx\n"
                "                             mount IDs (for testing it on new kernels)\n"
                "      --image REF            explain: the image reference\n"
                "      --annotation KEY=VALUE explain: an annotation (repeatable)\n"
                "      --memory-limit SIZE    explain: the container's memory limit\n"
                "      --bundle DIR           explain: read a bundle's config.json instead\n"
                "      --id ID                explain: the container id (default: from DIR)\n"
                "  -h, --help                 show this help\n"
                "  -V, --version              show the version\n"
                "\n"
                "Exit status: 0 done (or nothing to do), 1 refused or invalid, 2 usage error.\n"
                "See oci-shm-hook(8) and oci-shm-policy(5).\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "oci-shm-hook: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'oci-shm-hook --help'.\n");
        va_end(ap);
        return EXIT_USAGE;
}

/* Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
        enum {
                OPT_ON_POLICY_ERROR = 256,
                OPT_LOG_LEVEL,
                OPT_MOUNT_API,
                OPT_IMAGE,
                OPT_ANNOTATION,
                OPT_MEMORY_LIMIT,
                OPT_BUNDLE,
                OPT_ID
        };
        static const struct option long_options[] = {
            {"policy", required_argument, NULL, 'p'},
            {"on-policy-error", required_argument, NULL, OPT_ON_POLICY_ERROR},
            {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
            {"mount-api", required_argument, NULL, OPT_MOUNT_API},
            {"image", required_argument, NULL, OPT_IMAGE},
            {"annotation", required_argument, NULL, OPT_ANNOTATION},
            {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
            {"bundle", required_argument, NULL, OPT_BUNDLE},
            {"id", required_argument, NULL, OPT_ID},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        struct shm_error e = {0};
        int c;

        *o = (struct options){.command = CMD_HOOK, .log_priority = LOG_INFO};
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":p:hV", long_options, NULL)) != -1) {
                switch (c) {
                case 'p':
                        o->policy = optarg;
                        break;
                case OPT_ON_POLICY_ERROR:
                        if (strcmp(optarg, "fail") == 0)
                                o->fail_on_policy_error = true;
                        else if (strcmp(optarg, "ignore") != 0)
                                return usage_error("--on-policy-error takes 'fail' or "
                                                   "'ignore', not '%s'",
                                                   optarg);
                        break;
                case OPT_LOG_LEVEL:
                        o->log_priority = log_level_parse(optarg);
                        if (o->log_priority < 0)
                                return usage_error("unknown log level '%s' (error, warning, "
                                                   "info, debug)",
                                                   optarg);
                        break;
                case OPT_MOUNT_API:
                        /* Forces the fallback path so tests cover it on new kernels. */
                        if (strcmp(optarg, "legacy") == 0)
                                o->mount_api = SHM_MOUNT_API_LEGACY;
                        else if (strcmp(optarg, "auto") == 0)
                                o->mount_api = SHM_MOUNT_API_AUTO;
                        else
                                return usage_error("--mount-api takes 'auto' or 'legacy', not "
                                                   "'%s'",
                                                   optarg);
                        break;
                case OPT_IMAGE:
                        o->image = optarg;
                        break;
                case OPT_ANNOTATION: {
                        char *eq = strchr(optarg, '=');
                        if (!eq || eq == optarg)
                                return usage_error("--annotation takes KEY=VALUE, not '%s'",
                                                   optarg);
                        if (o->n_annotations == MAX_CLI_ANNOTATIONS)
                                return usage_error("more than %d --annotation options",
                                                   MAX_CLI_ANNOTATIONS);
                        *eq = '\0';
                        o->annotations[o->n_annotations++] =
                            (struct annotation){.key = optarg, .value = eq + 1};
                        break;
                }
                case OPT_MEMORY_LIMIT:
                        if (size_parse(optarg, &o->memory_limit, &e) < 0)
                                return usage_error("--memory-limit: %s", e.message);
                        o->has_memory_limit = true;
                        break;
                case OPT_BUNDLE:
                        o->bundle = optarg;
                        break;
                case OPT_ID:
                        o->id = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                case 'V':
                        printf("oci-shm-hook %s\n", OCI_SHM_HOOK_VERSION);
                        return EXIT_SUCCESS;
                case ':':
                        return usage_error("option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        }

        if (optind < argc) {
                const char *word = argv[optind++];
                if (strcmp(word, "check") == 0)
                        o->command = CMD_CHECK;
                else if (strcmp(word, "explain") == 0)
                        o->command = CMD_EXPLAIN;
                else if (strcmp(word, "prestart") == 0 || strcmp(word, "createRuntime") == 0)
                        o->stage = word;
                else if (strcmp(word, "createContainer") == 0 ||
                         strcmp(word, "startContainer") == 0 || strcmp(word, "poststart") == 0 ||
                         strcmp(word, "poststop") == 0)
                        return usage_error("stage '%s' is not supported: register the hook as "
                                           "prestart or createRuntime",
                                           word);
                else
                        return usage_error("unknown command or stage '%s'", word);
        }
        if (optind < argc)
                return usage_error("unexpected argument '%s'", argv[optind]);
        if (o->command != CMD_EXPLAIN &&
            (o->image || o->bundle || o->id || o->n_annotations || o->has_memory_limit))
                return usage_error("--image, --annotation, --memory-limit, --bundle and --id "
                                   "go with 'explain'");
        if (o->command == CMD_EXPLAIN &&
            !o->bundle == !(o->image || o->n_annotations || o->has_memory_limit))
                return usage_error("explain takes either --image/--annotation/--memory-limit "
                                   "or --bundle");
        if (!o->policy)
                o->policy = secure_getenv("OCI_SHM_HOOK_POLICY");
        if (o->policy && !*o->policy)
                o->policy = NULL;
        /*
         * Nothing else in the environment may change what the hook does (libc
         * would read TZ for the syslog time stamps): the runtime passes its own
         * environment on, or the hook entry's env. clearenv() drops the array,
         * not the strings: o->policy stays valid.
         */
        if (o->command == CMD_HOOK)
                clearenv();
        return -1;
}

static void print_problems(const struct policy *p, FILE *out)
{
        for (size_t i = 0; i < p->n_problems; i++) {
                const struct policy_problem *pr = &p->problems[i];
                if (pr->line)
                        fprintf(out, "%s:%u: %s\n", pr->file, pr->line, pr->message);
                else
                        fprintf(out, "%s: %s\n", pr->file, pr->message);
        }
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
        return pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
}

static int run_check(const struct options *o)
{
        struct policy policy;
        struct shm_error err = {0};

        if (policy_load(&policy, o->policy, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return EXIT_FAILURE;
        }
        print_problems(&policy, stdout);
        int status = policy.n_problems ? EXIT_FAILURE : EXIT_SUCCESS;
        if (!policy.n_problems)
                printf("policy OK: %zu rule%s in %zu file%s\n", policy.n_rules,
                       policy.n_rules == 1 ? "" : "s", policy.n_files,
                       policy.n_files == 1 ? "" : "s");
        policy_free(&policy);
        return status;
}

/* The container id of a bundle: Podman's is the parent of "userdata". */
static const char *id_from_bundle(const char *bundle, char *buf, size_t size)
{
        size_t len = strlen(bundle);
        while (len > 1 && bundle[len - 1] == '/')
                len--;
        const char *end = bundle + len, *start = end;
        while (start > bundle && start[-1] != '/')
                start--;
        if ((size_t)(end - start) == 8 && memcmp(start, "userdata", 8) == 0 && start > bundle) {
                end = start - 1;
                start = end;
                while (start > bundle && start[-1] != '/')
                        start--;
        }
        snprintf(buf, size, "%.*s", (int)(end - start), start);
        return buf;
}

static void print_decision(const struct policy_decision *d)
{
        char rule_text[1024];

        if (d->kind == DECISION_NO_MATCH) {
                printf("rule:         none matched\n");
                printf("action:       none: /dev/shm stays as the engine made it\n");
                return;
        }
        policy_rule_format(d->rule, rule_text, sizeof(rule_text));
        printf("rule:         %s:%u: %s\n", d->rule->file, d->rule->line, rule_text);
        if (d->image_form)
                printf("matched on:   %s\n", d->image_form);
        switch (d->kind) {
        case DECISION_KEEP:
                printf("action:       keep: /dev/shm stays as the engine made it\n");
                break;
        case DECISION_HOST:
                printf("action:       host: bind the host's /dev/shm\n");
                break;
        case DECISION_SIZE:
                printf("action:       size: /dev/shm is at least %" PRIu64 " bytes (%s)\n",
                       d->bytes, size_format(d->bytes).s);
                if (d->warning[0])
                        printf("warning:      %s\n", d->warning);
                break;
        default:
                break;
        }
}

static int run_explain(const struct options *o)
{
        struct policy policy;
        struct oci_spec spec = {0};
        struct image_ref image = {0};
        struct policy_decision decision;
        struct shm_error err = {0};
        _cleanup_free_ char *ref = NULL;
        const char *ref_source = "--image";
        char note[512] = "", id_buf[CONTAINER_ID_MAX + 1];
        int status = EXIT_FAILURE;
        struct policy_input in = {.host_memory = host_memory()};

        if (policy_load(&policy, o->policy, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return EXIT_FAILURE;
        }
        if (policy.n_problems) {
                print_problems(&policy, stderr);
                fprintf(stderr, "oci-shm-hook: the policy is invalid; hooks leave /dev/shm "
                                "unchanged until it is fixed\n");
                goto out;
        }

        if (o->bundle) {
                if (oci_spec_load(o->bundle, &spec, &err) < 0) {
                        fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                        goto out;
                }
                const char *id = o->id ? o->id : id_from_bundle(o->bundle, id_buf, sizeof(id_buf));
                engine_image_reference(id, o->bundle, &spec, &ref, &ref_source, note, sizeof(note));
                in.annotations = spec.annotations;
                in.n_annotations = spec.n_annotations;
                in.memory_limit = spec.memory_limit;
                printf("container:    %s\n", id);
        } else {
                ref = o->image ? strdup(o->image) : NULL;
                in.annotations = o->annotations;
                in.n_annotations = o->n_annotations;
                in.memory_limit = o->has_memory_limit ? o->memory_limit : 0;
        }

        if (ref) {
                if (image_ref_parse(ref, &image, &err) < 0) {
                        printf("image:        %s (%s: image= rules cannot match)\n", ref,
                               err.message);
                } else {
                        in.image = &image;
                        printf("image:        %s (from %s)\n", image_ref_full(&image), ref_source);
                        printf("forms:       ");
                        for (size_t i = 0; i < image.n_forms; i++)
                                printf(" %s", image.forms[i]);
                        printf("\n");
                }
        } else {
                printf("image:        none found%s%s (image= rules cannot match)\n",
                       note[0] ? ": " : "", note);
        }
        /* A bundle can carry thousands of annotations: show the first ones. */
        size_t shown = o->bundle && in.n_annotations > 16 ? 16 : in.n_annotations;
        for (size_t i = 0; i < shown; i++)
                printf("annotation:   %s=%s\n", in.annotations[i].key, in.annotations[i].value);
        if (shown < in.n_annotations)
                printf("annotation:   ... and %zu more\n", in.n_annotations - shown);
        if (in.memory_limit)
                printf("memory limit: %" PRIu64 " bytes (%s)\n", in.memory_limit,
                       size_format(in.memory_limit).s);
        else
                printf("memory limit: none (host memory %s)\n", size_format(in.host_memory).s);

        if (policy_decide(&policy, &in, &decision, &err) < 0) {
                printf("error:        %s\n", err.message);
                goto out;
        }
        print_decision(&decision);
        status = EXIT_SUCCESS;
out:
        image_ref_free(&image);
        oci_spec_free(&spec);
        policy_free(&policy);
        return status;
}

/*
 * A value from input for a key=value line, in double quotes with '"' and '\\'
 * escaped (log_msg replaces control characters), so that a value such as
 * 'x result=grown' cannot pass for fields of its own.
 */
static const char *quoted(const char *value, char *buf, size_t size)
{
        size_t n = 0;
        if (size < 3)
                return "\"\"";
        buf[n++] = '"';
        for (const char *s = value; *s && n + 3 < size; s++) {
                if (*s == '"' || *s == '\\')
                        buf[n++] = '\\';
                buf[n++] = *s;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

/*
 * One line per container, in key=value form for grep: what was decided and
 * what came of it. `image` is a normalized reference (or NULL); `error`, when
 * set, is quoted.
 */
static void log_decision(int priority, const char *id, const char *image,
                         const struct policy_decision *d, const struct shm_outcome *outcome,
                         const char *result, const char *error)
{
        char rule[512] = "none", error_text[1100] = "";
        if (d && d->rule)
                snprintf(rule, sizeof(rule), "%s:%u", d->rule->file, d->rule->line);
        if (error) {
                char q[1060];
                snprintf(error_text, sizeof(error_text), " error=%s", quoted(error, q, sizeof(q)));
        }
        log_msg(priority,
                "container=%s image=%s rule=%s action=%s bytes=%" PRIu64 " shm=%s before=%" PRIu64
                " after=%" PRIu64 " result=%s%s",
                id, image ? image : "none", rule,
                d && d->rule ? policy_action_name(d->rule->action) : "none", d ? d->bytes : 0,
                outcome ? shm_kind_name(outcome->kind) : "unseen", outcome ? outcome->before : 0,
                outcome ? outcome->after : 0, result, error_text);
}

/*
 * The image reference, looked up once and only when needed: on a Podman host
 * that reads containers.json, which a policy without image= rules never needs.
 */
struct image_lookup {
        const struct oci_state *state;
        const struct oci_spec *spec;
        bool done;
        char *ref;
        struct image_ref image;
};

static const struct image_ref *find_image(void *ctx)
{
        struct image_lookup *l = ctx;
        struct shm_error err = {0};
        const char *source = NULL;
        char note[512];

        if (!l->done) {
                l->done = true;
                engine_image_reference(l->state->id, l->state->bundle, l->spec, &l->ref, &source,
                                       note, sizeof(note));
                if (!l->ref && note[0])
                        log_msg(LOG_DEBUG, "container=%s: no image reference: %s", l->state->id,
                                note);
                if (l->ref && image_ref_parse(l->ref, &l->image, &err) < 0) {
                        char q[IMAGE_REF_MAX + 16];
                        log_msg(LOG_INFO,
                                "container=%s image=invalid reference=%s source=\"%s\": image= "
                                "rules do not apply",
                                l->state->id, quoted(l->ref, q, sizeof(q)), source);
                }
        }
        return l->image.n_forms ? &l->image : NULL;
}

/* For a log line: the normalized reference (no spaces or quotes), "invalid" or NULL. */
static const char *image_name(struct image_lookup *l)
{
        const struct image_ref *image = find_image(l);
        return image ? image_ref_full(image) : l->ref ? "invalid" : NULL;
}

static int run_hook(const struct options *o)
{
        struct oci_state state = {0};
        struct oci_spec spec = {0};
        struct policy policy = {0};
        struct image_lookup lookup = {.state = &state, .spec = &spec};
        struct policy_decision decision;
        struct shm_outcome outcome;
        struct shm_error err = {0};
        _cleanup_free_ char *input = NULL;
        size_t len;
        int status = EXIT_FAILURE;

        log_init(o->log_priority, true);
        if (isatty(STDIN_FILENO)) {
                log_msg(LOG_ERR, "hook mode reads the OCI state JSON on stdin; see 'oci-shm-hook "
                                 "--help' for check and explain");
                return EXIT_USAGE;
        }

        if (read_fd_bounded(STDIN_FILENO, STATE_MAX_BYTES, "the container state on stdin", &input,
                            &len, &err) < 0 ||
            oci_state_parse(input, len, &state, &err) < 0) {
                log_msg(LOG_ERR, "%s", err.message);
                return EXIT_FAILURE;
        }
        if (oci_spec_load(state.bundle, &spec, &err) < 0) {
                log_msg(LOG_ERR, "container=%s: %s", state.id, err.message);
                goto out;
        }

        if (engine_is_pod_sandbox(&spec)) {
                /* The pod's containers size its shared /dev/shm; the sandbox has no limit. */
                log_decision(LOG_DEBUG, state.id, NULL, NULL, NULL, "skipped-sandbox", NULL);
                status = EXIT_SUCCESS;
                goto out;
        }
        struct policy_input in = {
            .find_image = find_image,
            .find_image_ctx = &lookup,
            .annotations = spec.annotations,
            .n_annotations = spec.n_annotations,
            .memory_limit = spec.memory_limit,
            .host_memory = host_memory(),
        };
        if (policy_load_first_match(&policy, o->policy, &in, &err) < 0) {
                log_msg(LOG_ERR, "container=%s: %s", state.id, err.message);
                goto out;
        }
        if (policy.n_problems) {
                /* At every container start: the first few; `check` lists them all. */
                size_t shown = policy.n_problems < 5 ? policy.n_problems : 5;
                for (size_t i = 0; i < shown; i++)
                        log_msg(o->fail_on_policy_error ? LOG_ERR : LOG_WARNING, "policy %s:%u: %s",
                                policy.problems[i].file, policy.problems[i].line,
                                policy.problems[i].message);
                if (shown < policy.n_problems)
                        log_msg(o->fail_on_policy_error ? LOG_ERR : LOG_WARNING,
                                "policy: %zu more problems; run 'oci-shm-hook check'",
                                policy.n_problems - shown);
                log_msg(o->fail_on_policy_error ? LOG_ERR : LOG_WARNING,
                        "container=%s: the policy is invalid; %s", state.id,
                        o->fail_on_policy_error ? "refusing the container (--on-policy-error=fail)"
                                                : "/dev/shm stays as the engine made it");
                status = o->fail_on_policy_error ? EXIT_FAILURE : EXIT_SUCCESS;
                goto out;
        }

        if (policy_decide(&policy, &in, &decision, &err) < 0) {
                log_decision(LOG_ERR, state.id, image_name(&lookup), &decision, NULL, "failed",
                             err.message);
                goto out;
        }
        if (decision.kind == DECISION_NO_MATCH) {
                /* Not worth an engine lookup unless the line is going to be logged. */
                log_decision(LOG_DEBUG, state.id,
                             o->log_priority >= LOG_DEBUG ? image_name(&lookup) : NULL, &decision,
                             NULL, "no-match", NULL);
                status = EXIT_SUCCESS;
                goto out;
        }
        if (decision.warning[0])
                log_msg(LOG_WARNING, "container=%s: rule %s:%u: %s", state.id, decision.rule->file,
                        decision.rule->line, decision.warning);
        if (decision.kind == DECISION_KEEP) {
                log_decision(LOG_INFO, state.id, image_name(&lookup), &decision, NULL, "exempt",
                             NULL);
                status = EXIT_SUCCESS;
                goto out;
        }

        struct shm_apply_args args = {
            .pid = state.pid,
            .rootfs = spec.root_path,
            .entry = &spec.shm,
            .host = decision.kind == DECISION_HOST,
            .bytes = decision.bytes,
            .api = o->mount_api,
        };
        if (shm_apply(&args, &outcome, &err) < 0) {
                log_decision(LOG_ERR, state.id, image_name(&lookup), &decision, NULL, "failed",
                             err.message);
                goto out;
        }
        log_decision(LOG_INFO, state.id, image_name(&lookup), &decision, &outcome, outcome.result,
                     NULL);
        record_write(&(struct decision_record){
            .id = state.id,
            .pid = state.pid,
            .engine = "unknown",
            .image = image_name(&lookup),
            .rule_file = decision.rule->file,
            .rule_line = decision.rule->line,
            .kind = shm_kind_name(outcome.kind),
            .target = decision.bytes,
            .after = outcome.after,
            .result = outcome.result,
        });
        status = EXIT_SUCCESS;
out:
        image_ref_free(&lookup.image);
        free(lookup.ref);
        policy_free(&policy);
        oci_spec_free(&spec);
        oci_state_free(&state);
        return status;
}

int main(int argc, char **argv)
{
        struct options o;
        if (argc > 1 && strcmp(argv[1], "status") == 0)
                return status_main(argc - 1, argv + 1);
        int r = parse_options(argc, argv, &o);
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
