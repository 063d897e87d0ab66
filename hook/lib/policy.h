/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy language: every rule is compiled (with line numbers for its
 * problems), then evaluated, first match wins, against a fully built input.
 */
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
        POLICY_COND_NAMESPACE, /* Kubernetes identity, from the engine's own keys */
        POLICY_COND_POD,
        POLICY_COND_CONTAINER,
};

/* 24 bytes: a long policy keeps one per condition, and every page is a fault. */
struct policy_condition {
        const char *key; /* annotation key; NULL for the other kinds */
        const char *glob;
        /* Plain characters that every match holds (see struct token in policy.c); a
         * glob is at most POLICY_LINE_MAX bytes. */
        uint16_t literal_prefix;              /* the glob's first characters, at the start */
        uint16_t literal_offset, literal_len; /* a later run, anywhere in the text */
        uint16_t bigram : 11;                 /* that run's first two bytes, hashed */
        enum policy_condition_kind kind : 5;
};

enum policy_action {
        POLICY_SHM_SIZE,
        POLICY_SHM_PERCENT,
        POLICY_SHM_REQUEST,
        POLICY_SHM_HOST,
        POLICY_SHM_KEEP,
};

/* 40 bytes, for the same reason. */
struct policy_rule {
        const char *file; /* owned by struct policy */
        struct policy_condition *conditions;
        union {
                uint64_t size;    /* POLICY_SHM_SIZE */
                unsigned percent; /* POLICY_SHM_PERCENT */
        };
        uint64_t max; /* 0 when no max= */
        unsigned line;
        uint8_t n_conditions; /* at most POLICY_MAX_TOKENS */
        enum policy_action action : 8;
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

/* What the decision is made on, built in full before it. */
struct policy_input {
        const struct image_ref *image; /* NULL: image= conditions never hold */
        /* Only the keys policy_annotation_keys() gives need be here. */
        const struct annotation *annotations;
        size_t n_annotations;
        /* The pod's namespace and name and the container's name, as the engine itself
         * recorded them (never from a pod annotation, which the pod's author writes);
         * NULL outside Kubernetes, where namespace=, pod= and container= never hold. */
        const char *k8s_namespace, *k8s_pod, *k8s_container;
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
        bool needs_image;             /* some rule has an image= condition */
        bool needs_kubernetes;        /* some rule has namespace=, pod= or container= */
        const char **annotation_keys; /* the keys annotation: conditions read, sorted, unique */
        size_t n_annotation_keys, cap_annotation_keys;
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
 * What the decision can read, for the caller to build only that: whether any
 * rule has an image= condition (else no engine lookup is needed), and the
 * annotation keys any rule reads, sorted, each once (every other annotation
 * can be skipped). The keys point into the policy.
 */
bool policy_needs_image(const struct policy *p);
/* Whether some rule reads the pod's namespace or name or the container's name. */
bool policy_needs_kubernetes(const struct policy *p);
size_t policy_annotation_keys(const struct policy *p, const char *const **keys);

/* Compile one file's text; `file` is copied. Used by policy_load and the tests. */
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
