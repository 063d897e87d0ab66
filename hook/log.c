/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int log_max_priority = LOG_INFO;
static bool log_to_syslog;

void log_init(int max_priority, bool use_syslog)
{
        log_max_priority = max_priority;
        log_to_syslog = use_syslog;
        /* Connect and read the time zone now, in the host's mount namespace: the hook
         * logs its decision after joining the container's. */
        if (use_syslog) {
                tzset();
                openlog("oci-shm-hook", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        }
}

/*
 * Messages quote input (annotations, image names, paths): control characters
 * are replaced so no input can forge a line of its own in runc's error output
 * or the log.
 */
void log_msg(int priority, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;

        if (priority > log_max_priority)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        for (unsigned char *c = (unsigned char *)buf; *c; c++)
                if (*c < 0x20 || *c == 0x7f)
                        *c = '?';
        if (log_to_syslog)
                syslog(priority, "%s", buf);
        if (priority <= LOG_WARNING)
                fprintf(stderr, "oci-shm-hook: %s%s\n",
                        priority <= LOG_ERR ? "error: " : "warning: ", buf);
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
