/* SPDX-License-Identifier: Apache-2.0 */
/* What /proc/PID/stat says of a process: the one parser of it. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* A strict decimal: digits only, no sign, no leading zero, no overflow. */
int proc_parse_u64(const char *s, uint64_t *out);

/*
 * Fields 3 (state), 4 (ppid) and 22 (start time) of /proc/PID/stat, after
 * the comm, which may hold spaces and ')'. state and ppid may be NULL.
 */
int proc_stat_parse(const char *buf, char *state, pid_t *ppid, uint64_t *start_time);
/* Read them for pid from /proc; -ENOENT when the process is gone or a zombie. */
int proc_start_time(pid_t pid, pid_t *ppid, uint64_t *start_time);
