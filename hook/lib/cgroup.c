/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"

#define CGROUP_ROOT     "/sys/fs/cgroup"
#define CGROUP_FILE_MAX 65536
/* v1 reports "no limit" as the largest page-aligned signed value. */
#define UNLIMITED_ABOVE (1ULL << 62)

static char *read_small(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct shm_error err = {0};
        char *text = NULL;
        size_t len;

        if (fd < 0 || read_fd_bounded(fd, 0, CGROUP_FILE_MAX, path, &text, &len, &err) < 0)
                return NULL;
        return text;
}

/* The path of pid's cgroup in the hierarchy whose /proc/PID/cgroup line has `controllers`. */
static char *cgroup_path(pid_t pid, const char *controllers)
{
        char proc[64];
        _cleanup_free_ char *text = NULL;

        snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int)pid);
        if (!(text = read_small(proc)))
                return NULL;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *first = strchr(line, ':'), *second = first ? strchr(first + 1, ':') : NULL;
                if (!second)
                        continue;
                *second = '\0';
                /* A path that climbs is no path of the hierarchy. */
                if (strcmp(first + 1, controllers) == 0 && second[1] == '/' &&
                    !strstr(second + 1, "/.."))
                        return strdup(second + 1);
        }
        return NULL;
}

static uint64_t parse_limit(const char *text)
{
        char *end;
        unsigned long long v = strtoull(text, &end, 10);
        return end != text && (*end == '\n' || *end == '\0') && v < UNLIMITED_ABOVE ? v : 0;
}

static uint64_t v1_limit(pid_t pid)
{
        _cleanup_free_ char *path = cgroup_path(pid, "memory"), *file = NULL, *stat = NULL;
        const char *field;

        if (!path || asprintf(&file, CGROUP_ROOT "/memory%s/memory.stat", path) < 0)
                return 0;
        if (!(stat = read_small(file)) || !(field = strstr(stat, "hierarchical_memory_limit ")))
                return 0;
        return parse_limit(field + strlen("hierarchical_memory_limit "));
}

static uint64_t v2_limit(pid_t pid)
{
        _cleanup_free_ char *path = cgroup_path(pid, "");
        uint64_t lowest = 0;

        if (!path)
                return 0;
        /* From the container's cgroup up to the root (which has no memory.max). */
        for (size_t len = strlen(path); len > 1;) {
                _cleanup_free_ char *file = NULL, *text = NULL;
                path[len] = '\0';
                if (asprintf(&file, CGROUP_ROOT "%s/memory.max", path) < 0)
                        break;
                uint64_t limit = (text = read_small(file)) ? parse_limit(text) : 0;
                if (limit && (!lowest || limit < lowest))
                        lowest = limit;
                len = (size_t)(strrchr(path, '/') - path);
        }
        return lowest;
}

uint64_t cgroup_memory_limit(pid_t pid)
{
        struct statfs sfs;
        if (statfs(CGROUP_ROOT, &sfs) < 0)
                return 0;
        return sfs.f_type == CGROUP2_SUPER_MAGIC ? v2_limit(pid) : v1_limit(pid);
}

uint64_t cgroup_host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
        return pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
}
