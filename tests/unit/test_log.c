/*
 * test_log.c - the host's logger (host/base/log.c): the JSON line writer
 * (every record valid JSON Lines whatever the message holds, the context
 * fields there exactly when a scope is set), the text format as before,
 * level filtering and its precedence, and whole lines from many threads.
 * Criterion runs each test in a process of its own, so the logger's
 * settings do not leak from one test into the next.
 */
#include "base/log.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static FILE *sink;

static void to_file(void)
{
    sink = tmpfile();
    cr_assert_not_null(sink);
    log_set_fd(fileno(sink));
}

/* What was logged since to_file(), NUL-terminated; the caller frees it. */
static char *logged(void)
{
    off_t end = lseek(fileno(sink), 0, SEEK_END);
    char *text = calloc(1, (size_t)end + 1);
    cr_assert_not_null(text);
    cr_assert_eq(pread(fileno(sink), text, (size_t)end, 0), end);
    return text;
}

/* One record written with the JSON writer, parsed back. */
static json_object *record(const char *who, log_scope scope, const char *msg, char *line)
{
    log_record r = {.time = {1764558601, 123456}, .level = PIO_LOG_WARN, .who = who,
                    .scope = scope, .msg = msg};
    size_t n = log_format_line(LOG_JSON, &r, line);
    line[n] = '\0';
    cr_assert(n > 0 && n <= LOG_LINE_MAX);
    cr_assert_eq(line[n - 1], '\n', "one line: %s", line);
    cr_assert_null(memchr(line, '\n', n - 1), "a newline inside the record: %s", line);
    json_object *o = json_tokener_parse(line);
    cr_assert_not_null(o, "not JSON: %s", line);
    return o;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static bool has(json_object *o, const char *key) { return json_object_object_get_ex(o, key, NULL); }

static char line[LOG_LINE_MAX + 1];

/* ---- the JSON writer ------------------------------------------------------ */

Test(log, json_record_of_the_host_has_time_level_component_and_msg)
{
    json_object *o = record(LOG_HOST, (log_scope){0}, "listening on 127.0.0.1:3000", line);
    cr_assert_str_eq(str(o, "time"), "2025-12-01T03:10:01.123Z");
    cr_assert_str_eq(str(o, "level"), "warn");
    cr_assert_str_eq(str(o, "component"), "plugio");
    cr_assert_str_eq(str(o, "msg"), "listening on 127.0.0.1:3000");
    cr_assert_not(has(o, "plugin"));
    cr_assert_not(has(o, "nsp"));
    cr_assert_not(has(o, "socket"));
    cr_assert_not(has(o, "event"));
    cr_assert_eq(json_object_object_length(o), 4, "%s", line);
    json_object_put(o);
    o = record(LOG_LWS, (log_scope){0}, "x", line);
    cr_assert_str_eq(str(o, "component"), "lws");
    json_object_put(o);
}

Test(log, json_record_of_a_plugin_names_it_even_when_called_plugio)
{
    json_object *o = record("chat", (log_scope){0}, "hi", line);
    cr_assert_str_eq(str(o, "plugin"), "chat");
    cr_assert_not(has(o, "component"));
    json_object_put(o);
    char name[] = "plugio"; /* not LOG_HOST: a plugin of that name */
    o = record(name, (log_scope){0}, "hi", line);
    cr_assert_str_eq(str(o, "plugin"), "plugio");
    cr_assert_not(has(o, "component"));
    json_object_put(o);
}

Test(log, json_record_carries_the_scope_it_is_given)
{
    json_object *o = record("chat", (log_scope){"/chat", "AbC-12_x", "message"}, "m", line);
    cr_assert_str_eq(str(o, "nsp"), "/chat");
    cr_assert_str_eq(str(o, "socket"), "AbC-12_x");
    cr_assert_str_eq(str(o, "event"), "message");
    json_object_put(o);
    o = record("chat", (log_scope){"/", "id", NULL}, "m", line); /* a middleware's */
    cr_assert_str_eq(str(o, "socket"), "id");
    cr_assert_not(has(o, "event"));
    json_object_put(o);
}

Test(log, json_escapes_quotes_backslashes_and_control_characters)
{
    const char *msg = "say \"hi\" \\ C:\\dir\nline 2\r\tend \x01\x1f\x7f /";
    json_object *o = record("p", (log_scope){0}, msg, line);
    cr_assert_str_eq(str(o, "msg"), msg);
    cr_assert(strstr(line, "\\\"hi\\\" \\\\ C:\\\\dir\\nline 2\\r\\tend \\u0001\\u001f"), "%s", line);
    json_object_put(o);
    o = record("p", (log_scope){"/\"q\"", "a\\b", "ev\nt"}, "m", line);
    cr_assert_str_eq(str(o, "nsp"), "/\"q\"");
    cr_assert_str_eq(str(o, "socket"), "a\\b");
    cr_assert_str_eq(str(o, "event"), "ev\nt");
    json_object_put(o);
}

Test(log, json_keeps_valid_utf8_and_replaces_what_is_not)
{
    json_object *o = record("p", (log_scope){0}, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", line);
    cr_assert_str_eq(str(o, "msg"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    json_object_put(o);
    /* A stray continuation byte, an overlong '/', a surrogate, a byte
     * never valid, and a sequence cut short by the end. */
    o = record("p", (log_scope){0}, "a\x80 b\xc0\xaf c\xed\xa0\x80 d\xff e\xe2\x82", line);
#define FFFD "\xef\xbf\xbd"
    cr_assert_str_eq(str(o, "msg"),
                     "a" FFFD " b" FFFD FFFD " c" FFFD FFFD FFFD " d" FFFD " e" FFFD FFFD);
    json_object_put(o);
    o = record("p", (log_scope){"/\xfe", NULL, "\xc3"}, "m", line);
    cr_assert_str_eq(str(o, "nsp"), "/" FFFD);
    cr_assert_str_eq(str(o, "event"), FFFD);
    json_object_put(o);
}

/* The worst case: every byte of the longest message escaped six-fold, and
 * context fields longer than a field's room.  Still one valid line. */
Test(log, json_line_stays_whole_and_valid_at_its_longest)
{
    static char msg[LOG_MSG_MAX], field[4000];
    memset(msg, '\x01', sizeof msg - 1);
    memset(field, '"', sizeof field - 1);
    json_object *o = record(field, (log_scope){field, field, field}, msg, line);
    cr_assert_eq(strlen(str(o, "msg")), LOG_MSG_MAX - 1, "the message is whole");
    cr_assert(strlen(str(o, "socket")) > 100 && strlen(str(o, "socket")) < sizeof field - 1,
              "a long field is cut, not the line");
    json_object_put(o);
    /* Cut at a character boundary: no half of "é" left over. */
    for (size_t i = 0; i + 1 < sizeof field - 1; i += 2)
        field[i] = '\xc3', field[i + 1] = '\xa9';
    o = record("p", (log_scope){NULL, field, NULL}, "m", line);
    const char *cut = str(o, "socket");
    cr_assert(strlen(cut) % 2 == 0 && strlen(cut) > 100);
    cr_assert_null(strstr(cut, FFFD), "no replacement from cutting");
    json_object_put(o);
}

/* ---- the text format -------------------------------------------------------- */

Test(log, text_line_is_as_before_and_has_no_context)
{
    log_record r = {.time = {1764558601, 123456}, .level = PIO_LOG_INFO, .who = LOG_HOST,
                    .scope = {"/", "sid", "ev"}, .msg = "hello \"x\""};
    size_t n = log_format_line(LOG_TEXT, &r, line);
    line[n] = '\0';
    cr_assert_str_eq(line, "2025-12-01T03:10:01.123Z INFO  plugio: hello \"x\"\n");
    r.who = "chat", r.level = PIO_LOG_ERROR;
    n = log_format_line(LOG_TEXT, &r, line);
    line[n] = '\0';
    cr_assert_str_eq(line, "2025-12-01T03:10:01.123Z ERROR chat: hello \"x\"\n");
}

/* ---- log_msg: scope, level, format, threads --------------------------------- */

Test(log, log_msg_writes_the_threads_scope_and_restores_the_outer_one)
{
    to_file();
    log_set_format(LOG_JSON);
    log_msg(PIO_LOG_INFO, "p", "before");
    log_scope outer = log_scope_enter("/", "s1", "connection");
    log_msg(PIO_LOG_INFO, "p", "in %s", "handler");
    log_scope inner = log_scope_enter("/", "s2", NULL);
    log_msg(PIO_LOG_INFO, "p", "in ack");
    log_scope_leave(inner);
    log_msg(PIO_LOG_INFO, "p", "back");
    log_scope_leave(outer);
    log_msg(PIO_LOG_INFO, "p", "after");
    char *text = logged();
    const char *want[][3] = {{"before", NULL, NULL},
                             {"in handler", "s1", "connection"},
                             {"in ack", "s2", NULL},
                             {"back", "s1", "connection"},
                             {"after", NULL, NULL}};
    char *save, *l = strtok_r(text, "\n", &save);
    for (size_t i = 0; i < 5; i++, l = strtok_r(NULL, "\n", &save)) {
        cr_assert_not_null(l, "line %zu missing", i);
        json_object *o = json_tokener_parse(l);
        cr_assert_not_null(o, "%s", l);
        cr_assert_str_eq(str(o, "msg"), want[i][0]);
        cr_assert_eq(has(o, "socket"), want[i][1] != NULL, "%s", l);
        if (want[i][1])
            cr_assert_str_eq(str(o, "socket"), want[i][1]);
        cr_assert_eq(has(o, "event"), want[i][2] != NULL, "%s", l);
        json_object_put(o);
    }
    cr_assert_null(l, "one line per message");
    free(text);
}

Test(log, filters_by_level)
{
    to_file();
    log_set_format(LOG_JSON);
    log_set_level(PIO_LOG_WARN);
    log_msg(PIO_LOG_DEBUG, LOG_HOST, "d");
    log_msg(PIO_LOG_INFO, LOG_HOST, "i");
    log_msg(PIO_LOG_WARN, LOG_HOST, "w");
    log_msg(PIO_LOG_ERROR, "p", "e");
    log_msg((pio_log_level)7, "p", "not a level");
    char *text = logged();
    cr_assert(strstr(text, "\"level\":\"warn\"") && strstr(text, "\"level\":\"error\""), "%s", text);
    cr_assert_null(strstr(text, "\"msg\":\"d\""));
    cr_assert_null(strstr(text, "\"msg\":\"i\""));
    cr_assert_null(strstr(text, "not a level"));
    free(text);
}

Test(log, configuration_sets_format_and_level_unless_the_command_line_pinned_it)
{
    log_configure(LOG_JSON, true, PIO_LOG_DEBUG);
    cr_assert(log_enabled(PIO_LOG_DEBUG));
    log_configure(LOG_TEXT, false, PIO_LOG_DEBUG);
    cr_assert_not(log_enabled(PIO_LOG_DEBUG), "no level given: info");
    cr_assert(log_enabled(PIO_LOG_INFO));
    log_pin_level(PIO_LOG_ERROR);
    log_configure(LOG_JSON, true, PIO_LOG_DEBUG);
    cr_assert_not(log_enabled(PIO_LOG_WARN), "--log-level wins");
    to_file();
    log_msg(PIO_LOG_ERROR, "p", "e");
    char *text = logged();
    cr_assert(text[0] == '{', "the format still follows the configuration: %s", text);
    free(text);
}

Test(log, parses_formats_and_levels)
{
    log_format f = LOG_TEXT;
    cr_assert(log_parse_format("json", &f) && f == LOG_JSON);
    cr_assert(log_parse_format("text", &f) && f == LOG_TEXT);
    cr_assert_not(log_parse_format("JSON", &f));
    cr_assert_not(log_parse_format("", &f));
    pio_log_level l;
    cr_assert(log_parse_level("warn", &l) && l == PIO_LOG_WARN);
    cr_assert_not(log_parse_level("warning", &l));
}

#define THREADS 4
#define LINES 300

static void *chatter(void *arg)
{
    char id[16];
    snprintf(id, sizeof id, "t%d", (int)(intptr_t)arg);
    log_scope_enter("/", id, "tick");
    for (int i = 0; i < LINES; i++)
        log_msg(PIO_LOG_INFO, "p", "%s line %d %0400d", id, i, 0);
    return NULL;
}

Test(log, lines_from_threads_stay_whole_with_each_threads_scope)
{
    to_file();
    log_set_format(LOG_JSON);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, chatter, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    char *text = logged(), *save;
    int n = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
        json_object *o = json_tokener_parse(l);
        cr_assert_not_null(o, "a broken line: %s", l);
        cr_assert_eq(strncmp(str(o, "msg"), str(o, "socket"), 2), 0, "scope of another thread: %s", l);
        json_object_put(o);
    }
    cr_assert_eq(n, THREADS * LINES);
    free(text);
}

/* The log's own UTC conversion (no time-zone lock) agrees with gmtime_r,
 * field by field, from before 1970 to past 2100, leap days included. */
Test(log, utc_time_agrees_with_gmtime)
{
    const int64_t fixed[] = {0, -1, 86399, 86400, 951782400 /* 2000-02-29 */, 4107542399 /* 2100-02-28T23:59:59 */,
                             4107542400, -2208988800 /* 1900-01-01 */, 253402300799 /* 9999-12-31T23:59:59 */};
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < 200000; i++) {
        int64_t t;
        if (i < sizeof fixed / sizeof *fixed) {
            t = fixed[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: reproducible */
            t = (int64_t)(x % 16000000000ull) - 4000000000;
        }
        time_t tt = (time_t)t;
        struct tm want, got;
        cr_assert_not_null(gmtime_r(&tt, &want));
        log_utc_time(t, &got);
        cr_assert(want.tm_year == got.tm_year && want.tm_mon == got.tm_mon &&
                      want.tm_mday == got.tm_mday && want.tm_hour == got.tm_hour &&
                      want.tm_min == got.tm_min && want.tm_sec == got.tm_sec &&
                      want.tm_wday == got.tm_wday && want.tm_yday == got.tm_yday,
                  "t=%lld: want %d-%d-%d %d:%d:%d wday %d yday %d, got %d-%d-%d %d:%d:%d wday %d yday %d",
                  (long long)t, want.tm_year, want.tm_mon, want.tm_mday, want.tm_hour, want.tm_min,
                  want.tm_sec, want.tm_wday, want.tm_yday, got.tm_year, got.tm_mon, got.tm_mday,
                  got.tm_hour, got.tm_min, got.tm_sec, got.tm_wday, got.tm_yday);
    }
}

/* A repeated warning: every occurrence counted, a line due for the first
 * of a second only (1000 calls take well under a second: at most one
 * second boundary falls among them). */
Test(log, quiet_counts_every_occurrence_and_lets_one_line_a_second_through)
{
    log_quiet q = {0};
    int due = 0;
    cr_assert(log_quiet_due(&q), "the first is always due");
    for (int i = 0; i < 999; i++)
        due += log_quiet_due(&q);
    cr_assert_eq(q.count, 1000);
    cr_assert_leq(due, 1, "%d more lines due within about a second", due);
}
