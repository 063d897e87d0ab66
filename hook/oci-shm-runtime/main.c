/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-runtime: an OCI runtime shim for engines that cannot register hooks
 * (Docker; containerd through BinaryName). On `create` it adds oci-shm-hook as
 * a prestart hook to the bundle's config.json, then execs the real runtime
 * with the same arguments. Every other command goes straight to the runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "bundle.h"
#include "cleanup.h"
#include "fileio.h"
#include "runtime_args.h"
#include "version.h"

#ifndef OCI_SHM_HOOK_INSTALLED_PATH
#define OCI_SHM_HOOK_INSTALLED_PATH "/usr/libexec/oci/hooks.d/oci-shm-hook"
#endif

#define PROGRAM         "oci-shm-runtime"
#define DEFAULT_RUNTIME "runc"
#define DEFAULT_PATH    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define HOOK_STAGE      "prestart"
#define HOOK_TIMEOUT    10

/* The runtime's --log file and --log-format: engines read errors from there. */
static const char *runtime_log;
static bool runtime_log_json;

/*
 * Append an error line to the runtime's log file the way runc writes it:
 * containerd's runc shim (Docker, Kubernetes) shows the last error logged
 * there, not the runtime's stderr.
 */
static void log_error(const char *message)
{
        char stamp[64] = "";
        struct timespec ts;
        struct tm tm;

        if (!runtime_log || !*runtime_log)
                return;
        if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm))
                strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        _cleanup_close_ int fd = open(
            runtime_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return;
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return;
        const unsigned char *text;
        size_t len;
        if (runtime_log_json) {
                yajl_gen_map_open(g);
                yajl_gen_string(g, (const unsigned char *)"level", 5);
                yajl_gen_string(g, (const unsigned char *)"error", 5);
                yajl_gen_string(g, (const unsigned char *)"msg", 3);
                yajl_gen_string(g, (const unsigned char *)message, strlen(message));
                yajl_gen_string(g, (const unsigned char *)"time", 4);
                yajl_gen_string(g, (const unsigned char *)stamp, strlen(stamp));
                yajl_gen_map_close(g);
        } else {
                yajl_gen_string(g, (const unsigned char *)message, strlen(message));
        }
        if (yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok) {
                if (runtime_log_json)
                        dprintf(fd, "%.*s\n", (int)len, (const char *)text);
                else
                        dprintf(fd, "time=\"%s\" level=error msg=%.*s\n", stamp, (int)len,
                                (const char *)text);
        }
        yajl_gen_free(g);
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One line on stderr and in the runtime's log (the engine shows it), exit
 * status 1. Only main() calls it: the helpers fill a struct shm_error.
 */
static int die(const char *fmt, ...)
{
        char message[2048];
        int n = snprintf(message, sizeof(message), PROGRAM ": error: ");
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message + n, sizeof(message) - (size_t)n, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s\n", message);
        log_error(message);
        return EXIT_FAILURE;
}

static void usage(void)
{
        printf("Usage: " PROGRAM " [RUNTIME GLOBAL OPTIONS] COMMAND [ARGS...]\n"
               "\n"
               "An OCI runtime shim for Docker (daemon.json \"runtimes\") and containerd\n"
               "(runc options BinaryName). On 'create' it adds oci-shm-hook as a prestart hook to\n"
               "the bundle's config.json (from --bundle/-b, else the current directory), once,\n"
               "inserting it into the file's text, then runs the real runtime with the same\n"
               "arguments. Every other command is passed to the real runtime untouched.\n"
               "The arguments are read as runc and as crun read them; a list that neither\n"
               "can read, or that they would read as different bundles, is refused.\n"
               "\n"
               "Environment:\n"
               "  OCI_SHM_RUNTIME      the real runtime: a path, or a name looked up in PATH\n"
               "                       (default: " DEFAULT_RUNTIME " in PATH)\n"
               "  OCI_SHM_HOOK_POLICY  an absolute policy path, passed to the hook as --policy\n"
               "                       (default: the hook's own default policy)\n"
               "\n"
               "The hook is oci-shm-hook beside this program, else\n"
               "  " OCI_SHM_HOOK_INSTALLED_PATH "\n"
               "\n"
               "  -h, --help       show this help (before any command)\n"
               "  -v, --version    show this program's and the real runtime's versions\n"
               "\n"
               "See oci-shm-runtime(8) and oci-shm-hook(8).\n");
}

static bool is_executable_file(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The real runtime: OCI_SHM_RUNTIME or "runc", a name searched in PATH, never this shim. */
static int find_runtime(char *out, size_t size, struct shm_error *err)
{
        const char *name = secure_getenv("OCI_SHM_RUNTIME");
        const char *from = "OCI_SHM_RUNTIME";

        if (!name || !*name) {
                name = DEFAULT_RUNTIME;
                from = "the default runtime";
        }
        if (strchr(name, '/')) {
                if (!is_executable_file(name))
                        return shm_error_set(err, ENOENT, "%s '%s' is not an executable file", from,
                                             name);
                if (same_file(name, "/proc/self/exe"))
                        return shm_error_set(err, ELOOP,
                                             "%s '%s' is " PROGRAM
                                             " itself; point it at the real runtime",
                                             from, name);
                if ((size_t)snprintf(out, size, "%s", name) >= size)
                        return shm_error_set(err, ENAMETOOLONG, "%s '%s' is too long", from, name);
                return 0;
        }

        const char *path = getenv("PATH");
        if (!path || !*path)
                path = DEFAULT_PATH;
        for (const char *p = path;;) {
                size_t len = strcspn(p, ":");
                /* An empty PATH entry means the current directory: never for a runtime. */
                if (len > 0 && (size_t)snprintf(out, size, "%.*s/%s", (int)len, p, name) < size &&
                    is_executable_file(out) && !same_file(out, "/proc/self/exe"))
                        return 0;
                if (p[len] == '\0')
                        break;
                p += len + 1;
        }
        return shm_error_set(err, ENOENT,
                             "%s '%s' is not in PATH; set OCI_SHM_RUNTIME to the real runtime",
                             from, name);
}

/* oci-shm-hook beside this program, else the installed one. */
static int find_hook(char *out, size_t size, struct shm_error *err)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        if ((size_t)snprintf(out, size, "%s/oci-shm-hook", self) < size &&
                            is_executable_file(out))
                                return 0;
                }
        }
        if (is_executable_file(OCI_SHM_HOOK_INSTALLED_PATH)) {
                snprintf(out, size, "%s", OCI_SHM_HOOK_INSTALLED_PATH);
                return 0;
        }
        return shm_error_set(err, ENOENT, "oci-shm-hook is neither beside " PROGRAM " nor at '%s'",
                             OCI_SHM_HOOK_INSTALLED_PATH);
}

/* Add the hook entry to <bundle>/config.json, once. */
static int add_hook(const char *bundle, struct shm_error *err)
{
        char hook_path[PATH_MAX];
        struct hook_entry entry = {
            .env = {"PATH=" DEFAULT_PATH, NULL},
            .timeout = HOOK_TIMEOUT,
        };
        const char *policy = secure_getenv("OCI_SHM_HOOK_POLICY");
        size_t n = 0;
        bool added;
        int r;

        if ((r = find_hook(hook_path, sizeof(hook_path), err)) < 0)
                return r;
        entry.path = hook_path;
        entry.args[n++] = "oci-shm-hook";
        if (policy && *policy) {
                if (policy[0] != '/')
                        return shm_error_set(err, EINVAL,
                                             "OCI_SHM_HOOK_POLICY '%s' is not an absolute path",
                                             policy);
                entry.args[n++] = "--policy";
                entry.args[n++] = policy;
        }
        entry.args[n++] = HOOK_STAGE;
        entry.args[n] = NULL;
        return bundle_add_hook(bundle, HOOK_STAGE, &entry, &added, err);
}

int main(int argc, char **argv)
{
        char runtime[PATH_MAX];
        struct runtime_args args;
        struct shm_error err = {0};
        int r;

        if (argc < 1)
                return die("no arguments");
        r = runtime_args_parse(argc, argv, &args, &err);
        /* Filled even when the arguments are refused: the engine reads that log. */
        runtime_log = args.log;
        runtime_log_json = args.log_json;
        if (r < 0)
                return die("%s", err.message);
        if (!args.command && args.help && !args.version) {
                usage();
                return EXIT_SUCCESS;
        }
        if (!args.command && args.version) {
                /* No "version" word here: engines parse the runtime's own lines below. */
                printf(PROGRAM " " OCI_SHM_HOOK_VERSION "\n");
                fflush(stdout);
        }
        if (find_runtime(runtime, sizeof(runtime), &err) < 0)
                return die("%s", err.message);
        if (args.other_config)
                fprintf(stderr, PROGRAM ": warning: create --config: the bundle's "
                                        "config.json is not used; no hook added\n");
        else if (args.edit && add_hook(args.bundle, &err) < 0)
                return die("%s", err.message);
        argv[0] = runtime;
        execv(runtime, argv);
        return die("cannot run the real runtime '%s': %s", runtime, strerror(errno));
}
