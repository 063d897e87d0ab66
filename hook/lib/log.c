/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int log_max_priority = LOG_INFO;
static int syslog_fd = -1;

/*
 * syslog(3) sends on a blocking socket, and a wedged syslog daemon would hold
 * the hook, and the container start, until the runtime's hook timeout. This
 * socket never blocks: a message that does not fit is dropped. It is
 * connected here, in the host's mount namespace: the hook logs its decision
 * after joining the container's.
 */
void log_init(int max_priority, bool use_syslog)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};

        log_max_priority = max_priority;
        if (!use_syslog)
                return;
        syslog_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (syslog_fd >= 0 && connect(syslog_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
                close(syslog_fd);
                syslog_fd = -1;
        }
}

/*
 * "<PRI>oci-shm-hook[PID]: ": RFC 3164 without the optional time stamp, which
 * journald and rsyslog then take from the moment they receive the message.
 * Writing one would mean reading the time zone at every container start, and
 * a static libc's time zone code is a tenth of the hook's resident memory
 * (tests/bench). Its length, or 0 when there is no syslog to send to.
 */
static size_t syslog_header(int priority, char *buf, size_t size)
{
        if (syslog_fd < 0)
                return 0;
        int n = snprintf(buf, size, "<%d>oci-shm-hook[%d]: ", LOG_DAEMON | priority, (int)getpid());
        return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static bool is_continuation(unsigned char c)
{
        return (c & 0xc0) == 0x80;
}

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629, table 3-7 of
 * Unicode), or 0. The second byte's range depends on the first: that is what
 * refuses overlong forms, surrogates and code points above U+10FFFF. A NUL
 * is never a continuation byte, so this reads no further than the string.
 */
static size_t utf8_sequence(const unsigned char *s)
{
        unsigned char c = s[0], lo = 0x80, hi = 0xbf;
        size_t n;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef)
                n = 3;
        else if (c >= 0xf0 && c <= 0xf4)
                n = 4;
        else
                return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        if (c == 0xe0)
                lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
                hi = 0x9f; /* surrogates U+D800..U+DFFF */
        else if (c == 0xf0)
                lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (!is_continuation(s[i]))
                        return 0;
        return n;
}

void log_sanitize(char *text)
{
        unsigned char *r = (unsigned char *)text, *w = r;

        while (*r) {
                size_t n = utf8_sequence(r);
                if (n == 1) {
                        *w++ = *r < 0x20 || *r == 0x7f ? '?' : *r;
                        r++;
                } else if (n == 0) {
                        *w++ = '?'; /* one for each byte that is no part of a character */
                        r++;
                } else if (n == 2 && r[0] == 0xc2 && r[1] <= 0x9f) {
                        *w++ = '?'; /* a C1 control: one character, one '?' */
                        r += 2;
                } else {
                        memmove(w, r, n);
                        w += n;
                        r += n;
                }
        }
        *w = '\0';
}

/*
 * Messages quote input (annotations, image names, paths): control characters
 * and invalid UTF-8 are replaced (log_sanitize) so no input can forge a line
 * of its own, or steer a terminal, in runc's error output or the log.
 */
void log_msg(int priority, const char *fmt, ...)
{
        /* One buffer for the syslog line, the message after its header. */
        char line[4200];
        va_list ap;

        if (priority > log_max_priority)
                return;
        size_t head = syslog_header(priority, line, sizeof(line));
        char *message = line + head;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(line) - head, fmt, ap);
        va_end(ap);
        log_sanitize(message);
        if (head)
                send(syslog_fd, line, strlen(line), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (priority <= LOG_WARNING)
                fprintf(stderr, "oci-shm-hook: %s%s\n",
                        priority <= LOG_ERR ? "error: " : "warning: ", message);
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

const char *log_quoted(const char *value, char *buf, size_t size)
{
        size_t n = 0;
        if (size < 3)
                return "\"\"";
        buf[n++] = '"';
        for (const char *s = value; *s && n + 3 < size; s++) {
                if (*s == '"' || *s == '\\')
                        buf[n++] = '\\';
                buf[n++] = *s;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}
