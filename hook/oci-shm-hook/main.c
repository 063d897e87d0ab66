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

#include "cgroup.h"
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
        const char *k8s_namespace, *k8s_pod, *k8s_container;
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
                "                       [--memory-limit SIZE] [--namespace NS] [--pod POD]\n"
                "                       [--container NAME]\n"
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
                "      --namespace NS         explain: the Kubernetes namespace of the pod\n"
                "      --pod POD              explain: the Kubernetes pod name\n"
                "      --container NAME       explain: the Kubernetes container name\n"
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
                OPT_ID,
                OPT_NAMESPACE,
                OPT_POD,
                OPT_CONTAINER
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
            {"namespace", required_argument, NULL, OPT_NAMESPACE},
            {"pod", required_argument, NULL, OPT_POD},
            {"container", required_argument, NULL, OPT_CONTAINER},
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
                case OPT_NAMESPACE:
                        o->k8s_namespace = optarg;
                        break;
                case OPT_POD:
                        o->k8s_pod = optarg;
                        break;
                case OPT_CONTAINER:
                        o->k8s_container = optarg;
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
        bool described = o->image || o->n_annotations || o->has_memory_limit || o->k8s_namespace ||
                         o->k8s_pod || o->k8s_container;
        if (o->command != CMD_EXPLAIN && (described || o->bundle || o->id))
                return usage_error("--image, --annotation, --memory-limit, --namespace, --pod, "
                                   "--container, --bundle and --id go with 'explain'");
        if (o->command == CMD_EXPLAIN && !o->bundle == !described)
                return usage_error("explain takes either --image/--annotation/--memory-limit/"
                                   "--namespace/--pod/--container or --bundle");
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

/*
 * The image reference, looked up once and only when needed: on a Podman host
 * that reads containers.json, which a policy without image= rules never needs
 * to decide (a decision line still names the image).
 */
struct image_lookup {
        const char *id;
        const struct engine *engine;
        const struct oci_spec *spec;
        bool log; /* say so when the reference is invalid (hook mode) */
        bool done, warn;
        char *ref;
        const char *source;
        struct image_ref image;
        char note[512];
        char parse_error[256];
};

static const struct image_ref *find_image(struct image_lookup *l)
{
        struct shm_error err = {0};

        if (!l->done) {
                l->done = true;
                engine_find_image(l->engine, l->id, l->spec, &l->ref, &l->source, &l->warn, l->note,
                                  sizeof(l->note));
                if (l->ref && image_ref_parse(l->ref, &l->image, &err) < 0) {
                        char q[IMAGE_REF_MAX + 16];
                        snprintf(l->parse_error, sizeof(l->parse_error), "%.255s", err.message);
                        if (l->log)
                                log_msg(LOG_INFO,
                                        "container=%s image=invalid reference=%s source=%s: "
                                        "image= rules do not apply (%s)",
                                        l->id, quoted(l->ref, q, sizeof(q)), l->source,
                                        l->parse_error);
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

static void image_lookup_free(struct image_lookup *l)
{
        image_ref_free(&l->image);
        free(l->ref);
}

static void print_annotations(const struct oci_spec *spec)
{
        /* A bundle can carry thousands of annotations: show the first ones. */
        size_t shown = spec->n_annotations > 16 ? 16 : spec->n_annotations;
        for (size_t i = 0; i < shown; i++)
                printf("annotation:   %s=%s\n", spec->annotations[i].key,
                       spec->annotations[i].value);
        if (shown < spec->n_annotations + spec->n_annotations_skipped)
                printf("annotation:   ... and %zu more\n",
                       spec->n_annotations + spec->n_annotations_skipped - shown);
}

/* explain --bundle: the engine and image as the hook would find them. */
static int explain_bundle(const struct options *o, struct oci_spec *spec, struct engine *engine,
                          struct image_lookup *lookup, struct policy_input *in, char *id_buf,
                          size_t id_size)
{
        struct shm_error err = {0};
        const char *id = o->id ? o->id : id_from_bundle(o->bundle, id_buf, id_size);

        if (oci_spec_load(o->bundle, NULL, spec, &err) < 0 ||
            engine_identify(id, o->bundle, spec, engine, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return -1;
        }
        *lookup = (struct image_lookup){.id = id, .engine = engine, .spec = spec};
        printf("container:    %s\n", id);
        printf("engine:       %s%s\n", engine_name(engine->kind),
               engine->kind == ENGINE_NONE ? " (no engine claims the bundle: annotations are "
                                             "believed)"
                                           : " (from the bundle's location)");
        if (engine->sandbox)
                printf("sandbox:      yes: the hook leaves pod sandboxes alone\n");
        in->annotations = spec->annotations;
        in->n_annotations = spec->n_annotations;
        in->memory_limit = spec->memory_limit;
        in->k8s_namespace = engine->k8s_namespace;
        in->k8s_pod = engine->k8s_pod;
        in->k8s_container = engine->k8s_container;
        in->image = find_image(lookup);
        if (in->image)
                printf("image:        %s (from %s)\n", image_ref_full(in->image), lookup->source);
        else if (lookup->ref)
                printf("image:        %s (from %s; %s: image= rules cannot match)\n", lookup->ref,
                       lookup->source, lookup->parse_error);
        else
                printf("image:        none found: %s (image= rules cannot match)\n", lookup->note);
        print_annotations(spec);
        return 0;
}

static int run_explain(const struct options *o)
{
        struct policy policy;
        struct oci_spec spec = {0};
        struct engine engine = {0};
        struct image_lookup lookup = {0};
        struct image_ref image = {0};
        struct policy_decision decision;
        struct shm_error err = {0};
        char id_buf[CONTAINER_ID_MAX + 1];
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
                if (explain_bundle(o, &spec, &engine, &lookup, &in, id_buf, sizeof(id_buf)) < 0)
                        goto out;
        } else {
                if (o->image && image_ref_parse(o->image, &image, &err) < 0)
                        printf("image:        %s (%s: image= rules cannot match)\n", o->image,
                               err.message);
                else if (o->image)
                        in.image = &image;
                if (in.image)
                        printf("image:        %s (from --image)\n", image_ref_full(in.image));
                in.annotations = o->annotations;
                in.n_annotations = o->n_annotations;
                in.memory_limit = o->has_memory_limit ? o->memory_limit : 0;
                in.k8s_namespace = o->k8s_namespace;
                in.k8s_pod = o->k8s_pod;
                in.k8s_container = o->k8s_container;
                for (size_t i = 0; i < in.n_annotations; i++)
                        printf("annotation:   %s=%s\n", in.annotations[i].key,
                               in.annotations[i].value);
        }
        if (in.image) {
                printf("forms:       ");
                for (size_t i = 0; i < in.image->n_forms; i++)
                        printf(" %s", in.image->forms[i]);
                printf("\n");
        }
        if (in.k8s_namespace || in.k8s_pod || in.k8s_container)
                printf("kubernetes:   namespace=%s pod=%s container=%s\n",
                       in.k8s_namespace ? in.k8s_namespace : "(none)",
                       in.k8s_pod ? in.k8s_pod : "(none)",
                       in.k8s_container ? in.k8s_container : "(none)");
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
        image_lookup_free(&lookup);
        engine_free(&engine);
        oci_spec_free(&spec);
        policy_free(&policy);
        return status;
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
        const char *image = l->image ? image_name(l->image) : NULL;
        struct userns_text ns = l->userns ? userns_format(l->userns) : (struct userns_text){""};

        if (d && d->rule)
                snprintf(rule, sizeof(rule), "%s:%u", d->rule->file, d->rule->line);
        if (l->error)
                snprintf(error_text, sizeof(error_text), " error=%s",
                         quoted(l->error, q, sizeof(q)));
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

/* Decide and act for the container; 0 or an exit status of 1, logged. */
static int decide_and_apply(const struct options *o, struct hook_run *h)
{
        struct policy_decision decision;
        struct shm_outcome outcome;
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
            .host_memory = host_memory(),
        };

        if (policy_needs_image(&h->policy) && !(in.image = find_image(&h->lookup)))
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
        /* Looked up before joining the container: the engine's files are the host's. */
        image_name(&h->lookup);
        struct shm_apply_args args = {
            .pid = h->state.pid,
            .spec = &h->spec,
            .engine = &h->engine,
            .host = decision.kind == DECISION_HOST,
            .bytes = decision.bytes,
            .api = o->mount_api,
        };
        if (shm_apply(&args, &outcome, &err) < 0) {
                line.result = "failed";
                line.error = err.message;
                log_decision(LOG_ERR, &line);
                return EXIT_FAILURE;
        }
        line.outcome = &outcome;
        line.result = outcome.result;
        log_decision(LOG_INFO, &line);
        /* For `status`; it never fails or delays the container. */
        record_write(&(struct decision_record){
            .id = h->state.id,
            .pid = h->state.pid,
            /* status names a bundle no engine claims (runc, crun) from their state dirs */
            .engine = h->engine.kind == ENGINE_NONE ? "unknown" : engine_name(h->engine.kind),
            .image = image_name(&h->lookup),
            .rule_file = decision.rule->file,
            .rule_line = decision.rule->line,
            .kind = shm_kind_name(outcome.kind),
            .target = decision.bytes,
            .after = outcome.after,
            .result = outcome.result,
        });
        return EXIT_SUCCESS;
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
