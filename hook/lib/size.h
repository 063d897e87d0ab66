/* SPDX-License-Identifier: Apache-2.0 */
/* The SIZE grammar of the policy language and of shm=request annotations. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest SIZE text accepted; bounds annotation values too. */
#define SIZE_TEXT_MAX 32

/*
 * Parse SIZE: a positive decimal integer of bytes with an optional binary unit
 * k, m, g, t (any case, optional b or B), Kubernetes' Ki, Mi, Gi, Ti, or the
 * KiB, MiB, GiB, TiB that size_format() prints. "2g" == "2Gi" == "2GiB" ==
 * 2147483648. Zero, signs, fractions, spaces, overflow and anything trailing
 * are errors. The message quotes the text.
 */
int size_parse(const char *text, uint64_t *bytes, struct shm_error *err);

/* Parse "N%" with N an integer from 1 to 100. */
int percent_parse(const char *text, unsigned *percent, struct shm_error *err);

/* Human form of a byte count: "2 GiB", "62.50 MiB", "512 B". */
struct size_text {
        char s[32];
};
struct size_text size_format(uint64_t bytes);

/* bytes * percent / 100 without overflow, rounded down to whole pages. */
uint64_t size_percent_of(uint64_t total, unsigned percent);

/* The lower of two limits, where 0 means "no limit". */
uint64_t size_lower_limit(uint64_t a, uint64_t b);

/* tmpfs sizes are whole pages (the hook's targets are x86_64 and arm64 with 4 KiB pages). */
#define SIZE_PAGE_BYTES 4096ULL

/* bytes rounded down, or up (saturating), to whole pages. */
uint64_t size_pages_down(uint64_t bytes);
uint64_t size_pages_up(uint64_t bytes);
