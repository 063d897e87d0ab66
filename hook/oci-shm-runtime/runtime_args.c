/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

enum opt_kind {
        OPT_BOOL,
        OPT_VALUE,
        OPT_OPTIONAL, /* argp: a value only as --name=value */
};

/* What an option means to the shim; most mean nothing. */
enum opt_role {
        ROLE_NONE,
        ROLE_LOG,
        ROLE_LOG_FORMAT,
        ROLE_HELP,
        ROLE_VERSION,
        ROLE_BUNDLE,
        ROLE_CONFIG,
        ROLE_UINT,   /* runc parses the value as an unsigned number */
        ROLE_REFUSE, /* argp's hidden --HANG waits for a debugger: never */
};

struct opt {
        const char *name; /* long name; for runc every name of a flag is one entry */
        char short_name;  /* argp only */
        enum opt_kind kind;
        enum opt_role role;
        /*
         * argp: prefixes that match entries of one key are not ambiguous.
         * runc: the names of one flag (urfave/cli refuses two of them).
         */
        int key;
};

/* runc 1.1.5 (`runc --help`, `runc create --help`); urfave/cli adds help and version. */
static const struct opt runc_global[] = {
    {"debug", 0, OPT_BOOL, ROLE_NONE, 0},
    {"log", 0, OPT_VALUE, ROLE_LOG, 0},
    {"log-format", 0, OPT_VALUE, ROLE_LOG_FORMAT, 0},
    {"root", 0, OPT_VALUE, ROLE_NONE, 0},
    {"criu", 0, OPT_VALUE, ROLE_NONE, 0},
    {"systemd-cgroup", 0, OPT_BOOL, ROLE_NONE, 0},
    {"rootless", 0, OPT_VALUE, ROLE_NONE, 0},
    {"help", 0, OPT_BOOL, ROLE_HELP, 1},
    {"h", 0, OPT_BOOL, ROLE_HELP, 1},
    {"version", 0, OPT_BOOL, ROLE_VERSION, 2},
    {"v", 0, OPT_BOOL, ROLE_VERSION, 2},
    {NULL, 0, 0, 0, 0},
};

static const struct opt runc_create[] = {
    {"bundle", 0, OPT_VALUE, ROLE_BUNDLE, 1},
    {"b", 0, OPT_VALUE, ROLE_BUNDLE, 1},
    {"console-socket", 0, OPT_VALUE, ROLE_NONE, 0},
    {"pid-file", 0, OPT_VALUE, ROLE_NONE, 0},
    {"no-pivot", 0, OPT_BOOL, ROLE_NONE, 0},
    {"no-new-keyring", 0, OPT_BOOL, ROLE_NONE, 0},
    {"preserve-fds", 0, OPT_VALUE, ROLE_UINT, 0},
    {"help", 0, OPT_BOOL, ROLE_HELP, 2},
    {"h", 0, OPT_BOOL, ROLE_HELP, 2},
    {NULL, 0, 0, 0, 0},
};

/* urfave_check_forms() keeps a bit per entry. */
_Static_assert(ARRAY_SIZE(runc_global) <= 64 && ARRAY_SIZE(runc_create) <= 64, "tables too long");

/*
 * crun 1.8.1 (`crun --help`, `crun create --help`), with argp's own --help,
 * --usage and hidden --program-name and --HANG. crun gives --root and
 * --rootless one key: `crun --ro DIR` is not ambiguous.
 */
static const struct opt crun_global[] = {
    {"debug", 0, OPT_BOOL, ROLE_NONE, 1},
    {"cgroup-manager", 0, OPT_VALUE, ROLE_NONE, 2},
    {"systemd-cgroup", 0, OPT_BOOL, ROLE_NONE, 3},
    {"log", 0, OPT_VALUE, ROLE_LOG, 4},
    {"log-format", 0, OPT_VALUE, ROLE_LOG_FORMAT, 5},
    {"root", 0, OPT_VALUE, ROLE_NONE, 6},
    {"rootless", 0, OPT_VALUE, ROLE_NONE, 6},
    {"version", 'v', OPT_BOOL, ROLE_VERSION, 7},
    {NULL, 'V', OPT_BOOL, ROLE_VERSION, 7},
    {"help", '?', OPT_BOOL, ROLE_HELP, 8},
    {"usage", 0, OPT_BOOL, ROLE_HELP, 9},
    {"program-name", 0, OPT_VALUE, ROLE_NONE, 10},
    {"HANG", 0, OPT_OPTIONAL, ROLE_REFUSE, 11},
    {NULL, 0, 0, 0, 0},
};

static const struct opt crun_create[] = {
    {"bundle", 'b', OPT_VALUE, ROLE_BUNDLE, 1},
    {"console-socket", 0, OPT_VALUE, ROLE_NONE, 2},
    {"config", 'f', OPT_VALUE, ROLE_CONFIG, 3},
    {"no-new-keyring", 0, OPT_BOOL, ROLE_NONE, 4},
    {"no-pivot", 0, OPT_BOOL, ROLE_NONE, 5},
    {"no-subreaper", 0, OPT_BOOL, ROLE_NONE, 6},
    {"pid-file", 0, OPT_VALUE, ROLE_NONE, 7},
    {"preserve-fds", 0, OPT_VALUE, ROLE_NONE, 8},
    {"help", '?', OPT_BOOL, ROLE_HELP, 9},
    {"usage", 0, OPT_BOOL, ROLE_HELP, 10},
    {"program-name", 0, OPT_VALUE, ROLE_NONE, 11},
    {"HANG", 0, OPT_OPTIONAL, ROLE_REFUSE, 12},
    {NULL, 0, 0, 0, 0},
};

/* One runtime's reading of the whole argument list. */
struct reading {
        const char *runtime; /* for messages */
        bool ok;
        char message[256];
        int command;
        bool help, version, stop;
        const char *log, *log_format;
        bool create;
        const char *bundle; /* NULL: not given */
        bool other_config;
};

static int reading_fail(struct reading *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* This reading fails: the runtime would refuse the arguments. Returns -1. */
static int reading_fail(struct reading *r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(r->message, sizeof(r->message), fmt, ap);
        va_end(ap);
        r->ok = false;
        return -1;
}

static bool table_end(const struct opt *o)
{
        return !o->name && !o->short_name;
}

/* Go's strconv.ParseBool. */
static int go_parse_bool(const char *s)
{
        static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
        static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                if (strcmp(s, yes[i]) == 0)
                        return 1;
                if (strcmp(s, no[i]) == 0)
                        return 0;
        }
        return -1;
}

/* Record what an option means; value is NULL for a flag without one. 0 or -1. */
static int apply(struct reading *r, const struct opt *o, const char *shown, const char *value,
                 bool on)
{
        switch (o->role) {
        case ROLE_LOG:
                r->log = value;
                return 0;
        case ROLE_LOG_FORMAT:
                r->log_format = value;
                return 0;
        case ROLE_HELP:
                r->help = on;
                return 0;
        case ROLE_VERSION:
                r->version = on;
                return 0;
        case ROLE_BUNDLE:
                r->bundle = value;
                return 0;
        case ROLE_CONFIG:
                r->other_config = true;
                return 0;
        case ROLE_UINT:
                if (!*value || strspn(value, "0123456789") != strlen(value))
                        return reading_fail(r, "invalid value \"%s\" for flag %s", value, shown);
                return 0;
        case ROLE_REFUSE:
                return reading_fail(r, "option '%s' is not supported", shown);
        default:
                return 0;
        }
}

static const struct opt *go_lookup(const struct opt *table, const char *name, size_t len)
{
        for (const struct opt *o = table; !table_end(o); o++)
                if (o->name && strlen(o->name) == len && memcmp(o->name, name, len) == 0)
                        return o;
        return NULL;
}

/*
 * One flag the way Go's flag.FlagSet.parseOne reads it. Returns 1 when it
 * consumed args[*i] (and maybe its value), 0 at the first non-flag (with
 * *i past a "--"), -1 on an error.
 */
static int go_parse_one(struct reading *r, const struct opt *table, char *const *args, int n,
                        int *i, unsigned long *seen)
{
        const char *s = args[*i], *name, *eq, *value = NULL;
        int minuses = 1, on = 1;

        if (strlen(s) < 2 || s[0] != '-')
                return 0;
        if (s[1] == '-') {
                minuses++;
                if (s[2] == '\0') {
                        (*i)++;
                        return 0;
                }
        }
        name = s + minuses;
        if (*name == '-' || *name == '=')
                return reading_fail(r, "bad flag syntax: %s", s);
        eq = strchr(name, '=');
        const struct opt *o = go_lookup(table, name, eq ? (size_t)(eq - name) : strlen(name));
        if (!o)
                return reading_fail(r, "flag provided but not defined: -%.*s",
                                    (int)(eq ? eq - name : (long)strlen(name)), name);
        *seen |= 1ul << (o - table);
        if (eq)
                value = eq + 1;
        if (o->kind == OPT_BOOL && value && (on = go_parse_bool(value)) < 0)
                return reading_fail(r, "invalid boolean value \"%s\" for -%s", value, o->name);
        if (o->kind != OPT_BOOL && !value) {
                if (*i + 1 >= n)
                        return reading_fail(r, "flag needs an argument: %s", s);
                value = args[++*i];
        }
        (*i)++;
        return apply(r, o, s, value, on) < 0 ? -1 : 1;
}

/* urfave/cli's normalizeFlags: "Cannot use two forms of the same flag" (-b and --bundle). */
static bool urfave_check_forms(struct reading *r, const struct opt *table, unsigned long seen)
{
        for (const struct opt *a = table; !table_end(a); a++)
                for (const struct opt *b = a + 1; !table_end(b); b++)
                        if (a->key && a->key == b->key && (seen >> (a - table) & 1) &&
                            (seen >> (b - table) & 1))
                                return reading_fail(r,
                                                    "Cannot use two forms of the same flag: "
                                                    "%s %s",
                                                    b->name, a->name) == 0;
        return true;
}

/* Go's FlagSet.Parse over args[*i..n): *i ends at the first positional argument. */
static bool go_parse(struct reading *r, const struct opt *table, char *const *args, int n, int *i)
{
        unsigned long seen = 0;

        while (*i < n && go_parse_one(r, table, args, n, i, &seen) > 0)
                ;
        return r->ok && urfave_check_forms(r, table, seen);
}

/* urfave/cli's argIsFlag: "-x", "--x" or "-x=v", "--x=v" with x a flag of the command. */
static bool urfave_is_flag(const struct opt *table, const char *arg)
{
        if (arg[0] != '-' || strcmp(arg, "-") == 0 || strcmp(arg, "--") == 0)
                return false;
        arg += strncmp(arg, "--", 2) == 0 ? 2 : 0;
        arg += arg[0] == '-';
        return go_lookup(table, arg, strcspn(arg, "=")) != NULL;
}

/*
 * urfave/cli 1.22's reorderArgs: the command's flags (and the argument after
 * a flag without "=") move before the other arguments; a "--" that is no
 * flag's value ends the reordering and goes first among the rest.
 */
static void urfave_reorder(const struct opt *table, char *const *args, int n, char **out)
{
        int nflags = 0, nrest = 0, i;
        bool may_be_value = false;
        _cleanup_free_ char **rest = calloc((size_t)n + 1, sizeof(*rest));

        if (!rest) {
                memcpy(out, args, (size_t)n * sizeof(*out));
                return;
        }
        for (i = 0; i < n; i++) {
                bool is_flag = urfave_is_flag(table, args[i]);
                if (may_be_value && !is_flag) {
                        may_be_value = false;
                        out[nflags++] = args[i];
                } else if (strcmp(args[i], "--") == 0) {
                        memmove(rest + 1, rest, (size_t)nrest * sizeof(*rest));
                        rest[0] = args[i];
                        nrest++;
                        for (i++; i < n; i++)
                                rest[nrest++] = args[i];
                } else if (is_flag) {
                        out[nflags++] = args[i];
                        may_be_value = !strchr(args[i], '=');
                } else {
                        rest[nrest++] = args[i];
                }
        }
        memcpy(out + nflags, rest, (size_t)nrest * sizeof(*out));
}

/*
 * After the global options, at argv[i]: note the command; true when it is
 * `create`, whose own options come next (help and version run no command).
 */
static bool at_create(struct reading *r, int argc, char *const *argv, int i)
{
        if (i >= argc || r->help || r->version)
                return false;
        r->command = i;
        r->create = strcmp(argv[i], "create") == 0;
        return r->create;
}

/* runc create's flags and its one argument, the container id. */
static bool runc_read_create(struct reading *r, char *const *args, int n)
{
        _cleanup_free_ char **reordered = calloc((size_t)n + 1, sizeof(*reordered));
        int i = 0;

        if (!reordered)
                return reading_fail(r, "out of memory") == 0;
        urfave_reorder(runc_create, args, n, reordered);
        if (!go_parse(r, runc_create, reordered, n, &i))
                return false;
        if (r->help)
                return true;
        if (n - i != 1)
                return reading_fail(r, "\"create\" requires exactly 1 argument(s)") == 0;
        return true;
}

static bool runc_read(struct reading *r, int argc, char *const *argv)
{
        int i = 1;

        if (!go_parse(r, runc_global, argv, argc, &i))
                return false;
        /* urfave/cli prints the help or the version and runs no command. */
        if (!at_create(r, argc, argv, i))
                return true;
        return runc_read_create(r, argv + i + 1, argc - i - 1);
}

/* getopt_long's match for --name: exact, else a prefix of one option only. */
static const struct opt *argp_lookup_long(struct reading *r, const struct opt *table,
                                          const char *name, size_t len, const char *shown)
{
        const struct opt *found = NULL;

        for (const struct opt *o = table; !table_end(o); o++)
                if (o->name && strlen(o->name) == len && memcmp(o->name, name, len) == 0)
                        return o;
        for (const struct opt *o = table; !table_end(o); o++) {
                if (!o->name || strncmp(o->name, name, len) != 0)
                        continue;
                if (found && found->key != o->key) {
                        reading_fail(r, "option '%s' is ambiguous", shown);
                        return NULL;
                }
                found = found ? found : o;
        }
        if (!found)
                reading_fail(r, "unrecognized option '%s'", shown);
        return found;
}

static int argp_long(struct reading *r, const struct opt *table, char *const *args, int n, int *i)
{
        const char *s = args[*i], *name = s + 2, *eq = strchr(name, '='), *value = NULL;
        const struct opt *o =
            argp_lookup_long(r, table, name, eq ? (size_t)(eq - name) : strlen(name), s);

        if (!o)
                return -1;
        if (eq) {
                if (o->kind == OPT_BOOL)
                        return reading_fail(r, "option '--%s' doesn't allow an argument", o->name);
                value = eq + 1;
        } else if (o->kind == OPT_VALUE) {
                if (*i + 1 >= n)
                        return reading_fail(r, "option '--%s' requires an argument", o->name);
                value = args[++*i];
        }
        (*i)++;
        return apply(r, o, s, value, true);
}

/* A cluster of short options: "-b DIR", "-bDIR", "-fFILE". */
static int argp_short(struct reading *r, const struct opt *table, char *const *args, int n, int *i)
{
        const char *s = args[*i];

        for (size_t j = 1; s[j]; j++) {
                const struct opt *o = table;
                const char *value = NULL;

                while (!table_end(o) && o->short_name != s[j])
                        o++;
                if (table_end(o))
                        return reading_fail(r, "invalid option -- '%c'", s[j]);
                if (o->kind == OPT_VALUE) {
                        if (s[j + 1])
                                value = s + j + 1;
                        else if (*i + 1 < n)
                                value = args[++*i];
                        else
                                return reading_fail(r, "option requires an argument -- '%c'", s[j]);
                }
                if (apply(r, o, s, value, true) < 0)
                        return -1;
                if (value || r->help || r->version)
                        break;
        }
        (*i)++;
        return 0;
}

/*
 * argp with ARGP_IN_ORDER, as crun calls it: options up to the first
 * non-option or "--"; *i ends at the first positional argument. --help,
 * --usage and --version print and exit at once.
 */
static bool argp_parse_in_order(struct reading *r, const struct opt *table, char *const *args,
                                int n, int *i)
{
        while (*i < n && !r->help && !r->version) {
                const char *s = args[*i];
                if (strcmp(s, "--") == 0) {
                        (*i)++;
                        break;
                }
                if (s[0] != '-' || s[1] == '\0')
                        break;
                if ((s[1] == '-' ? argp_long(r, table, args, n, i)
                                 : argp_short(r, table, args, n, i)) < 0)
                        return false;
        }
        return true;
}

static bool crun_read(struct reading *r, int argc, char *const *argv)
{
        int i = 1;

        if (!argp_parse_in_order(r, crun_global, argv, argc, &i))
                return false;
        if (!at_create(r, argc, argv, i))
                return true;
        i++;
        if (!argp_parse_in_order(r, crun_create, argv, argc, &i))
                return false;
        if (!r->help && argc - i != 1)
                return reading_fail(r, "`create` requires exactly one argument") == 0;
        return true;
}

/* What the shim would do on this reading. */
static void outcome(const struct reading *r, struct runtime_args *out)
{
        bool create = r->create && !r->help;

        *out = (struct runtime_args){
            .command = r->command,
            .help = r->help || r->version,
            .version = r->version,
            .log = r->log,
            .log_json = r->log_format && strcmp(r->log_format, "json") == 0,
            .edit = create && !r->other_config,
            .bundle = create && !r->other_config ? (r->bundle ? r->bundle : ".") : NULL,
            .other_config = create && r->other_config,
        };
}

static bool same_outcome(const struct runtime_args *a, const struct runtime_args *b)
{
        return a->edit == b->edit && a->other_config == b->other_config &&
               (!a->edit || strcmp(a->bundle, b->bundle) == 0);
}

static const char *describe(const struct runtime_args *a, char *buf, size_t size)
{
        if (a->edit)
                snprintf(buf, size, "bundle '%s'", a->bundle);
        else if (a->other_config)
                snprintf(buf, size, "another config file (--config)");
        else
                snprintf(buf, size, "no container to create");
        return buf;
}

int runtime_args_parse(int argc, char *const *argv, struct runtime_args *out, struct shm_error *err)
{
        struct reading runc = {.runtime = "runc", .ok = true},
                       crun = {.runtime = "crun", .ok = true};
        struct runtime_args a, b;
        char da[512], db[512];

        runc_read(&runc, argc, argv);
        crun_read(&crun, argc, argv);
        outcome(&runc, &a);
        outcome(&crun, &b);
        *out = runc.ok || !crun.ok ? a : b;
        if (!out->log && !runc.ok && !crun.ok) {
                out->log = b.log;
                out->log_json = b.log_json;
        }
        if (!runc.ok && !crun.ok)
                return shm_error_set(err, EINVAL,
                                     "cannot read the arguments as runc does (%s) nor as crun "
                                     "does (%s); refusing to guess the bundle",
                                     runc.message, crun.message);
        if (runc.ok && crun.ok && !same_outcome(&a, &b))
                return shm_error_set(err, EINVAL,
                                     "runc and crun read these arguments differently (runc: %s, "
                                     "crun: %s); refusing to guess: write --bundle=DIR",
                                     describe(&a, da, sizeof(da)), describe(&b, db, sizeof(db)));
        if (out->edit && !*out->bundle)
                return shm_error_set(err, EINVAL, "the bundle path is empty");
        return 0;
}
