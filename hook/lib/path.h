/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path helpers: engine layouts are matched component by component. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct path_part {
        const char *s;
        size_t len;
};

/* The n-th component counted from the end (0: the last), ignoring repeated and
 * trailing slashes; false when the path has fewer. */
bool path_part_from_end(const char *path, unsigned n, struct path_part *part);

bool path_part_is(const struct path_part *part, const char *word);

/* A new string: path without its last n components; NULL (errno set) when none is left. */
char *path_strip(const char *path, unsigned n);

/* 64 lowercase hex digits: the ids engines make (Podman, CRI-O, containerd, Docker). */
bool path_is_engine_id(const char *s, size_t len);
