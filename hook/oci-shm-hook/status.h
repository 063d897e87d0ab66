/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci-shm-hook status`: the /dev/shm and SysV shared memory of every running
 * container on the node, from the hook's decision records and a /proc scan.
 * It reads only, except that it removes records of containers that are gone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The whole command: parses its own options (argv[0] is "status"). */
int status_main(int argc, char **argv);

/* The parts below are exposed for the unit tests. */

/* A label value in the Prometheus text format: \ " and newline escaped. */
void status_prom_escape(const char *in, char *out, size_t size);

/*
 * From /proc/PID/cgroup text: the memory controller's path (cgroup v1), or
 * the unified one ("0::PATH"). Fills path; returns 1 for v1, 2 for v2, 0
 * when neither is there or the path is unusable (".." components).
 */
int status_cgroup_memory_path(const char *text, char *path, size_t size);

/* A container id from the last component of a cgroup path, or false. */
bool status_id_from_cgroup(const char *path, char *id, size_t size);

/* The engine from the parent's comm and the cgroup path. */
const char *status_guess_engine(const char *parent_comm, const char *cgroup_path);

/* "2.0G", "12M", "512" as df -h prints them. */
void status_human(uint64_t bytes, char *buf, size_t size);

/* Percent used, rounded up as df does; 0 for an empty or unknown size. */
unsigned status_use_percent(uint64_t used, uint64_t size);

/* A memory cgroup limit file's text: false when none ("max", or huge). */
bool status_parse_limit(const char *text, uint64_t *bytes);
