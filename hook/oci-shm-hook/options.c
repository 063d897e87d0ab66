/* SPDX-License-Identifier: Apache-2.0 */
#include "options.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "size.h"
#include "version.h"

static void usage(FILE *out)
{
        fprintf(
            out,
            "Usage:\n"
            "  oci-shm-hook [--policy PATH] [STAGE]      hook mode: OCI state JSON on stdin\n"
            "  oci-shm-hook check [--policy PATH]        validate the policy\n"
            "  oci-shm-hook explain [--policy PATH] [--image REF] [--annotation KEY=VALUE]...\n"
            "                       [--memory-limit SIZE] [--namespace NS] [--pod POD]\n"
            "                       [--container NAME]      (at least one of them)\n"
            "  oci-shm-hook explain [--policy PATH] --bundle DIR [--id ID]\n"
            "  oci-shm-hook status [--all] [--json | --format=prometheus] [--output FILE] [ID]\n"
            "                                            /dev/shm and SysV shared memory of\n"
            "                                            every container (see 'status --help')\n"
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

/* After the options: the command or stage word, then what goes with what. */
static int options_words(int argc, char **argv, struct options *o)
{
        if (optind < argc) {
                const char *word = argv[optind++];
                if (strcmp(word, "check") == 0)
                        o->command = CMD_CHECK;
                else if (strcmp(word, "explain") == 0)
                        o->command = CMD_EXPLAIN;
                else if (strcmp(word, "prestart") == 0 || strcmp(word, "createRuntime") == 0) {
                        /* the stages it is made for: nothing differs between them */
                } else if (strcmp(word, "createContainer") == 0 ||
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
         * Nothing else in the environment may change what the hook does: the
         * runtime passes its own environment on, or the hook entry's env.
         * clearenv() drops the array, not the strings: o->policy stays valid.
         */
        if (o->command == CMD_HOOK)
                clearenv();
        return -1;
}

/* explain's --annotation options: out of every container start's stack, which
 * zeroing 4 KiB of them would only deepen; the command line is parsed once. */
static struct annotation cli_annotations[MAX_CLI_ANNOTATIONS];

int options_parse(int argc, char **argv, struct options *o)
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

        *o = (struct options){
            .command = CMD_HOOK, .log_priority = LOG_INFO, .annotations = cli_annotations};
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
                        cli_annotations[o->n_annotations++] =
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

        return options_words(argc, argv, o);
}
