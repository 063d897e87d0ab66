/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memory a container's writes can be charged to, as the kernel says.
 *
 * tmpfs pages are charged to the writer's memory cgroup and every cgroup
 * above it, so a /dev/shm larger than the lowest limit on that path only
 * turns ENOSPC into an OOM kill. A pod's containers share one tmpfs; a
 * container without a limit of its own in a pod that has one is bounded by
 * the pod's. The path comes from /proc/PID/cgroup, the kernel's record, not
 * from config.json.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * The lowest memory limit on the path from pid's memory cgroup to the root
 * (cgroup v1: hierarchical_memory_limit; v2: every memory.max on the way).
 * 0 when there is none or it cannot be read: the caller then has only the
 * config's limit to go by.
 */
uint64_t cgroup_memory_limit(pid_t pid);

/* The host's physical memory in bytes (0 when unknown): shm=N% without a limit. */
uint64_t cgroup_host_memory(void);
