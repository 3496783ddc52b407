/*
 * json.c - libFuzzer target: the host's strict JSON parser (base/json.c),
 * which reads every Socket.IO payload a client sends.
 *
 * Invariants: what parses is written back by json-c as the host writes
 * it (sio_encode.c) into text that parses again to the same text; the
 * nesting limit holds (a tree parsed with limit n parses with limit n + 1
 * and, written back, still fits n).
 */
#include "fuzz.h"

#include "base/json.h"
#include "base/value.h"

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static unsigned depth_of(json_object *j)
{
    unsigned deepest = 0;
    if (json_object_is_type(j, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(j); i++) {
            unsigned d = depth_of(json_object_array_get_idx(j, i));
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    if (json_object_is_type(j, json_type_object)) {
        json_object_object_foreach(j, key, member)
        {
            (void)key;
            unsigned d = depth_of(member);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

/* A small limit now and then, so that the limit's edge is reached. */
static unsigned pick_depth(const uint8_t *data, size_t size)
{
    return size > 0 && data[size - 1] == '\n' ? 4 : VALUE_MAX_DEPTH;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned max_depth = pick_depth(data, size);
    json_object *tree = NULL;
    if (!json_parse((const char *)data, size, max_depth, &tree)) {
        FUZZ_CHECK(!tree);
        return 0;
    }
    FUZZ_CHECK(depth_of(tree) <= max_depth);
    size_t len;
    const char *text = tree ? json_object_to_json_string_length(tree, FLAGS, &len) : "null";
    FUZZ_CHECK(text);
    if (!tree)
        len = 4;
    char *first = strndup(text, len);
    FUZZ_CHECK(first);

    json_object *again = NULL;
    bool ok = json_parse(first, len, max_depth, &again);
    if (!ok)
        fprintf(stderr, "written back as '%s', which does not parse\n", first);
    FUZZ_CHECK(ok);
    FUZZ_CHECK(!again == !tree);
    size_t len2 = 4;
    const char *second = again ? json_object_to_json_string_length(again, FLAGS, &len2) : "null";
    FUZZ_CHECK(len2 == len && memcmp(first, second, len) == 0);
    json_object_put(again);

    json_object *deeper = NULL;
    FUZZ_CHECK(json_parse((const char *)data, size, max_depth + 1, &deeper));
    json_object_put(deeper);
    free(first);
    json_object_put(tree);
    return 0;
}
