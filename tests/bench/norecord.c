/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linked into bench-hook-norecord with -Wl,--wrap=record_write: the hook's
 * call to record_write() lands here and writes nothing, so the benchmark can
 * time the hook with and without its decision record (issue 12).
 */
#include "record.h"

void __wrap_record_write(const struct decision_record *r);

void __wrap_record_write(const struct decision_record *r)
{
        (void)r;
}
