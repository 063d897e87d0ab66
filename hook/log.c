/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int log_max_priority = LOG_INFO;
static int syslog_fd = -1;

/*
 * syslog(3) sends on a blocking socket, and a wedged syslog daemon would hold
 * the hook, and the container start, until the runtime's hook timeout. This
 * socket never blocks: a message that does not fit is dropped. It is
 * connected, and the time zone read, here, in the host's mount namespace:
 * the hook logs its decision after joining the container's.
 */
void log_init(int max_priority, bool use_syslog)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};

        log_max_priority = max_priority;
        if (!use_syslog)
                return;
        tzset();
        syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (syslog_fd >= 0 && connect(syslog_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                close(syslog_fd);
                syslog_fd = -1;
        }
}

/* RFC 3164, as glibc writes it: "<PRI>Mmm dd hh:mm:ss oci-shm-hook[PID]: message". */
static void send_syslog(int priority, const char *message)
{
        char stamp[32] = "", line[4200];
        time_t now = time(NULL);
        struct tm tm;

        if (syslog_fd < 0)
                return;
        if (localtime_r(&now, &tm))
                strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
        int n = snprintf(line, sizeof(line), "<%d>%s oci-shm-hook[%d]: %s", LOG_DAEMON | priority,
                         stamp, (int)getpid(), message);
        if (n > 0)
                send(syslog_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
                     MSG_DONTWAIT | MSG_NOSIGNAL);
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
        send_syslog(priority, buf);
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
