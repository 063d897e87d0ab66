/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library floors of the benchmark: a program linked exactly like the hook
 * (the yajl_for_hook target: yajl statically where libyajl_s.a exists, so
 * libc is the only shared library) that exits; built with -DFLOOR_LIBC_ONLY,
 * a dynamically linked program that loads libc alone. One call into yajl keeps
 * it with -Wl,--as-needed when it is linked dynamically.
 */
#ifndef FLOOR_LIBC_ONLY
#include <yajl/yajl_version.h>
#endif
#include <unistd.h>

int main(void)
{
#ifdef FLOOR_LIBC_ONLY
        return getpid() > 0 ? 0 : 1;
#else
        return yajl_version() > 0 ? 0 : 1;
#endif
}
