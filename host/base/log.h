/*
 * log.h - the host's logger: one line per message on stderr, filtered by
 * level, in one of two formats (server.log.format):
 *
 *   text  "2026-11-25T17:50:01.123Z INFO  plugio: message"
 *   json  {"time":"2026-11-25T17:50:01.123Z","level":"info","component":"plugio",
 *          "msg":"message"}  - JSON Lines, for log shippers
 *
 * Plugins log through the same function under their own name.  A JSON
 * record names its source with "plugin" (a plugin's name) or "component"
 * (LOG_HOST or LOG_LWS, the host itself), never both; while the thread runs
 * a plugin's handler, middleware or ack callback for a socket, it also
 * carries that socket's "nsp", "socket" and "event" (log_scope_enter).
 */
#ifndef PIO_LOG_H
#define PIO_LOG_H

#include <plugio/plugio.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

typedef enum { LOG_TEXT, LOG_JSON } log_format;

/* The host's names for `who`: known by address, so that a plugin that
 * happens to be called "plugio" is still a plugin. */
extern const char LOG_HOST[]; /* "plugio" */
extern const char LOG_LWS[];  /* "lws", libwebsockets' own messages */

void log_set_level(pio_log_level level);
/* Parse "debug", "info", "warn", "error"; false when none of them. */
bool log_parse_level(const char *s, pio_log_level *out);
/* Parse "text", "json"; false when neither. */
bool log_parse_format(const char *s, log_format *out);
void log_set_format(log_format format);

/* The command line's --log-level: set now, and kept over the
 * configuration's server.log.level at start and on every reload. */
void log_pin_level(pio_log_level level);
/* The configuration's server.log, applied at start and on each reload:
 * the format, and the level (info when !has_level) unless pinned. */
void log_configure(log_format format, bool has_level, pio_log_level level);

/* Where lines go: stderr (2) unless a test says otherwise. */
void log_set_fd(int fd);

bool log_enabled(pio_log_level level);
void log_msg(pio_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_msgv(pio_log_level level, const char *who, const char *fmt, va_list ap);

/* ---- the socket a message is about -------------------------------------- */

/* What this thread is doing for a socket: each member NULL when it does
 * not apply.  The strings are borrowed - they must outlive the scope -
 * so entering one is three stores, with no allocation. */
typedef struct log_scope {
    const char *nsp;
    const char *socket;   /* the socket's id */
    const char *event;
} log_scope;

/* Messages this thread logs from now on carry these; returns the scope it
 * replaces, which log_scope_leave restores (scopes nest: an ack callback
 * run inside a handler). */
log_scope log_scope_enter(const char *nsp, const char *socket, const char *event);
void log_scope_leave(log_scope outer);

/* ---- the formats, apart from where they go (for tests) ------------------ */

typedef struct log_record {
    struct timeval time;
    pio_log_level level;
    const char *who;      /* a plugin's name, LOG_HOST or LOG_LWS */
    log_scope scope;
    const char *msg;
} log_record;

/* The record as one line, newline included, in buf (at most LOG_LINE_MAX
 * bytes); returns its length.  Never longer: a field that would not fit
 * is cut at a character boundary. */
#define LOG_MSG_MAX 2048   /* bytes of a message, more are cut */
#define LOG_LINE_MAX 16384
size_t log_format_line(log_format format, const log_record *rec, char *buf);

#define log_debug(...) log_msg(PIO_LOG_DEBUG, LOG_HOST, __VA_ARGS__)
#define log_info(...) log_msg(PIO_LOG_INFO, LOG_HOST, __VA_ARGS__)
#define log_warn(...) log_msg(PIO_LOG_WARN, LOG_HOST, __VA_ARGS__)
#define log_error(...) log_msg(PIO_LOG_ERROR, LOG_HOST, __VA_ARGS__)

/* A warning about something that can repeat many times a second (a
 * refused request, a cut connection): every occurrence is counted, and a
 * line is written for the first of each second only, with the count so
 * far.  One per kind of occurrence, static, zero-initialised. */
typedef struct log_quiet {
    int64_t last;         /* the second of the last line */
    unsigned long count;  /* occurrences so far */
} log_quiet;
/* Count one occurrence; true when its line is due. */
bool log_quiet_due(log_quiet *q);

/* gmtime_r's broken-down UTC time of `secs`, without the C library's
 * time-zone lock (see log.c). */
struct tm;
void log_utc_time(int64_t secs, struct tm *tm);

#endif
