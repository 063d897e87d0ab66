/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linked into bench-hook-norecord with -Wl,--wrap for each function below:
 * everything the hook's apply_decision() (oci-shm-hook/main.c) does only for
 * the decision record (open the directory, read the container's start time,
 * write the record) lands here and does nothing, so that the benchmark can
 * time the hook with and without its record (issue 12). The bench checks that
 * this binary writes no record. (--wrap also catches status.c's calls to
 * proc_start_time(): the `status` of this binary is not for use.)
 */
#include <errno.h>

#include "record.h"

int __wrap_record_dir_open(const char *dir, struct shm_error *err);
int __wrap_proc_start_time(pid_t pid, pid_t *ppid, uint64_t *start_time);
void __wrap_record_write(int dir_fd, const struct decision_record *r);

int __wrap_record_dir_open(const char *dir, struct shm_error *err)
{
        return shm_error_set(err, ENOENT, "'%s': no records in this build", dir);
}

int __wrap_proc_start_time(pid_t pid, pid_t *ppid, uint64_t *start_time)
{
        return -ENOENT;
}

void __wrap_record_write(int dir_fd, const struct decision_record *r)
{
}
