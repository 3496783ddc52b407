/*
 * log_line.c - libFuzzer target: the logger's line writer (base/log.c),
 * which writes whatever a plugin logs - often what a client sent - and
 * the names and ids of the socket a handler runs for.
 *
 * Input: a level byte, then who, nsp, socket id, event and message,
 * separated by NUL (a C string holds none); a field left out is absent.
 * Invariants: a JSON line is one line of at most LOG_LINE_MAX bytes, valid
 * UTF-8, that parses to an object; its msg and context fields come back
 * exactly when they were valid UTF-8 short enough not to be cut; a text
 * line is one line of at most LOG_LINE_MAX bytes.
 */
#include "fuzz.h"

#include "base/log.h"
#include "base/utf8.h"

#include <json-c/json.h>

#define FIELDS 5 /* who, nsp, socket, event, msg */

/* Short enough never to be cut: escaped at most six-fold within the room
 * a context field has (log.c's FIELD_ROOM, 512 bytes). */
#define SAFE_FIELD 80

static void check_field(json_object *o, const char *key, const char *given, size_t limit)
{
    json_object *v;
    bool present = json_object_object_get_ex(o, key, &v);
    FUZZ_CHECK(present == (given != NULL));
    if (!given)
        return;
    FUZZ_CHECK(json_object_is_type(v, json_type_string));
    size_t len = strlen(given);
    if (len <= limit && utf8_valid(given, len))
        FUZZ_CHECK(strcmp(json_object_get_string(v), given) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    const char *field[FIELDS] = {0};
    size_t n = 0;
    for (char *p = copy; n < FIELDS && p < copy + size - 1; p += strlen(p) + 1)
        field[n++] = p;
    log_record r = {.time = {1764558601, 123456},
                    .level = (pio_log_level)(data[0] & 3),
                    .who = field[0] ? field[0] : LOG_HOST,
                    .scope = {field[1], field[2], field[3]},
                    .msg = field[4] ? field[4] : ""};
    static char line[LOG_LINE_MAX + 1];

    size_t len = log_format_line(LOG_JSON, &r, line);
    FUZZ_CHECK(len > 0 && len <= LOG_LINE_MAX && line[len - 1] == '\n');
    FUZZ_CHECK(memchr(line, '\n', len - 1) == NULL);
    FUZZ_CHECK(utf8_valid(line, len));
    line[len] = '\0';
    json_object *o = json_tokener_parse(line);
    FUZZ_CHECK(json_object_is_type(o, json_type_object));
    check_field(o, "nsp", r.scope.nsp, SAFE_FIELD);
    check_field(o, "socket", r.scope.socket, SAFE_FIELD);
    check_field(o, "event", r.scope.event, SAFE_FIELD);
    check_field(o, field[0] ? "plugin" : "component", r.who, SAFE_FIELD);
    check_field(o, "msg", r.msg, LOG_MSG_MAX - 1);
    json_object_put(o);

    len = log_format_line(LOG_TEXT, &r, line);
    FUZZ_CHECK(len > 0 && len <= LOG_LINE_MAX && line[len - 1] == '\n');
    free(copy);
    return 0;
}
