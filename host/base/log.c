/*
 * log.c - the host's logger (see log.h).
 *
 * A line is built whole in a buffer on the caller's stack and written with
 * one write(2), so that lines from the event loop and from the worker
 * threads never interleave (the kernel keeps a write to a pipe of up to
 * PIPE_BUF bytes in one piece, and a line is seldom longer).  Nothing is
 * allocated: a message is logged when memory has run out too.
 *
 * The JSON writer is written here rather than taken from json-c because
 * json-c copies a string's bytes as they are, and a log shipper must get
 * valid UTF-8 whatever a plugin passes: a byte that does not start a valid
 * character becomes U+FFFD.  Level and format are read by every thread
 * and set on the loop's, hence atomics; the scope is per thread.
 */
#include "log.h"

#include "utf8.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char LOG_HOST[] = "plugio";
const char LOG_LWS[] = "lws";

static _Atomic int current = PIO_LOG_INFO;
static _Atomic int format = LOG_TEXT;
static _Atomic int out_fd = 2;
static bool pinned; /* the command line set the level */
static _Thread_local log_scope scope;

static const char *const names[] = {"debug", "info", "warn", "error"};
static const char *const labels[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_set_level(pio_log_level level) { atomic_store_explicit(&current, level, memory_order_relaxed); }

void log_set_format(log_format f) { atomic_store_explicit(&format, f, memory_order_relaxed); }

void log_set_fd(int fd) { atomic_store_explicit(&out_fd, fd, memory_order_relaxed); }

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

bool log_parse_format(const char *s, log_format *out)
{
    if (strcmp(s, "text") == 0)
        *out = LOG_TEXT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_JSON;
    else
        return false;
    return true;
}

void log_pin_level(pio_log_level level)
{
    pinned = true;
    log_set_level(level);
}

void log_configure(log_format f, bool has_level, pio_log_level level)
{
    log_set_format(f);
    if (!pinned)
        log_set_level(has_level ? level : PIO_LOG_INFO);
}

bool log_enabled(pio_log_level level)
{
    return (int)level >= atomic_load_explicit(&current, memory_order_relaxed) && level <= PIO_LOG_ERROR;
}

log_scope log_scope_enter(const char *nsp, const char *socket, const char *event)
{
    log_scope outer = scope;
    scope = (log_scope){nsp, socket, event};
    return outer;
}

void log_scope_leave(log_scope outer) { scope = outer; }

/* ---- lines ----------------------------------------------------------------- */

/* A line being built: never more than cap bytes. */
typedef struct line {
    char *p;
    size_t len, cap;
} line;

static void put(line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void put_str(line *l, const char *s) { put(l, s, strlen(s)); }

/* gmtime_r takes glibc's time-zone lock, which a plugin that faulted
 * inside localtime_r or gmtime_r leaves held (guard.c cannot release
 * it); the log must go on, and UTC needs no time zone: the civil date of
 * a day count is plain arithmetic (the days-from-civil algorithm's
 * inverse, eras of 400 years). */
void log_utc_time(int64_t secs, struct tm *tm)
{
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    memset(tm, 0, sizeof *tm);
    tm->tm_hour = (int)(rem / 3600);
    tm->tm_min = (int)(rem % 3600 / 60);
    tm->tm_sec = (int)(rem % 60);
    tm->tm_wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                     /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* from March 1 */
    int64_t mp = (5 * doy + 2) / 153;
    int64_t year = yoe + era * 400 + (mp >= 10);
    tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
    tm->tm_year = (int)(year - 1900);
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    tm->tm_yday = before[tm->tm_mon] + tm->tm_mday - 1 + (leap && tm->tm_mon > 1);
}

/* "2026-11-25T17:50:01.123Z": ISO 8601, UTC, milliseconds. */
static void put_time(line *l, struct timeval tv)
{
    struct tm tm;
    log_utc_time(tv.tv_sec, &tm);
    char t[40];
    int n = snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000));
    put(l, t, n > 0 ? (size_t)n : 0);
}

/* s as the inside of a JSON string, in at most `room` bytes: cut before
 * the first character that would not fit. */
static void put_escaped(line *l, const char *s, size_t room)
{
    size_t len = strlen(s), end = l->len + room < l->cap ? l->len + room : l->cap;
    for (size_t i = 0; i < len;) {
        char esc[8];
        const char *out = esc;
        size_t n = utf8_sequence(s + i, len - i), used = n ? n : 1;
        unsigned char c = (unsigned char)s[i];
        if (n == 0) {
            out = "\xef\xbf\xbd"; /* U+FFFD for a byte that starts no character */
            n = 3;
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, n = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't', n = 2;
        } else if (c < 0x20) {
            n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            out = s + i;
        }
        if (n > end - l->len)
            return;
        put(l, out, n);
        i += used;
    }
}

/* Room for one context field's value: what is left is kept for the message. */
#define FIELD_ROOM 512

static void put_field(line *l, const char *key, const char *value, size_t room)
{
    if (!value)
        return;
    put_str(l, ",\"");
    put_str(l, key);
    put_str(l, "\":\"");
    put_escaped(l, value, room);
    put_str(l, "\"");
}

static bool is_host(const char *who) { return who == LOG_HOST || who == LOG_LWS; }

static void format_json(line *l, const log_record *r)
{
    put_str(l, "{\"time\":\"");
    put_time(l, r->time);
    put_str(l, "\",\"level\":\"");
    put_str(l, names[r->level]);
    put_str(l, "\"");
    put_field(l, is_host(r->who) ? "component" : "plugin", r->who ? r->who : LOG_HOST, FIELD_ROOM);
    put_field(l, "nsp", r->scope.nsp, FIELD_ROOM);
    put_field(l, "socket", r->scope.socket, FIELD_ROOM);
    put_field(l, "event", r->scope.event, FIELD_ROOM);
    put_str(l, ",\"msg\":\"");
    put_escaped(l, r->msg, l->cap - l->len - 3); /* the context left room for it */
    put_str(l, "\"}\n");
}

/* The format of old, unchanged: the text as given. */
static void format_text(line *l, const log_record *r)
{
    put_time(l, r->time);
    put_str(l, " ");
    put_str(l, labels[r->level]);
    put_str(l, " ");
    put_str(l, r->who ? r->who : LOG_HOST);
    put_str(l, ": ");
    put(l, r->msg, strnlen(r->msg, l->cap - l->len > 1 ? l->cap - l->len - 1 : 0));
    if (l->len == l->cap)
        l->len--; /* the newline ends the line whatever it cuts */
    put_str(l, "\n");
}

size_t log_format_line(log_format f, const log_record *rec, char *buf)
{
    line l = {buf, 0, LOG_LINE_MAX};
    if (f == LOG_JSON)
        format_json(&l, rec);
    else
        format_text(&l, rec);
    return l.len;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to say so */
        p += w;
        n -= (size_t)w;
    }
}

void log_msgv(pio_log_level level, const char *who, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    log_record r = {.level = level, .who = who, .scope = scope};
    gettimeofday(&r.time, NULL);
    char msg[LOG_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    r.msg = msg;
    char buf[LOG_LINE_MAX];
    size_t n = log_format_line(atomic_load_explicit(&format, memory_order_relaxed), &r, buf);
    write_all(atomic_load_explicit(&out_fd, memory_order_relaxed), buf, n);
}

void log_msg(pio_log_level level, const char *who, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_msgv(level, who, fmt, ap);
    va_end(ap);
}

bool log_quiet_due(log_quiet *q)
{
    q->count++;
    int64_t now = (int64_t)time(NULL);
    if (now == q->last)
        return false;
    q->last = now;
    return true;
}
