/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int log_max_priority = LOG_INFO;
static bool log_to_syslog;

void log_init(int max_priority, bool use_syslog)
{
        log_max_priority = max_priority;
        log_to_syslog = use_syslog;
        if (use_syslog)
                openlog("oci-shm-hook", LOG_PID, LOG_DAEMON);
}

void log_msg(int priority, const char *fmt, ...)
{
        va_list ap;

        if (priority > log_max_priority)
                return;
        if (log_to_syslog) {
                va_start(ap, fmt);
                vsyslog(priority, fmt, ap);
                va_end(ap);
        }
        if (priority <= LOG_WARNING) {
                va_start(ap, fmt);
                fprintf(stderr, "oci-shm-hook: %s", priority <= LOG_ERR ? "error: " : "warning: ");
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
                va_end(ap);
        }
}

int log_level_parse(const char *name)
{
        static const struct {
                const char *name;
                int priority;
        } levels[] = {
            {"error", LOG_ERR}, {"warning", LOG_WARNING}, {"info", LOG_INFO}, {"debug", LOG_DEBUG}};
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                if (strcmp(name, levels[i].name) == 0)
                        return levels[i].priority;
        return -1;
}
