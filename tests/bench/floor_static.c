/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The static floor of the benchmark: the least any exec'd hook must do to
 * resize a container's /dev/shm. Linked with -static: no dynamic loader.
 * It reads the state on stdin, takes the pid from it, joins that process's
 * mount namespace and reconfigures the tmpfs at argv[1] to argv[2] bytes.
 *
 *   bench-floor-static /path/to/rootfs/dev/shm BYTES < state.json
 */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        static char state[1 << 16];
        size_t len = 0;
        char drain[1 << 16];
        ssize_t n;

        if (argc != 3)
                return 2;
        /* Keep the first 64 KiB (the pid comes early), drain the rest. */
        while ((n = read(STDIN_FILENO, len < sizeof(state) - 1 ? state + len : drain,
                         len < sizeof(state) - 1 ? sizeof(state) - 1 - len : sizeof(drain))) > 0)
                if (len < sizeof(state) - 1)
                        len += (size_t)n;
        if (n < 0)
                return 1;
        state[len] = '\0';
        const char *p = strstr(state, "\"pid\":");
        if (!p)
                return 1;
        int pid = atoi(p + 6);
        if (pid <= 1)
                return 1;

        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 || setns(pidfd, CLONE_NEWNS) < 0)
                return 1;
        int fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 1;
        int fs = fspick(fd, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", argv[2], 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
                return 1;
        return 0;
}
