/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decision records: one small file per container the hook acted on, under
 * /run/oci-shm-hook/, named PID-STARTTIME so that `status` can tell a stale
 * record from its name alone (the process is gone, or the pid was reused).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "proc.h"

#define RECORD_DIR       "/run/oci-shm-hook"
#define RECORD_MAX_BYTES 8192
/* The hook prunes stale records when the directory holds about this many. */
#define RECORD_PRUNE_AT 1024
/* Above this many live records the hook writes none (status still scans /proc). */
#define RECORD_MAX_FILES 4096
#define RECORD_VERSION   1

struct decision_record {
        const char *id;
        pid_t pid;
        uint64_t start_time;   /* /proc/PID/stat field 22; 0: read when written */
        const char *engine;    /* "podman", "docker", "containerd", "cri-o", "unknown" */
        const char *image;     /* normalized reference, or NULL */
        const char *rule_file; /* the rule that decided, or NULL */
        unsigned rule_line;
        const char *kind;   /* shm_kind_name() as the hook saw /dev/shm */
        uint64_t target;    /* bytes the rule asked for */
        uint64_t after;     /* bytes of /dev/shm after the hook */
        const char *result; /* grown, kept, mounted, ... */
        int64_t time;       /* seconds since the epoch; 0: now, when written */
};

/*
 * The record directory, opened (and created 0700, root's, when missing). The
 * hook opens it while it is still in the host's mount namespace, so that what
 * a container mounts cannot redirect the write. -errno with *err filled.
 */
int record_dir_open(const char *dir, struct shm_error *err);

/*
 * Write the record for a container into the open directory, atomically (a
 * temporary file renamed into place). `dir` names it in messages. The hook
 * never fails a container for it: the caller logs a failure at debug level.
 */
int record_write_into(int dir_fd, const char *dir, const struct decision_record *r,
                      struct shm_error *err);

/* For the hook: record_write_into() that logs a failure at debug level and returns nothing. */
void record_write(int dir_fd, const struct decision_record *r);

/* record_dir_open() and record_write_into() together. */
int record_write_at(const char *dir, const struct decision_record *r, struct shm_error *err);

/* "PID-STARTTIME": the name of a record file. */
int record_name(pid_t pid, uint64_t start_time, char *buf, size_t size);
bool record_name_parse(const char *name, pid_t *pid, uint64_t *start_time);

/* The text of a record; returns its length, or -E2BIG when it exceeds size. */
int record_format(const struct decision_record *r, char *buf, size_t size);

/*
 * Parse a record in buf[0..len) (NUL-terminated; edited in place: the
 * strings of *r point into buf). Unknown keys are skipped, repeated ones
 * refused; id, pid and start_time are required.
 */
int record_parse(char *buf, size_t len, struct decision_record *r, struct shm_error *err);

/* A record read from disk, its strings in `text`. */
struct record_entry {
        struct decision_record r;
        char *text;
};

struct record_list {
        struct record_entry *items;
        size_t n;
        size_t stale_removed;
};

/*
 * Remove the stale records of dir (process gone or start time changed, and
 * temporary files older than a minute); *live gets the count of the others.
 */
int record_prune_fd(int dir_fd, size_t *live);

/*
 * Load the live records of dir, removing the stale ones. A missing directory
 * is an empty list; one that is not root's alone (0700) is refused.
 */
int record_load(const char *dir, struct record_list *out, struct shm_error *err);
void record_list_free(struct record_list *l);
