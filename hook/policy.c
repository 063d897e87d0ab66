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

/*
 * Plain characters of a glob match only themselves (fnmatch without flags),
 * so every text a glob matches starts with its leading plain run and contains
 * each later one. Record the leading run and the longest run before any
 * bracket or escape: two cheap tests that pass over most rules of a long
 * policy without calling fnmatch.
 */
static void glob_literals(struct policy_condition *c)
{
        const char *s = c->glob;

        c->literal_prefix = strcspn(s, "*?[\\");
        c->literal_offset = 0;
        c->literal_len = c->literal_prefix;
        for (;;) {
                size_t run = strcspn(s, "*?[\\");
                if (run > c->literal_len) {
                        c->literal_offset = (size_t)(s - c->glob);
                        c->literal_len = run;
                }
                if (s[run] != '*' && s[run] != '?')
                        break;
                s += run + 1;
        }
}

/*
 * Parse one rule. Returns 1 for a rule, 0 for a problem (recorded), or
 * -ENOMEM. `tokens` are NUL-terminated words of the line.
 */
static int parse_rule(struct policy *p, const char *file, unsigned line, char **tokens,
                      size_t n_tokens, struct policy_condition *conditions,
                      struct policy_rule *rule)
{
        struct shm_error e = {0};
        bool have_action = false;
        const char *max_text = NULL;

        *rule = (struct policy_rule){.file = file, .line = line, .conditions = conditions};

        for (size_t i = 0; i < n_tokens; i++) {
                char *token = tokens[i];
                char *eq = strchr(token, '=');
                if (!eq) {
                        add_problem(p, file, line, "'%s' is not a key=value token", token);
                        goto problem;
                }
                *eq = '\0';
                const char *key = token, *value = eq + 1;

                if (strcmp(key, "image") == 0 || strncmp(key, "annotation:", 11) == 0) {
                        bool is_image = key[0] == 'i';
                        const char *problem;
                        if (!is_image && !key[11]) {
                                add_problem(p, file, line,
                                            "'annotation:' needs a key, as in "
                                            "'annotation:example.com/shm=*'");
                                goto problem;
                        }
                        if (!*value) {
                                add_problem(p, file, line, "'%s=' needs a pattern", key);
                                goto problem;
                        }
                        problem = glob_problem(value);
                        if (problem) {
                                add_problem(p, file, line, "pattern '%s' %s", value, problem);
                                goto problem;
                        }
                        rule->conditions[rule->n_conditions++] = (struct policy_condition){
                            .kind = is_image ? POLICY_COND_IMAGE : POLICY_COND_ANNOTATION,
                            .key = is_image ? NULL : key + 11,
                            .glob = value,
                        };
                        glob_literals(&rule->conditions[rule->n_conditions - 1]);
                } else if (strcmp(key, "shm") == 0) {
                        if (have_action) {
                                add_problem(p, file, line, "a rule takes exactly one shm= action");
                                goto problem;
                        }
                        have_action = true;
                        if (strcmp(value, "host") == 0) {
                                rule->action = POLICY_SHM_HOST;
                        } else if (strcmp(value, "keep") == 0) {
                                rule->action = POLICY_SHM_KEEP;
                        } else if (strcmp(value, "request") == 0) {
                                rule->action = POLICY_SHM_REQUEST;
                        } else if (*value && value[strlen(value) - 1] == '%') {
                                rule->action = POLICY_SHM_PERCENT;
                                if (percent_parse(value, &rule->percent, &e) < 0) {
                                        add_problem(p, file, line, "shm=%s: %s", value, e.message);
                                        goto problem;
                                }
                        } else {
                                rule->action = POLICY_SHM_SIZE;
                                if (size_parse(value, &rule->size, &e) < 0) {
                                        add_problem(p, file, line,
                                                    "shm=%s: %s; or use N%%, request, host, "
                                                    "keep",
                                                    value, e.message);
                                        goto problem;
                                }
                        }
                } else if (strcmp(key, "max") == 0) {
                        if (max_text) {
                                add_problem(p, file, line, "max= is given twice");
                                goto problem;
                        }
                        max_text = value;
                        if (size_parse(value, &rule->max, &e) < 0) {
                                add_problem(p, file, line, "max=%s: %s", value, e.message);
                                goto problem;
                        }
                } else {
                        add_problem(p, file, line,
                                    "unknown key '%s' (expected image=, annotation:KEY=, shm= "
                                    "or max=)",
                                    key);
                        goto problem;
                }
        }

        if (!have_action) {
                add_problem(p, file, line,
                            "rule has no shm= action (shm=SIZE, N%%, request, host or keep)");
                goto problem;
        }
        if (max_text && rule->action != POLICY_SHM_REQUEST && rule->action != POLICY_SHM_PERCENT) {
                add_problem(p, file, line, "max= applies only to shm=request and shm=N%%");
                goto problem;
        }
        if (rule->action == POLICY_SHM_REQUEST) {
                bool has_annotation = false;
                for (size_t i = 0; i < rule->n_conditions; i++)
                        has_annotation |= rule->conditions[i].kind == POLICY_COND_ANNOTATION;
                if (!has_annotation) {
                        add_problem(p, file, line,
                                    "shm=request takes its size from an annotation: add a "
                                    "condition such as 'annotation:example.com/shm-size=*'");
                        goto problem;
                }
        }
        return 1;

problem:
        return 0;
}

static int push_rule(struct policy *p, const struct policy_rule *rule)
{
        if (p->n_rules == p->cap_rules) {
                size_t cap = p->cap_rules ? p->cap_rules * 2 : 16;
                struct policy_rule *grown = realloc(p->rules, cap * sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                p->rules = grown;
                p->cap_rules = cap;
        }
        p->rules[p->n_rules++] = *rule;
        return 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool rule_holds(const struct policy_rule *rule, const struct policy_input *in,
                       const char **image_form);

/*
 * Parse `text` (len bytes, text[len] == '\0'), which the policy now owns:
 * tokens are cut in place and rules point into it, so a policy of 10,000
 * rules costs two allocations, not tens of thousands.
 */
static int parse_owned_text(struct policy *p, const char *file_name, char *text, size_t len,
                            struct shm_error *err)
{
        const char *file;
        struct policy_condition *conditions = NULL;
        unsigned line_no = 0;
        int r;

        if (own_block(p, text) < 0) {
                free(text);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        file = intern_file(p, file_name);
        if (!file)
                return shm_error_set(err, ENOMEM, "out of memory");
        if (has_nul_byte(text, len))
                return add_problem(p, file, 0, "contains a NUL byte; is this a text file?") < 0
                           ? shm_error_set(err, ENOMEM, "out of memory")
                           : 0;
        size_t first_rule = p->n_rules, used = 0, cap = 0;

        for (char *line = text, *end = text + len; line < end;) {
                char *nl = memchr(line, '\n', (size_t)(end - line));
                size_t line_len = nl ? (size_t)(nl - line) : (size_t)(end - line);
                char *next = line + line_len + (nl ? 1 : 0);
                line[line_len] = '\0';
                line_no++;

                if (line_len > POLICY_LINE_MAX) {
                        r = add_problem(p, file, line_no, "line is longer than %d bytes",
                                        POLICY_LINE_MAX);
                        if (r < 0)
                                goto oom;
                        line = next;
                        continue;
                }

                char *tokens[POLICY_MAX_TOKENS];
                size_t n_tokens = 0;
                bool too_many = false;
                for (char *s = line;;) {
                        while (is_blank(*s))
                                s++;
                        if (!*s || *s == '#')
                                break;
                        if (n_tokens == POLICY_MAX_TOKENS) {
                                too_many = true;
                                break;
                        }
                        tokens[n_tokens++] = s;
                        while (*s && !is_blank(*s))
                                s++;
                        if (*s)
                                *s++ = '\0';
                }
                line = next;
                if (too_many) {
                        if (add_problem(p, file, line_no, "more than %d tokens on one line",
                                        POLICY_MAX_TOKENS) < 0)
                                goto oom;
                        continue;
                }
                if (n_tokens == 0)
                        continue;
                if (p->n_rules_read >= POLICY_MAX_RULES) {
                        if (add_problem(p, file, line_no, "more than %d rules in the policy",
                                        POLICY_MAX_RULES) < 0)
                                goto oom;
                        break;
                }

                if (p->first_match_for) {
                        /* Hook mode: check every rule, keep only the first that matches. */
                        struct policy_condition scratch[POLICY_MAX_TOKENS];
                        struct policy_rule rule;
                        const char *form;
                        r = parse_rule(p, file, line_no, tokens, n_tokens, scratch, &rule);
                        if (r < 0)
                                goto oom;
                        if (r == 0)
                                continue;
                        p->n_rules_read++;
                        if (p->n_rules || !rule_holds(&rule, p->first_match_for, &form))
                                continue;
                        size_t size = rule.n_conditions * sizeof(*scratch);
                        rule.conditions = malloc(size ? size : 1);
                        if (!rule.conditions || own_block(p, rule.conditions) < 0) {
                                free(rule.conditions);
                                goto oom;
                        }
                        memcpy(rule.conditions, scratch, size);
                        if (push_rule(p, &rule) < 0)
                                goto oom;
                        continue;
                }
                if (used + n_tokens > cap) {
                        size_t want = cap ? cap * 2 : 64;
                        while (want < used + n_tokens)
                                want *= 2;
                        struct policy_condition *grown =
                            realloc(conditions, want * sizeof(*conditions));
                        if (!grown)
                                goto oom;
                        conditions = grown;
                        cap = want;
                }
                struct policy_rule rule;
                r = parse_rule(p, file, line_no, tokens, n_tokens, conditions + used, &rule);
                if (r < 0)
                        goto oom;
                if (r > 0) {
                        p->n_rules_read++;
                        if (push_rule(p, &rule) < 0)
                                goto oom;
                        used += rule.n_conditions;
                }
        }
        if (!conditions)
                return 0;
        if (own_block(p, conditions) < 0)
                goto oom;
        /* The array moved as it grew: point this file's rules at their conditions, in order. */
        for (size_t i = first_rule, offset = 0; i < p->n_rules; i++) {
                p->rules[i].conditions = conditions + offset;
                offset += p->rules[i].n_conditions;
        }
        return 0;
oom:
        if (!conditions || !p->n_blocks || p->blocks[p->n_blocks - 1] != conditions)
                free(conditions);
        p->n_rules = first_rule; /* their conditions are gone */
        return shm_error_set(err, ENOMEM, "out of memory while reading '%s'", file);
}

int policy_parse_text(struct policy *p, const char *file_name, const char *text, size_t len,
                      struct shm_error *err)
{
        char *copy = malloc(len + 1);
        if (!copy)
                return shm_error_set(err, ENOMEM, "out of memory");
        memcpy(copy, text, len);
        copy[len] = '\0';
        return parse_owned_text(p, file_name, copy, len, err);
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
 * hook) may own it. In any other user namespace (rootless Podman runs the hook
 * in the user's) the owner protects nothing: root's files show as the
 * overflow uid there, the hook has no privilege the user lacks, and a policy
 * the user wrote can act only on that user's own containers. Group- or
 * world-writable files and directories stay refused everywhere: they would
 * let other users steer those containers.
 */
static const char *unsafe_owner(const struct policy *p, const struct stat *st)
{
        if (p->userns.initial && st->st_uid != 0 && st->st_uid != geteuid())
                return "refusing it: it is not owned by root";
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return "refusing it: group or others can write it";
        return NULL;
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
        if (read_fd_bounded(fd, POLICY_FILE_MAX_BYTES, "the file", &text, &len, &e) < 0)
                return file_problem(p, path, "cannot read: ", e.message, err);
        return parse_owned_text(p, path, steal_pointer(&text), len, err);
}

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
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
                qsort(names, n, sizeof(*names), compare_names);
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

static int load(struct policy *p, const char *path, const struct policy_input *first_match_for,
                struct shm_error *err)
{
        struct stat st;
        int r;

        memset(p, 0, sizeof(*p));
        p->first_match_for = first_match_for;
        userns_current(&p->userns, NULL);
        if (!path) {
                r = load_dir(p, POLICY_DEFAULT_DIR, true, err);
                if (r < 0)
                        return r;
                return load_file(p, POLICY_DEFAULT_FILE, true, err);
        }
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                return load_dir(p, path, false, err);
        return load_file(p, path, false, err);
}

int policy_load(struct policy *p, const char *path, struct shm_error *err)
{
        return load(p, path, NULL, err);
}

int policy_load_first_match(struct policy *p, const char *path, const struct policy_input *in,
                            struct shm_error *err)
{
        return load(p, path, in, err);
}

void policy_free(struct policy *p)
{
        free(p->rules);
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

static bool rule_holds(const struct policy_rule *rule, const struct policy_input *in,
                       const char **image_form)
{
        *image_form = NULL;
        for (size_t i = 0; i < rule->n_conditions; i++) {
                const struct policy_condition *c = &rule->conditions[i];
                if (c->kind == POLICY_COND_IMAGE) {
                        const struct image_ref *image = in->image;
                        const char *form = NULL;
                        if (!image && in->find_image)
                                image = in->find_image(in->find_image_ctx);
                        if (!image)
                                return false;
                        /* Every form is part of the first (imageref.h): a plain run missing
                         * from it is missing from all of them. */
                        const char *full = image->forms[0];
                        if (c->literal_len > c->literal_prefix &&
                            !memmem(full, strlen(full), c->glob + c->literal_offset,
                                    c->literal_len))
                                return false;
                        for (size_t f = 0; f < image->n_forms && !form; f++)
                                if (condition_matches(c, image->forms[f]))
                                        form = image->forms[f];
                        if (!form)
                                return false;
                        if (!*image_form)
                                *image_form = form;
                } else {
                        const char *value = annotation_value(in, c->key);
                        if (!value || !condition_matches(c, value))
                                return false;
                }
        }
        return true;
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
        memset(out, 0, sizeof(*out));
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct policy_rule *rule = &p->rules[i];
                if (!rule_holds(rule, in, &out->image_form))
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
                /* Whole pages below the limit: tmpfs rounds its size up to pages. */
                clamp(out, in->memory_limit & ~(uint64_t)4095, "memory limit");
                /* tmpfs reads size=0 as "unlimited": never ask for less than a page. */
                if (out->bytes < 4096)
                        out->bytes = 4096;
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
                if (c->kind == POLICY_COND_IMAGE)
                        APPEND("image=%s ", c->glob);
                else
                        APPEND("annotation:%s=%s ", c->key, c->glob);
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
