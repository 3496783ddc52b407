/*
 * log.h - the host's logger: one line per message on stderr,
 * "2026-11-25T17:50:01.123Z INFO  plugio: message", filtered by level.
 * Plugins log through the same function under their own name.
 */
#ifndef PIO_LOG_H
#define PIO_LOG_H

#include <plugio/plugio.h>

#include <stdarg.h>
#include <stdbool.h>

void log_set_level(pio_log_level level);
/* Parse "debug", "info", "warn", "error"; false when none of them. */
bool log_parse_level(const char *s, pio_log_level *out);
bool log_enabled(pio_log_level level);
void log_msg(pio_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_msgv(pio_log_level level, const char *who, const char *fmt, va_list ap);

#define log_debug(...) log_msg(PIO_LOG_DEBUG, "plugio", __VA_ARGS__)
#define log_info(...) log_msg(PIO_LOG_INFO, "plugio", __VA_ARGS__)
#define log_warn(...) log_msg(PIO_LOG_WARN, "plugio", __VA_ARGS__)
#define log_error(...) log_msg(PIO_LOG_ERROR, "plugio", __VA_ARGS__)

#endif
