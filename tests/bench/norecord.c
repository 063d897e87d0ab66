/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linked into bench-hook-norecord with -Wl,--wrap for each function below:
 * the two calls the hook's apply_decision() (oci-shm-hook/main.c) makes only
 * for the decision record (open the directory, write the record) land here
 * and do nothing, so that the benchmark can time the hook with and without
 * its record (issue 12). The container's start time comes from the read that
 * checks its parent, which the hook makes anyway. The bench checks that this
 * binary writes no record.
 */
#include <errno.h>

#include "record.h"

int __wrap_record_dir_open(const char *dir, struct shm_error *err);
void __wrap_record_write(int dir_fd, const struct decision_record *r);

int __wrap_record_dir_open(const char *dir, struct shm_error *err)
{
        return shm_error_set(err, ENOENT, "'%s': no records in this build", dir);
}

void __wrap_record_write(int dir_fd, const struct decision_record *r)
{
}
