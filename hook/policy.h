/* SPDX-License-Identifier: Apache-2.0 */
/* The policy language: parsing with line numbers, and first-match evaluation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "imageref.h"
#include "userns.h"

#define POLICY_DEFAULT_FILE   "/etc/oci-shm-hook/policy.conf"
#define POLICY_DEFAULT_DIR    "/etc/oci-shm-hook/policy.d"
#define POLICY_FILE_MAX_BYTES (4u << 20)
#define POLICY_MAX_FILES      1024
#define POLICY_MAX_RULES      100000
#define POLICY_LINE_MAX       4096
#define POLICY_MAX_TOKENS     32
#define POLICY_MAX_PROBLEMS   1000

enum policy_condition_kind {
        POLICY_COND_IMAGE,
        POLICY_COND_ANNOTATION,
};

struct policy_condition {
        enum policy_condition_kind kind;
        const char *key; /* annotation key; NULL for image= */
        const char *glob;
        /* Plain characters that every match holds (see glob_literals in policy.c). */
        size_t literal_prefix;              /* the glob's first characters, at the start */
        size_t literal_offset, literal_len; /* a later run, anywhere in the text */
};

enum policy_action {
        POLICY_SHM_SIZE,
        POLICY_SHM_PERCENT,
        POLICY_SHM_REQUEST,
        POLICY_SHM_HOST,
        POLICY_SHM_KEEP,
};

struct policy_rule {
        const char *file; /* owned by struct policy */
        unsigned line;
        struct policy_condition *conditions;
        size_t n_conditions;
        enum policy_action action;
        uint64_t size;    /* POLICY_SHM_SIZE */
        unsigned percent; /* POLICY_SHM_PERCENT */
        uint64_t max;     /* 0 when no max= */
};

struct policy_problem {
        const char *file;
        unsigned line; /* 0: about the whole file */
        char *message;
};

struct annotation {
        const char *key;
        const char *value;
};

struct policy_input {
        const struct image_ref *image; /* NULL: image= conditions never hold... */
        /* ...unless this finds it: called when an image= condition is first tested, so a
         * policy without one never costs an engine lookup. */
        const struct image_ref *(*find_image)(void *ctx);
        void *find_image_ctx;
        const struct annotation *annotations;
        size_t n_annotations;
        uint64_t memory_limit; /* 0: no limit */
        uint64_t host_memory;
};

struct policy {
        struct policy_rule *rules;
        size_t n_rules, cap_rules;
        char **files;
        size_t n_files;
        void **blocks; /* file texts and condition arrays the rules point into */
        size_t n_blocks;
        const struct policy_input *first_match_for; /* see policy_load_first_match() */
        size_t n_rules_read;                        /* valid rules read, kept or not */
        struct policy_problem *problems;
        size_t n_problems, cap_problems;
        struct userns userns; /* where it was loaded: decides who may own it */
};

/*
 * Load the policy from `path` (a file, or a directory whose *.conf files are
 * read in lexical order), or, when path is NULL, from the default drop-in
 * directory followed by the default file. Missing defaults are an empty
 * policy; an explicitly named path that is missing is a problem.
 * Syntax and I/O problems are collected in p->problems (check prints them all);
 * only running out of memory fails the call.
 */
int policy_load(struct policy *p, const char *path, struct shm_error *err);

/*
 * The same for hook mode: every rule is parsed and checked (a problem
 * anywhere still makes the policy invalid), but only the first rule that
 * matches `in` is kept, so p->rules holds at most that one and
 * policy_decide() gives what it gives on the whole policy. A long policy
 * then costs no memory per rule. `in` must outlive the load.
 */
int policy_load_first_match(struct policy *p, const char *path, const struct policy_input *in,
                            struct shm_error *err);

/* Parse one file's text; `file` is copied. Used by policy_load and the tests. */
int policy_parse_text(struct policy *p, const char *file, const char *text, size_t len,
                      struct shm_error *err);

void policy_free(struct policy *p);

enum decision_kind {
        DECISION_NO_MATCH,
        DECISION_KEEP,
        DECISION_SIZE,
        DECISION_HOST,
};

struct policy_decision {
        enum decision_kind kind;
        const struct policy_rule *rule;
        const char *image_form; /* the image form a glob matched, if any */
        uint64_t bytes;         /* DECISION_SIZE: the target size */
        char warning[256];      /* set when the size was clamped */
};

/*
 * First matching rule wins. Fails with EINVAL only for a shm=request whose
 * annotation value is not a valid SIZE; the message names the annotation.
 */
int policy_decide(const struct policy *p, const struct policy_input *in,
                  struct policy_decision *out, struct shm_error *err);

/* Does the glob hold for any form of the reference? Returns the form or NULL. */
const char *policy_image_matches(const char *glob, const struct image_ref *image);

const char *policy_action_name(enum policy_action action);

/* The rule as policy text, for explain: "image=selenium/... shm=2g". */
void policy_rule_format(const struct policy_rule *rule, char *buf, size_t size);
