/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: syslog (ident oci-shm-hook) for decisions, stderr for problems. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* max_priority: LOG_ERR .. LOG_DEBUG; messages above it are dropped. */
void log_init(int max_priority, bool use_syslog);

/* Warnings and errors also go to stderr, where runc and Podman show them. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Make text safe to show in a terminal or a log, in place: C0 controls and
 * DEL, C1 controls (U+0080..U+009F, as UTF-8 C2 80..C2 9F: CSI is C2 9B)
 * and every byte of invalid UTF-8 (overlong forms, surrogates, truncated
 * sequences, stray continuation bytes, above U+10FFFF) become '?'. Valid
 * UTF-8 stays as it is. The text never grows.
 */
void log_sanitize(char *text);

/* "error", "warning", "info", "debug" -> priority; -1 when unknown. */
int log_level_parse(const char *name);

/*
 * A value from input for a key=value line, in double quotes with '"' and '\\'
 * escaped (log_msg replaces control characters), so that a value such as
 * 'x result=grown' cannot pass for fields of its own. Cut to fit buf.
 */
const char *log_quoted(const char *value, char *buf, size_t size);
