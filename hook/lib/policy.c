/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "size.h"
#include "userns.h"

static int add_problem(struct policy *p, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_problem(struct policy *p, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;
        char *message;

        if (p->n_problems >= POLICY_MAX_PROBLEMS)
                return 0;
        if (p->n_problems == p->cap_problems) {
                size_t cap = p->cap_problems ? p->cap_problems * 2 : 8;
                struct policy_problem *grown = realloc(p->problems, cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                p->problems = grown;
                p->cap_problems = cap;
        }
        va_start(ap, fmt);
        int r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        p->problems[p->n_problems++] =
            (struct policy_problem){.file = file, .line = line, .message = message};
        return 0;
}

static const char *intern_file(struct policy *p, const char *file)
{
        char **grown = realloc(p->files, (p->n_files + 1) * sizeof(*grown));
        if (!grown)
                return NULL;
        p->files = grown;
        p->files[p->n_files] = strdup(file);
        return p->files[p->n_files] ? p->files[p->n_files++] : NULL;
}

/*
 * fnmatch() treats a malformed bracket as literal text; an admin who wrote
 * "image=[abc" meant something else, so say so.
 */
static const char *glob_problem(const char *glob)
{
        if (!strpbrk(glob, "[\\"))
                return NULL;
        for (const char *s = glob; *s; s++) {
                if (*s == '\\') {
                        if (!s[1])
                                return "ends with a lone backslash";
                        s++;
                } else if (*s == '[') {
                        const char *e = s + 1;
                        if (*e == '!' || *e == '^')
                                e++;
                        if (*e == ']')
                                e++;
                        while (*e && *e != ']')
                                e++;
                        if (!*e)
                                return "has a '[' without a closing ']'";
                        s = e;
                }
        }
        return NULL;
}

/* Keep a block of memory (file text, condition arrays) until policy_free(). */
static int own_block(struct policy *p, void *block)
{
        void **grown = realloc(p->blocks, (p->n_blocks + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        p->blocks = grown;
        p->blocks[p->n_blocks++] = block;
        return 0;
}

/* A condition whose longest plain run is shorter than two bytes has no bigram. */
#define NO_BIGRAM 1024u

_Static_assert(sizeof(struct policy_condition) == 24, "a condition grew");
_Static_assert(sizeof(struct policy_rule) == 40, "a rule grew");
_Static_assert(POLICY_MAX_TOKENS < 256, "n_conditions is 8 bits");

/* Bytes a and b, next to each other, as one of 1024 bits (policy_decide's prefilter). */
static inline unsigned bigram_bit(unsigned char a, unsigned char b)
{
        return ((unsigned)a * 31u + b) & 1023u;
}

/* ---- the tokenizer: cuts the file text in place into lines of tokens ---- */

/*
 * What the tokenizer learns about each byte, so that the text is read once,
 * a byte at a time, by one table lookup.
 */
enum {
        CH_BLANK = 1, /* separates tokens */
        CH_EOL = 2,   /* '\n', or the NUL after the text */
        CH_EQ = 4,    /* '=' */
        CH_WILD = 8,  /* '*' '?' */
        CH_HARD = 16, /* '[' '\\': the glob is checked by glob_problem */
};
#define CH_SEP (CH_BLANK | CH_EOL)

static const uint8_t char_class[256] = {
    [0] = CH_EOL,      ['\n'] = CH_EOL,   [' '] = CH_BLANK,  ['\t'] = CH_BLANK,
    ['\r'] = CH_BLANK, ['\f'] = CH_BLANK, ['\v'] = CH_BLANK, ['='] = CH_EQ,
    ['*'] = CH_WILD,   ['?'] = CH_WILD,   ['['] = CH_HARD,   ['\\'] = CH_HARD,
};

/*
 * One KEY=VALUE token, with what the consumer needs of its value's glob.
 * Plain characters of a glob match only themselves (fnmatch without flags),
 * so every text a glob matches starts with its leading plain run and contains
 * each later one: the tokenizer records the leading run and the longest run
 * before any bracket or escape, cheap tests that pass over most rules of a
 * long policy without calling fnmatch.
 */
struct token {
        char *text;   /* NUL-terminated, inside the policy's copy of the file */
        uint32_t len; /* the file is at most 4 MiB */
        uint32_t eq;  /* offset of the first '=', or len when there is none */
        uint32_t prefix, run_offset, run_len; /* in the value: see above */
        bool hard;                            /* the value has a '[' or '\\' */
};

enum line_status { LINE_OK, LINE_TOO_LONG, LINE_TOO_MANY_TOKENS };

struct line {
        unsigned no;
        enum line_status status;
        size_t n_tokens;
        struct token tokens[POLICY_MAX_TOKENS];
};

struct tokenizer {
        char *pos, *end;
        unsigned line_no;
};

/* Scan a value from *s to the end of the token, recording its plain runs. */
static void scan_value(char **s, struct token *t)
{
        char *p = *s, *value = p, *run_start = p;
        bool first = true;
        unsigned c;

        t->prefix = t->run_offset = t->run_len = 0;
        t->hard = false;
        for (;; p++) {
                c = char_class[(unsigned char)*p];
                if (!(c & (CH_SEP | CH_WILD | CH_HARD)))
                        continue;
                if (!t->hard) {
                        uint32_t run = (uint32_t)(p - run_start);
                        if (first)
                                t->prefix = t->run_len = run, first = false;
                        else if (run > t->run_len)
                                t->run_offset = (uint32_t)(run_start - value), t->run_len = run;
                        t->hard = c & CH_HARD;
                        run_start = p + 1;
                }
                if (c & CH_SEP)
                        break;
        }
        *s = p;
}

/* The token at *s; *s is left on the byte after it. */
static void scan_token(char **s, struct token *t)
{
        char *p = *s;

        t->text = p;
        while (!(char_class[(unsigned char)*p] & (CH_SEP | CH_EQ)))
                p++;
        t->eq = (uint32_t)(p - t->text);
        if (*p == '=') {
                p++;
                scan_value(&p, t);
        }
        t->len = (uint32_t)(p - t->text);
        *s = p;
}

/*
 * The next line of the text, cut in place into tokens (each one
 * NUL-terminated); false at the end of the text. '#' at the start of a
 * token begins a comment.
 */
static bool next_line(struct tokenizer *t, struct line *l)
{
        char *s = t->pos, *start = s;

        if (s >= t->end)
                return false;
        l->no = ++t->line_no; /* not the whole struct: the tokens are written as found */
        l->status = LINE_OK;
        l->n_tokens = 0;
        for (;;) {
                while (char_class[(unsigned char)*s] & CH_BLANK)
                        s++;
                if (char_class[(unsigned char)*s] & CH_EOL)
                        break;
                if (*s == '#') {
                        char *nl = memchr(s, '\n', (size_t)(t->end - s));
                        s = nl ? nl : t->end;
                        break;
                }
                struct token scratch,
                    *tok = l->n_tokens < POLICY_MAX_TOKENS ? &l->tokens[l->n_tokens++] : &scratch;
                if (tok == &scratch)
                        l->status = LINE_TOO_MANY_TOKENS;
                scan_token(&s, tok);
                if (!(char_class[(unsigned char)*s] & CH_BLANK))
                        break;
                *s++ = '\0';
        }
        if ((size_t)(s - start) > POLICY_LINE_MAX)
                l->status = LINE_TOO_LONG;
        if (s < t->end)
                *s++ = '\0'; /* the '\n' */
        t->pos = s;
        return true;
}

/* ---- the consumer: one line of tokens to one compiled rule ---- */

enum key_kind {
        KEY_IMAGE,
        KEY_ANNOTATION,
        KEY_NAMESPACE,
        KEY_POD,
        KEY_CONTAINER,
        KEY_SHM,
        KEY_MAX,
        KEY_UNKNOWN
};

/* The condition each condition key makes (KEY_IMAGE .. KEY_CONTAINER). */
static const enum policy_condition_kind condition_kind[] = {
    [KEY_IMAGE] = POLICY_COND_IMAGE,         [KEY_ANNOTATION] = POLICY_COND_ANNOTATION,
    [KEY_NAMESPACE] = POLICY_COND_NAMESPACE, [KEY_POD] = POLICY_COND_POD,
    [KEY_CONTAINER] = POLICY_COND_CONTAINER,
};

static enum key_kind key_kind(const char *key, size_t len)
{
        /* Constant lengths: the compiler compares in place, no call per token. */
        switch (len) {
        case 3:
                if (memcmp(key, "shm", 3) == 0)
                        return KEY_SHM;
                if (memcmp(key, "max", 3) == 0)
                        return KEY_MAX;
                if (memcmp(key, "pod", 3) == 0)
                        return KEY_POD;
                break;
        case 5:
                if (memcmp(key, "image", 5) == 0)
                        return KEY_IMAGE;
                break;
        case 9:
                if (memcmp(key, "namespace", 9) == 0)
                        return KEY_NAMESPACE;
                if (memcmp(key, "container", 9) == 0)
                        return KEY_CONTAINER;
                break;
        default:
                if (len >= 11 && memcmp(key, "annotation:", 11) == 0)
                        return KEY_ANNOTATION;
                break;
        }
        return KEY_UNKNOWN;
}

struct rule_builder {
        struct policy *p;
        struct policy_rule *rule;
        unsigned seen; /* 1 << KEY_SHM, 1 << KEY_MAX */
};

/* Record a problem about the rule being built: 0, or -ENOMEM. */
#define RULE_PROBLEM(b, ...) add_problem((b)->p, (b)->rule->file, (b)->rule->line, __VA_ARGS__)

static int push_annotation_key(struct policy *p, const char *key)
{
        if (p->n_annotation_keys == p->cap_annotation_keys) {
                size_t cap = p->cap_annotation_keys ? p->cap_annotation_keys * 2 : 8;
                const char **grown = realloc(p->annotation_keys, cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                p->annotation_keys = grown;
                p->cap_annotation_keys = cap;
        }
        p->annotation_keys[p->n_annotation_keys++] = key;
        return 0;
}

/* Returns 1 for a condition added, 0 for a problem recorded, or -ENOMEM. */
static int add_condition(struct rule_builder *b, enum key_kind kind, const char *key,
                         const struct token *t)
{
        const char *glob = t->text + t->eq + 1, *problem;

        if (kind == KEY_ANNOTATION && !key[11])
                return RULE_PROBLEM(b, "'annotation:' needs a key, as in "
                                       "'annotation:example.com/shm=*'");
        if (t->len == t->eq + 1)
                return RULE_PROBLEM(b, "'%s=' needs a pattern", key);
        if (t->hard && (problem = glob_problem(glob)))
                return RULE_PROBLEM(b, "pattern '%s' %s", glob, problem);

        struct policy_condition *c = &b->rule->conditions[b->rule->n_conditions++];
        *c = (struct policy_condition){
            .kind = condition_kind[kind],
            .key = kind == KEY_ANNOTATION ? key + 11 : NULL,
            .glob = glob,
            .literal_prefix = (uint16_t)t->prefix,
            .literal_offset = (uint16_t)t->run_offset,
            .literal_len = (uint16_t)t->run_len,
            .bigram = t->run_len >= 2 ? (uint16_t)bigram_bit((unsigned char)glob[t->run_offset],
                                                             (unsigned char)glob[t->run_offset + 1])
                                      : NO_BIGRAM,
        };
        if (kind == KEY_IMAGE)
                b->p->needs_image = true;
        else if (kind != KEY_ANNOTATION)
                b->p->needs_kubernetes = true;
        if (kind != KEY_ANNOTATION)
                return 1;
        return push_annotation_key(b->p, c->key) < 0 ? -ENOMEM : 1;
}

/* shm=ACTION. Returns 1, 0 for a problem recorded, or -ENOMEM. */
static int set_action(struct rule_builder *b, const char *value, size_t len)
{
        struct policy_rule *rule = b->rule;
        struct shm_error
            e; /* filled on failure; zeroing 1 KiB per token would cost more than the parse */

        /* A size starts with a digit: the words are compared only when it does not. */
        bool word = len && (value[0] < '0' || value[0] > '9');

        if (word && strcmp(value, "host") == 0) {
                rule->action = POLICY_SHM_HOST;
        } else if (word && strcmp(value, "keep") == 0) {
                rule->action = POLICY_SHM_KEEP;
        } else if (word && strcmp(value, "request") == 0) {
                rule->action = POLICY_SHM_REQUEST;
        } else if (len && value[len - 1] == '%') {
                rule->action = POLICY_SHM_PERCENT;
                if (percent_parse(value, &rule->percent, &e) < 0)
                        return RULE_PROBLEM(b, "shm=%s: %s", value, e.message);
        } else {
                rule->action = POLICY_SHM_SIZE;
                if (size_parse(value, &rule->size, &e) < 0)
                        return RULE_PROBLEM(b, "shm=%s: %s; or use N%%, request, host, keep", value,
                                            e.message);
        }
        return 1;
}

/* One KEY=VALUE token. Returns 1, 0 for a problem recorded, or -ENOMEM. */
static int parse_token(struct rule_builder *b, const struct token *t)
{
        struct shm_error e; /* filled on failure */

        if (t->eq == t->len)
                return RULE_PROBLEM(b, "'%s' is not a key=value token", t->text);
        t->text[t->eq] = '\0';
        const char *key = t->text, *value = t->text + t->eq + 1;
        size_t key_len = t->eq, value_len = t->len - t->eq - 1;
        enum key_kind kind = key_kind(key, key_len);

        /* The one duplicate check: shm= and max= are given at most once. */
        if (kind == KEY_SHM || kind == KEY_MAX) {
                if (b->seen & (1u << kind))
                        return RULE_PROBLEM(b, "%s= is given twice%s", key,
                                            kind == KEY_SHM ? ": a rule takes exactly one shm= "
                                                              "action"
                                                            : "");
                b->seen |= 1u << kind;
        }
        switch (kind) {
        case KEY_IMAGE:
        case KEY_ANNOTATION:
        case KEY_NAMESPACE:
        case KEY_POD:
        case KEY_CONTAINER:
                return add_condition(b, kind, key, t);
        case KEY_SHM:
                return set_action(b, value, value_len);
        case KEY_MAX:
                if (size_parse(value, &b->rule->max, &e) < 0)
                        return RULE_PROBLEM(b, "max=%s: %s", value, e.message);
                return 1;
        default:
                return RULE_PROBLEM(b,
                                    "unknown key '%s' (expected image=, annotation:KEY=, "
                                    "namespace=, pod=, container=, shm= or max=)",
                                    key);
        }
}

/* After the last token: what a rule needs as a whole. Returns 1, 0 or -ENOMEM. */
static int check_rule(struct rule_builder *b)
{
        const struct policy_rule *rule = b->rule;

        if (!(b->seen & (1u << KEY_SHM)))
                return RULE_PROBLEM(b, "rule has no shm= action (shm=SIZE, N%%, request, host "
                                       "or keep)");
        if ((b->seen & (1u << KEY_MAX)) && rule->action != POLICY_SHM_REQUEST &&
            rule->action != POLICY_SHM_PERCENT)
                return RULE_PROBLEM(b, "max= applies only to shm=request and shm=N%%");
        if (rule->action == POLICY_SHM_REQUEST) {
                bool has_annotation = false;
                for (size_t i = 0; i < rule->n_conditions; i++)
                        has_annotation |= rule->conditions[i].kind == POLICY_COND_ANNOTATION;
                if (!has_annotation)
                        return RULE_PROBLEM(b, "shm=request takes its size from an annotation: "
                                               "add a condition such as "
                                               "'annotation:example.com/shm-size=*'");
        }
        return 1;
}

/*
 * Compile one line into `rule`, its conditions into `conditions` (room for
 * one per token). Returns 1 for a rule, 0 for a problem (recorded), or
 * -ENOMEM. On a problem, annotation keys it added stay listed: harmless, a
 * policy with a problem decides nothing.
 */
static int parse_rule(struct policy *p, const char *file, const struct line *l,
                      struct policy_condition *conditions, struct policy_rule *rule)
{
        struct rule_builder b = {.p = p, .rule = rule};
        int r = 1;

        *rule = (struct policy_rule){.file = file, .line = l->no, .conditions = conditions};
        for (size_t i = 0; i < l->n_tokens && r > 0; i++)
                r = parse_token(&b, &l->tokens[i]);
        return r > 0 ? check_rule(&b) : r;
}

/* Room for `more` rules: reserved once per file, so nothing is copied as the rules come. */
static int reserve_rules(struct policy *p, size_t more)
{
        if (p->n_rules + more <= p->cap_rules)
                return 0;
        size_t cap = p->n_rules + more;
        struct policy_rule *grown = realloc(p->rules, cap * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        p->rules = grown;
        p->cap_rules = cap;
        return 0;
}

static int push_rule(struct policy *p, const struct policy_rule *rule)
{
        if (p->n_rules == p->cap_rules && reserve_rules(p, p->n_rules ? p->n_rules : 16) < 0)
                return -ENOMEM;
        p->rules[p->n_rules++] = *rule;
        return 0;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The annotation keys any rule reads, sorted and each once. */
static void settle_annotation_keys(struct policy *p)
{
        size_t n = 0;

        if (p->n_annotation_keys < 2)
                return;
        qsort(p->annotation_keys, p->n_annotation_keys, sizeof(*p->annotation_keys),
              compare_strings);
        for (size_t i = 0; i < p->n_annotation_keys; i++)
                if (!n || strcmp(p->annotation_keys[n - 1], p->annotation_keys[i]) != 0)
                        p->annotation_keys[n++] = p->annotation_keys[i];
        p->n_annotation_keys = n;
}

/* A line-level problem: 0, or -ENOMEM. */
static int line_problem(struct policy *p, const char *file, const struct line *l)
{
        if (l->status == LINE_TOO_LONG)
                return add_problem(p, file, l->no, "line is longer than %d bytes", POLICY_LINE_MAX);
        return add_problem(p, file, l->no, "more than %d tokens on one line", POLICY_MAX_TOKENS);
}

/* Room for `more` conditions after `used` in *conditions. */
static int reserve_conditions(struct policy_condition **conditions, size_t *cap, size_t used,
                              size_t more)
{
        if (used + more <= *cap)
                return 0;
        size_t want = *cap ? *cap * 2 : 64;
        while (want < used + more)
                want *= 2;
        struct policy_condition *grown = realloc(*conditions, want * sizeof(**conditions));
        if (!grown)
                return -ENOMEM;
        *conditions = grown;
        *cap = want;
        return 0;
}

/*
 * Compile every line of `text` (len bytes, text[len] == '\0'), which the
 * policy now owns: tokens are cut in place and rules point into it, so a
 * policy of 10,000 rules costs a few growing arrays, no allocation per rule.
 */
static int compile_text(struct policy *p, const char *file, char *text, size_t len)
{
        struct tokenizer t = {.pos = text, .end = text + len};

        /* Editors on other systems start a UTF-8 file with a byte order mark: it is no
         * part of the first key (it would show as an invisible "unknown key"). */
        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                t.pos += 3;
        struct policy_condition *conditions = NULL;
        size_t first_rule = p->n_rules, used = 0, cap = 0;
        struct line l;
        int r = 0;

        /* Reserve what the text can hold: a rule takes at least 6 bytes ("shm=1\n"), a
         * condition 8 ("image=x "). Memory never touched costs nothing. */
        size_t max_rules = len / 6 + 1;
        if (max_rules > POLICY_MAX_RULES)
                max_rules = POLICY_MAX_RULES;
        r = reserve_rules(p, max_rules);
        if (r == 0)
                r = reserve_conditions(&conditions, &cap, 0, len / 8 + 1);
        while (r >= 0 && next_line(&t, &l)) {
                if (l.status != LINE_OK) {
                        r = line_problem(p, file, &l);
                        continue;
                }
                if (!l.n_tokens)
                        continue;
                if (p->n_rules >= POLICY_MAX_RULES) {
                        r = add_problem(p, file, l.no, "more than %d rules in the policy",
                                        POLICY_MAX_RULES);
                        break;
                }
                struct policy_rule rule;
                r = reserve_conditions(&conditions, &cap, used, l.n_tokens);
                if (r == 0)
                        r = parse_rule(p, file, &l, conditions + used, &rule);
                if (r > 0) {
                        used += rule.n_conditions;
                        r = push_rule(p, &rule);
                }
        }
        if (r >= 0 && conditions)
                r = own_block(p, conditions);
        if (r < 0) {
                free(conditions);
                p->n_rules = first_rule; /* their conditions are gone */
                return r;
        }
        /* The array moved as it grew: point this file's rules at their conditions, in order. */
        for (size_t i = first_rule, offset = 0; i < p->n_rules; i++) {
                p->rules[i].conditions = conditions + offset;
                offset += p->rules[i].n_conditions;
        }
        return 0;
}

/* Compile `text`, which the policy now owns (see compile_text). */
static int parse_owned_text(struct policy *p, const char *file_name, char *text, size_t len,
                            struct shm_error *err)
{
        const char *file;
        int r;

        if (own_block(p, text) < 0) {
                free(text);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        file = intern_file(p, file_name);
        if (!file)
                return shm_error_set(err, ENOMEM, "out of memory");
        if (has_nul_byte(text, len))
                r = add_problem(p, file, 0, "contains a NUL byte; is this a text file?");
        else
                r = compile_text(p, file, text, len);
        if (r < 0)
                return shm_error_set(err, ENOMEM, "out of memory while reading '%s'", file);
        return 0;
}

int policy_parse_text(struct policy *p, const char *file_name, const char *text, size_t len,
                      struct shm_error *err)
{
        char *copy = malloc(len + 1);
        if (!copy)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(copy, text, len);
        copy[len] = '\0';
        int r = parse_owned_text(p, file_name, copy, len, err);
        settle_annotation_keys(p);
        return r;
}

/* Record a problem about a whole file (line 0). */
static int file_problem(struct policy *p, const char *path, const char *what, const char *why,
                        struct shm_error *err)
{
        const char *file = intern_file(p, path);
        if (!file || add_problem(p, file, 0, "%s%s", what, why) < 0)
                return shm_error_set(err, ENOMEM, "out of memory");
        return 0;
}

/*
 * Who may change the policy. A policy can hand a container the host's
 * /dev/shm, so in the initial user namespace only root (or whoever runs the
 * hook) may own it. In another user namespace (rootless Podman runs the hook
 * in the user's) root's files show as the overflow uid, so that owner is
 * accepted too: the hook there has no privilege the user lacks, and a policy
 * the user wrote (owned by uid 0 there) can act only on the user's own
 * containers. A uid mapped into the namespace other than root's is another
 * user of it (a container process, a system container's user), who must not
 * steer what its root does, and stays refused (userns_owner_trusted). Group-
 * or world-writable files and directories stay refused everywhere: they would
 * let other users steer those containers.
 */
static const char *unsafe_owner(const struct policy *p, const struct stat *st)
{
        if (!userns_owner_trusted(&p->userns, st->st_uid, geteuid()))
                return p->userns.initial ? "refusing it: it is not owned by root"
                                         : "refusing it: it is owned by a user other than this "
                                           "user namespace's root";
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return "refusing it: group or others can write it";
        return NULL;
}

static bool is_symlink(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static int load_file(struct policy *p, const char *path, bool missing_ok, struct shm_error *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        struct shm_error e = {0};
        struct stat st;
        const char *unsafe = NULL;
        size_t len;

        /* Policy files may be symlinks: Kubernetes ConfigMap volumes are made of them. The
         * checks below are on what the link leads to. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int saved = errno;
                if (saved == ENOENT && is_symlink(path))
                        /* Missing is fine; a link that leads nowhere is a mistake to show,
                         * not a file to skip (a half-updated ConfigMap, a typo). */
                        return file_problem(p, path, "cannot open: ",
                                            "a symbolic link to a file that does not exist", err);
                if (saved == ENOENT && missing_ok)
                        return 0;
                return file_problem(p, path, "cannot open: ", strerror(saved), err);
        }
        if (fstat(fd, &st) < 0)
                return file_problem(p, path, "cannot stat: ", strerror(errno), err);
        if (!S_ISREG(st.st_mode))
                return file_problem(p, path, "cannot read: ", "not a regular file", err);
        if ((unsafe = unsafe_owner(p, &st)))
                return file_problem(p, path, "", unsafe, err);
        if (read_fd_bounded(fd, (size_t)st.st_size, POLICY_FILE_MAX_BYTES, "the file", &text, &len,
                            &e) < 0)
                return file_problem(p, path, "cannot read: ", e.message, err);
        return parse_owned_text(p, path, steal_pointer(&text), len, err);
}

static int load_dir(struct policy *p, const char *dir, bool missing_ok, struct shm_error *err)
{
        DIR *d = opendir(dir);
        char **names = NULL;
        size_t n = 0;
        int r = 0;

        struct stat st;
        const char *unsafe = NULL;

        if (!d) {
                int saved = errno;
                if (saved == ENOENT && missing_ok)
                        return 0;
                return file_problem(p, dir, "cannot open: ", strerror(saved), err);
        }
        /* Whoever can write the directory can add a *.conf to it. */
        if (fstat(dirfd(d), &st) < 0 || (unsafe = unsafe_owner(p, &st))) {
                closedir(d);
                return file_problem(p, dir, "", unsafe ? unsafe : strerror(errno), err);
        }
        for (struct dirent *de; (de = readdir(d));) {
                size_t len = strlen(de->d_name);
                if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
                        continue;
                if (n == POLICY_MAX_FILES) {
                        const char *file = intern_file(p, dir);
                        if (!file || add_problem(p, file, 0, "more than %d *.conf files",
                                                 POLICY_MAX_FILES) < 0)
                                r = shm_error_set(err, ENOMEM, "out of memory");
                        break;
                }
                char **grown = realloc(names, (n + 1) * sizeof(*names));
                if (!grown || !(grown[n] = strdup(de->d_name))) {
                        names = grown ? grown : names;
                        r = shm_error_set(err, ENOMEM, "out of memory");
                        break;
                }
                names = grown;
                n++;
        }
        closedir(d);
        if (r == 0 && n)
                qsort(names, n, sizeof(*names), compare_strings);
        for (size_t i = 0; i < n; i++) {
                if (r == 0) {
                        _cleanup_free_ char *path = NULL;
                        if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                                r = shm_error_set(err, ENOMEM, "out of memory");
                        else
                                r = load_file(p, path, true, err);
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int policy_load(struct policy *p, const char *path, struct shm_error *err)
{
        struct stat st;
        int r;

        memset(p, 0, sizeof(*p));
        userns_current(&p->userns, NULL);
        if (!path) {
                r = load_dir(p, POLICY_DEFAULT_DIR, true, err);
                if (r == 0)
                        r = load_file(p, POLICY_DEFAULT_FILE, true, err);
        } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                r = load_dir(p, path, false, err);
        } else {
                r = load_file(p, path, false, err);
        }
        settle_annotation_keys(p); /* once for all files: a sort per file would add up */
        return r;
}

bool policy_needs_image(const struct policy *p)
{
        return p->needs_image;
}

bool policy_needs_kubernetes(const struct policy *p)
{
        return p->needs_kubernetes;
}

size_t policy_annotation_keys(const struct policy *p, const char *const **keys)
{
        *keys = p->annotation_keys;
        return p->n_annotation_keys;
}

void policy_free(struct policy *p)
{
        free(p->rules);
        free(p->annotation_keys);
        for (size_t i = 0; i < p->n_blocks; i++)
                free(p->blocks[i]);
        free(p->blocks);
        for (size_t i = 0; i < p->n_problems; i++)
                free(p->problems[i].message);
        free(p->problems);
        for (size_t i = 0; i < p->n_files; i++)
                free(p->files[i]);
        free(p->files);
        memset(p, 0, sizeof(*p));
}

const char *policy_image_matches(const char *glob, const struct image_ref *image)
{
        if (!image)
                return NULL;
        for (size_t i = 0; i < image->n_forms; i++)
                if (fnmatch(glob, image->forms[i], 0) == 0)
                        return image->forms[i];
        return NULL;
}

static const char *annotation_value(const struct policy_input *in, const char *key)
{
        for (size_t i = 0; i < in->n_annotations; i++)
                if (strcmp(in->annotations[i].key, key) == 0)
                        return in->annotations[i].value;
        return NULL;
}

static bool condition_matches(const struct policy_condition *c, const char *text)
{
        /* fnmatch compares a glob's leading plain characters one to one: check those first,
         * so most rules of a long policy are passed over without it. */
        if (strncmp(text, c->glob, c->literal_prefix) != 0)
                return false;
        if (c->glob[c->literal_prefix] == '\0')
                return text[c->literal_prefix] == '\0';
        if (c->literal_len > c->literal_prefix &&
            !memmem(text, strlen(text), c->glob + c->literal_offset, c->literal_len))
                return false;
        return fnmatch(c->glob, text, 0) == 0;
}

/* What policy_decide works out once about the input, for every rule. */
struct eval {
        const struct policy_input *in;
        const char *full; /* the image's first form (every form is part of it), or NULL */
        size_t full_len;
        uint64_t bigrams[1024 / 64]; /* bigram_bit() of each two bytes of full */
};

static void eval_init(struct eval *ev, const struct policy_input *in)
{
        *ev = (struct eval){.in = in};
        if (!in->image || !in->image->n_forms)
                return;
        ev->full = in->image->forms[0];
        ev->full_len = strlen(ev->full);
        for (size_t i = 0; i + 1 < ev->full_len; i++) {
                unsigned bit =
                    bigram_bit((unsigned char)ev->full[i], (unsigned char)ev->full[i + 1]);
                ev->bigrams[bit / 64] |= 1ULL << (bit % 64);
        }
}

/* The form of the image the condition holds for, or NULL. */
static const char *image_condition_form(const struct policy_condition *c, const struct eval *ev)
{
        const struct image_ref *image = ev->in->image;

        if (!ev->full)
                return NULL;
        /* A plain run missing from the first form is missing from all of them: its first
         * two bytes, then the run itself. Most rules of a long policy stop here. */
        if (c->bigram != NO_BIGRAM && !(ev->bigrams[c->bigram / 64] & (1ULL << (c->bigram % 64))))
                return NULL;
        if (c->literal_len > c->literal_prefix &&
            !memmem(ev->full, ev->full_len, c->glob + c->literal_offset, c->literal_len))
                return NULL;
        for (size_t f = 0; f < image->n_forms; f++)
                if (condition_matches(c, image->forms[f]))
                        return image->forms[f];
        return NULL;
}

/* The text a condition other than image= is matched on; NULL when the input has none. */
static const char *condition_text(const struct policy_condition *c, const struct policy_input *in)
{
        switch (c->kind) {
        case POLICY_COND_ANNOTATION:
                return annotation_value(in, c->key);
        case POLICY_COND_NAMESPACE:
                return in->k8s_namespace;
        case POLICY_COND_POD:
                return in->k8s_pod;
        case POLICY_COND_CONTAINER:
                return in->k8s_container;
        default:
                return NULL;
        }
}

static bool rule_holds(const struct policy_rule *rule, const struct eval *ev,
                       const char **image_form)
{
        *image_form = NULL;
        for (size_t i = 0; i < rule->n_conditions; i++) {
                const struct policy_condition *c = &rule->conditions[i];
                if (c->kind == POLICY_COND_IMAGE) {
                        const char *form = image_condition_form(c, ev);
                        if (!form)
                                return false;
                        if (!*image_form)
                                *image_form = form;
                } else {
                        const char *text = condition_text(c, ev->in);
                        if (!text || !condition_matches(c, text))
                                return false;
                }
        }
        return true;
}

/*
 * The most a container with this memory limit gets (0: no limit): whole pages
 * below it, as tmpfs rounds its size up to pages, but never less than the one
 * page a tmpfs needs, so that a limit under 4096 bytes still clamps.
 */
static uint64_t page_limit(uint64_t memory_limit)
{
        uint64_t pages = size_pages_down(memory_limit);
        return memory_limit && pages < SIZE_PAGE_BYTES ? SIZE_PAGE_BYTES : pages;
}

static void clamp(struct policy_decision *out, uint64_t limit, const char *what)
{
        if (limit && out->bytes > limit) {
                struct size_text want = size_format(out->bytes), cap = size_format(limit);
                snprintf(out->warning, sizeof(out->warning), "%s clamped to the %s of %s", want.s,
                         what, cap.s);
                out->bytes = limit;
        }
}

int policy_decide(const struct policy *p, const struct policy_input *in,
                  struct policy_decision *out, struct shm_error *err)
{
        struct eval ev;

        memset(out, 0, sizeof(*out));
        eval_init(&ev, in);
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct policy_rule *rule = &p->rules[i];
                if (!rule_holds(rule, &ev, &out->image_form))
                        continue;
                out->rule = rule;
                switch (rule->action) {
                case POLICY_SHM_KEEP:
                        out->kind = DECISION_KEEP;
                        return 0;
                case POLICY_SHM_HOST:
                        out->kind = DECISION_HOST;
                        return 0;
                case POLICY_SHM_SIZE:
                        out->bytes = rule->size;
                        break;
                case POLICY_SHM_PERCENT:
                        out->bytes = size_percent_of(
                            in->memory_limit ? in->memory_limit : in->host_memory, rule->percent);
                        if (rule->max && out->bytes > rule->max)
                                out->bytes = rule->max;
                        break;
                case POLICY_SHM_REQUEST: {
                        const char *key = NULL;
                        for (size_t c = 0; c < rule->n_conditions && !key; c++)
                                if (rule->conditions[c].kind == POLICY_COND_ANNOTATION)
                                        key = rule->conditions[c].key;
                        const char *value = annotation_value(in, key);
                        struct shm_error e = {0};
                        if (size_parse(value, &out->bytes, &e) < 0)
                                return shm_error_set(err, EINVAL,
                                                     "annotation '%s' (rule %s:%u): %s", key,
                                                     rule->file, rule->line, e.message);
                        clamp(out, rule->max, "rule's max=");
                        break;
                }
                }
                clamp(out, page_limit(in->memory_limit), "memory limit");
                /* tmpfs reads size=0 as "unlimited": never ask for less than a page. */
                if (out->bytes < SIZE_PAGE_BYTES)
                        out->bytes = SIZE_PAGE_BYTES;
                out->kind = DECISION_SIZE;
                return 0;
        }
        out->kind = DECISION_NO_MATCH;
        return 0;
}

const char *policy_action_name(enum policy_action action)
{
        switch (action) {
        case POLICY_SHM_SIZE:
                return "size";
        case POLICY_SHM_PERCENT:
                return "percent";
        case POLICY_SHM_REQUEST:
                return "request";
        case POLICY_SHM_HOST:
                return "host";
        case POLICY_SHM_KEEP:
                return "keep";
        }
        return "unknown";
}

static const char *condition_key_name(enum policy_condition_kind kind)
{
        switch (kind) {
        case POLICY_COND_IMAGE:
                return "image";
        case POLICY_COND_ANNOTATION:
                return "annotation";
        case POLICY_COND_NAMESPACE:
                return "namespace";
        case POLICY_COND_POD:
                return "pod";
        case POLICY_COND_CONTAINER:
                return "container";
        }
        return "unknown";
}

/* The shortest policy spelling of a size: 2147483648 -> "2g". */
static struct size_text compact_size(uint64_t bytes)
{
        static const char units[] = "tgmk";
        struct size_text t;
        for (unsigned i = 0; i < 4; i++) {
                unsigned shift = 10 * (4 - i);
                if (bytes >= (1ULL << shift) && bytes % (1ULL << shift) == 0) {
                        snprintf(t.s, sizeof(t.s), "%llu%c", (unsigned long long)(bytes >> shift),
                                 units[i]);
                        return t;
                }
        }
        snprintf(t.s, sizeof(t.s), "%llu", (unsigned long long)bytes);
        return t;
}

void policy_rule_format(const struct policy_rule *rule, char *buf, size_t size)
{
        size_t used = 0;
        int n;

#define APPEND(...)                                                                                \
        do {                                                                                       \
                n = snprintf(buf + used, size - used, __VA_ARGS__);                                \
                if (n < 0 || (size_t)n >= size - used)                                             \
                        return;                                                                    \
                used += (size_t)n;                                                                 \
        } while (0)

        if (!size)
                return;
        buf[0] = '\0';
        for (size_t i = 0; i < rule->n_conditions; i++) {
                const struct policy_condition *c = &rule->conditions[i];
                if (c->kind == POLICY_COND_ANNOTATION)
                        APPEND("annotation:%s=%s ", c->key, c->glob);
                else
                        APPEND("%s=%s ", condition_key_name(c->kind), c->glob);
        }
        switch (rule->action) {
        case POLICY_SHM_SIZE:
                APPEND("shm=%s", compact_size(rule->size).s);
                break;
        case POLICY_SHM_PERCENT:
                APPEND("shm=%u%%", rule->percent);
                break;
        default:
                APPEND("shm=%s", policy_action_name(rule->action));
                break;
        }
        if (rule->max)
                APPEND(" max=%s", compact_size(rule->max).s);
#undef APPEND
}
