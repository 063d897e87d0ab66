/* SPDX-License-Identifier: Apache-2.0 */
/* Logging: syslog (ident oci-shm-hook) for decisions, stderr for problems. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

/* max_priority: LOG_ERR .. LOG_DEBUG; messages above it are dropped. */
void log_init(int max_priority, bool use_syslog);

/* Warnings and errors also go to stderr, where runc and Podman show them. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "error", "warning", "info", "debug" -> priority; -1 when unknown. */
int log_level_parse(const char *name);
