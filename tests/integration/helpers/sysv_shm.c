/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the status test's root file systems (built static): create COUNT SysV
 * shared memory segments of BYTES each, attach each ATTACH times, print
 * "SYSV_READY", then wait until killed, so the segments stay attached.
 *   sysv_shm COUNT BYTES [ATTACH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 3)
                return 2;
        long count = atol(argv[1]), attach = argc > 3 ? atol(argv[3]) : 1;
        size_t bytes = (size_t)atoll(argv[2]);
        for (long i = 0; i < count; i++) {
                int id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
                if (id < 0) {
                        perror("shmget");
                        return 1;
                }
                for (long a = 0; a < attach; a++)
                        if (shmat(id, NULL, 0) == (void *)-1) {
                                perror("shmat");
                                return 1;
                        }
        }
        printf("SYSV_READY\n");
        fflush(stdout);
        for (;;)
                pause();
}
