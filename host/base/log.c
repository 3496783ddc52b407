/* log.c - the host's logger (see log.h). */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static pio_log_level current = PIO_LOG_INFO;

static const char *const names[] = {"debug", "info", "warn", "error"};
static const char *const labels[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_set_level(pio_log_level level) { current = level; }

bool log_parse_level(const char *s, pio_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (pio_log_level)i;
            return true;
        }
    }
    return false;
}

bool log_enabled(pio_log_level level) { return level >= current && level <= PIO_LOG_ERROR; }

void log_msgv(pio_log_level level, const char *who, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One fprintf per line, so lines from one process never interleave. */
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            (long)(tv.tv_usec / 1000), labels[level], who, msg);
}

void log_msg(pio_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_msgv(level, who, fmt, ap);
    va_end(ap);
}
