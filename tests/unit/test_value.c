/*
 * test_value.c - the values plugins read (host/base/value.c) and an event's
 * arguments (host/api.c, args.h), exercised the way a plugin sees them:
 * through the host's function table `host_api` wherever an SDK entry
 * exists, on trees parsed with value_parse as the socket layer does.
 */
#include "base/args.h"
#include "base/json.h"
#include "base/out.h"
#include "base/value.h"
#include "plugin/plugin.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pio_api *api = &host_api;
static json_object *root;

static void teardown(void)
{
    json_object_put(root);
    root = NULL;
}

TestSuite(value, .fini = teardown);
TestSuite(value_parse, .fini = teardown);
TestSuite(args, .fini = teardown);

/* Parses `text` into root (freed by the suite's fini) and returns the SDK
 * handle for it. */
static const pio_value *parse(const char *text)
{
    json_object_put(root);
    root = NULL;
    cr_assert(value_parse(text, strlen(text), &root), "value_parse rejected %s", text);
    return value_wrap(root);
}

static bool parses(const char *text, size_t len)
{
    json_object *j = NULL;
    bool ok = value_parse(text, len, &j);
    json_object_put(j);
    return ok;
}

#define DOC                                                                              \
    "{\"s\":\"h\\u00e9\\\"llo\",\"n\":42,\"f\":1.5,\"t\":true,\"no\":false,\"z\":null,"  \
    "\"a\":[1,\"two\",[3],{\"four\":4},null],\"o\":{\"k\":\"v\",\"e\":{}},\"ea\":[]}"

/* ---- types --------------------------------------------------------------- */

Test(value, reports_the_type_of_every_json_kind)
{
    const pio_value *d = parse(DOC);
    cr_assert_eq(api->value_type(d), PIO_TYPE_OBJECT);
    cr_assert_eq(api->value_type(api->value_member(d, "s")), PIO_TYPE_STRING);
    cr_assert_eq(api->value_type(api->value_member(d, "n")), PIO_TYPE_NUMBER);
    cr_assert_eq(api->value_type(api->value_member(d, "f")), PIO_TYPE_NUMBER);
    cr_assert_eq(api->value_type(api->value_member(d, "t")), PIO_TYPE_BOOL);
    cr_assert_eq(api->value_type(api->value_member(d, "no")), PIO_TYPE_BOOL);
    cr_assert_eq(api->value_type(api->value_member(d, "a")), PIO_TYPE_ARRAY);
    cr_assert_eq(api->value_type(api->value_member(d, "o")), PIO_TYPE_OBJECT);
    cr_assert_eq(api->value_type(api->value_member(d, "ea")), PIO_TYPE_ARRAY);
}

Test(value, json_null_member_is_present_and_null)
{
    const pio_value *d = parse(DOC);
    const pio_value *z = api->value_member(d, "z");
    cr_assert_not_null(z, "a member whose value is null exists: not absent");
    cr_assert_eq(api->value_type(z), PIO_TYPE_NULL);
}

Test(value, json_null_array_element_is_present_and_null)
{
    const pio_value *a = api->value_member(parse(DOC), "a");
    const pio_value *e = api->value_index(a, 4);
    cr_assert_not_null(e);
    cr_assert_eq(api->value_type(e), PIO_TYPE_NULL);
}

Test(value, absent_value_has_type_none)
{
    cr_assert_eq(api->value_type(NULL), PIO_TYPE_NONE);
    const pio_value *d = parse(DOC);
    cr_assert_null(api->value_member(d, "missing"));
    cr_assert_eq(api->value_type(api->value_member(d, "missing")), PIO_TYPE_NONE);
}

Test(value, top_level_null_is_null_not_absent)
{
    const pio_value *v = parse("null");
    cr_assert_null(root, "json-c represents null as NULL");
    cr_assert_not_null(v, "the SDK must still hand out a non-NULL handle");
    cr_assert_eq(api->value_type(v), PIO_TYPE_NULL);
    cr_assert_null(value_unwrap(v));
}

/* ---- scalars ------------------------------------------------------------- */

Test(value, bool_reads_true_and_false)
{
    const pio_value *d = parse(DOC);
    int b = -1;
    cr_assert_eq(api->value_bool(api->value_member(d, "t"), &b), PIO_OK);
    cr_assert_eq(b, 1);
    cr_assert_eq(api->value_bool(api->value_member(d, "no"), &b), PIO_OK);
    cr_assert_eq(b, 0);
}

Test(value, double_reads_integers_and_fractions)
{
    const pio_value *d = parse(DOC);
    double x = 0;
    cr_assert_eq(api->value_double(api->value_member(d, "n"), &x), PIO_OK);
    cr_assert_eq(x, 42.0);
    cr_assert_eq(api->value_double(api->value_member(d, "f"), &x), PIO_OK);
    cr_assert_eq(x, 1.5);
    cr_assert_eq(api->value_double(parse("-2.5e-3"), &x), PIO_OK);
    cr_assert_eq(x, -2.5e-3);
}

Test(value, int64_reads_integers)
{
    int64_t n = 0;
    cr_assert_eq(api->value_int64(api->value_member(parse(DOC), "n"), &n), PIO_OK);
    cr_assert_eq(n, 42);
    cr_assert_eq(api->value_int64(parse("-7"), &n), PIO_OK);
    cr_assert_eq(n, -7);
}

Test(value, int64_reads_the_extremes)
{
    int64_t n = 0;
    cr_assert_eq(api->value_int64(parse("9223372036854775807"), &n), PIO_OK);
    cr_assert_eq(n, INT64_MAX);
    cr_assert_eq(api->value_int64(parse("-9223372036854775808"), &n), PIO_OK);
    cr_assert_eq(n, INT64_MIN);
}

Test(value, int64_accepts_integral_numbers_written_with_fraction_or_exponent)
{
    int64_t n = 0;
    cr_assert_eq(api->value_int64(parse("3.0"), &n), PIO_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(api->value_int64(parse("1e3"), &n), PIO_OK);
    cr_assert_eq(n, 1000);
}

Test(value, int64_refuses_a_fraction_with_etype)
{
    int64_t n = 77;
    cr_assert_eq(api->value_int64(api->value_member(parse(DOC), "f"), &n), PIO_ETYPE);
    cr_assert_eq(n, 77, "the out-parameter stays untouched");
}

Test(value, int64_refuses_two_to_the_64_with_erange)
{
    int64_t n = 77;
    cr_assert_eq(api->value_int64(parse("18446744073709551616"), &n), PIO_ERANGE);
    cr_assert_eq(n, 77);
}

Test(value, int64_refuses_two_to_the_63_with_erange)
{
    int64_t n = 77;
    cr_assert_eq(api->value_int64(parse("9223372036854775808"), &n), PIO_ERANGE);
    cr_assert_eq(n, 77);
}

Test(value, int64_refuses_below_int64_min_with_erange)
{
    /* One below INT64_MIN: json-c saturates it to INT64_MIN. */
    int64_t n = 77;
    cr_assert_eq(api->value_int64(parse("-9223372036854775809"), &n), PIO_ERANGE);
    cr_assert_eq(n, 77);
}

Test(value, int64_refuses_huge_exponent_with_erange)
{
    int64_t n = 77;
    cr_assert_eq(api->value_int64(parse("1e30"), &n), PIO_ERANGE);
    cr_assert_eq(n, 77);
}

Test(value, double_reads_integers_beyond_uint64_exactly_as_javascript)
{
    /* JSON.stringify(1e20) is "100000000000000000000". */
    double x = 0;
    cr_assert_eq(api->value_double(parse("100000000000000000000"), &x), PIO_OK);
    cr_assert_eq(x, 1e20, "read %.17g", x);
    cr_assert_eq(api->value_double(parse("-100000000000000000000"), &x), PIO_OK);
    cr_assert_eq(x, -1e20, "read %.17g", x);
}

Test(value, string_reads_bytes_and_length)
{
    const char *s = NULL;
    size_t len = 0;
    cr_assert_eq(api->value_string(api->value_member(parse(DOC), "s"), &s, &len), PIO_OK);
    cr_assert_str_eq(s, "h\xc3\xa9\"llo");
    cr_assert_eq(len, 7);
}

Test(value, string_length_counts_embedded_nul)
{
    const char *s = NULL;
    size_t len = 0;
    cr_assert_eq(api->value_string(parse("\"a\\u0000b\""), &s, &len), PIO_OK);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(s, "a\0b", 4), 0, "bytes plus terminator");
}

Test(value, string_length_is_optional)
{
    const char *s = NULL;
    cr_assert_eq(api->value_string(parse("\"x\""), &s, NULL), PIO_OK);
    cr_assert_str_eq(s, "x");
}

Test(value, wrong_type_access_returns_etype_and_leaves_outputs_alone)
{
    const pio_value *d = parse(DOC);
    const pio_value *str = api->value_member(d, "s");
    const pio_value *num = api->value_member(d, "n");
    int b = 5;
    double x = 5.5;
    int64_t n = 5;
    const char *s = "untouched";
    size_t len = 5;
    const void *data = &len;

    cr_assert_eq(api->value_bool(num, &b), PIO_ETYPE);
    cr_assert_eq(api->value_double(str, &x), PIO_ETYPE);
    cr_assert_eq(api->value_int64(str, &n), PIO_ETYPE);
    cr_assert_eq(api->value_string(num, &s, &len), PIO_ETYPE);
    cr_assert_eq(api->value_binary(d, &data, &len), PIO_ETYPE);
    cr_assert_eq(api->value_bool(api->value_member(d, "z"), &b), PIO_ETYPE, "null is no bool");
    cr_assert_eq(api->value_double(api->value_member(d, "t"), &x), PIO_ETYPE, "a bool is no number");
    cr_assert_eq(b, 5);
    cr_assert_eq(x, 5.5);
    cr_assert_eq(n, 5);
    cr_assert_str_eq(s, "untouched");
    cr_assert_eq(len, 5);
    cr_assert_eq(data, &len);
}

Test(value, accessors_on_an_absent_value_return_etype)
{
    int b = 5;
    double x = 5.5;
    int64_t n = 5;
    const char *s = "untouched";
    const void *data = NULL;
    size_t len = 5;
    cr_assert_eq(api->value_bool(NULL, &b), PIO_ETYPE);
    cr_assert_eq(api->value_double(NULL, &x), PIO_ETYPE);
    cr_assert_eq(api->value_int64(NULL, &n), PIO_ETYPE);
    cr_assert_eq(api->value_string(NULL, &s, &len), PIO_ETYPE);
    cr_assert_eq(api->value_binary(NULL, &data, &len), PIO_ETYPE);
    cr_assert_eq(api->value_count(NULL), 0);
    cr_assert_null(api->value_index(NULL, 0));
    cr_assert_null(api->value_member(NULL, "a"));
    void *cursor = NULL;
    cr_assert_null(api->value_next(NULL, &cursor, NULL));
    cr_assert_eq(b, 5);
    cr_assert_eq(len, 5);
}

/* ---- arrays and objects -------------------------------------------------- */

Test(value, index_walks_a_nested_array)
{
    const pio_value *a = api->value_member(parse(DOC), "a");
    cr_assert_eq(api->value_count(a), 5);
    int64_t n = 0;
    cr_assert_eq(api->value_int64(api->value_index(a, 0), &n), PIO_OK);
    cr_assert_eq(n, 1);
    const char *s;
    cr_assert_eq(api->value_string(api->value_index(a, 1), &s, NULL), PIO_OK);
    cr_assert_str_eq(s, "two");
    const pio_value *inner = api->value_index(a, 2);
    cr_assert_eq(api->value_count(inner), 1);
    cr_assert_eq(api->value_int64(api->value_index(inner, 0), &n), PIO_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(api->value_int64(api->value_member(api->value_index(a, 3), "four"), &n), PIO_OK);
    cr_assert_eq(n, 4);
}

Test(value, index_out_of_range_is_null)
{
    const pio_value *d = parse(DOC);
    const pio_value *a = api->value_member(d, "a");
    cr_assert_null(api->value_index(a, 5));
    cr_assert_null(api->value_index(a, SIZE_MAX));
    cr_assert_null(api->value_index(api->value_member(d, "ea"), 0));
}

Test(value, index_on_a_non_array_is_null)
{
    const pio_value *d = parse(DOC);
    cr_assert_null(api->value_index(d, 0), "an object is no array");
    cr_assert_null(api->value_index(api->value_member(d, "s"), 0));
    cr_assert_null(api->value_index(api->value_member(d, "z"), 0));
}

Test(value, member_finds_nested_members)
{
    const pio_value *d = parse(DOC);
    const char *s;
    cr_assert_eq(api->value_string(api->value_member(api->value_member(d, "o"), "k"), &s, NULL),
                 PIO_OK);
    cr_assert_str_eq(s, "v");
    cr_assert_eq(api->value_type(api->value_member(api->value_member(d, "o"), "e")),
                 PIO_TYPE_OBJECT);
}

Test(value, member_missing_is_null)
{
    const pio_value *d = parse(DOC);
    cr_assert_null(api->value_member(d, "nope"));
    cr_assert_null(api->value_member(d, ""));
    cr_assert_null(api->value_member(api->value_member(d, "o"), "s"), "members are not inherited");
    cr_assert_null(api->value_member(d, NULL));
}

Test(value, member_on_a_non_object_is_null)
{
    const pio_value *d = parse(DOC);
    cr_assert_null(api->value_member(api->value_member(d, "a"), "0"));
    cr_assert_null(api->value_member(api->value_member(d, "s"), "length"));
    cr_assert_null(api->value_member(api->value_member(d, "z"), "x"));
    cr_assert_null(api->value_member(api->value_member(d, "n"), "x"));
}

Test(value, count_of_objects_arrays_and_scalars)
{
    const pio_value *d = parse(DOC);
    cr_assert_eq(api->value_count(d), 9);
    cr_assert_eq(api->value_count(api->value_member(d, "o")), 2);
    cr_assert_eq(api->value_count(api->value_member(d, "ea")), 0);
    cr_assert_eq(api->value_count(api->value_member(api->value_member(d, "o"), "e")), 0);
    cr_assert_eq(api->value_count(api->value_member(d, "s")), 0);
    cr_assert_eq(api->value_count(api->value_member(d, "n")), 0);
    cr_assert_eq(api->value_count(api->value_member(d, "z")), 0);
}

Test(value, next_iterates_members_in_document_order_with_keys)
{
    const pio_value *d = parse("{\"b\":1,\"a\":null,\"c\":{\"x\":true},\"\":\"empty\"}");
    static const char *const keys[] = {"b", "a", "c", ""};
    static const pio_type types[] = {PIO_TYPE_NUMBER, PIO_TYPE_NULL, PIO_TYPE_OBJECT,
                                     PIO_TYPE_STRING};
    void *cursor = NULL;
    const char *key = NULL;
    const pio_value *m;
    size_t i = 0;
    while ((m = api->value_next(d, &cursor, &key))) {
        cr_assert_lt(i, 4, "more members than the object has");
        cr_assert_str_eq(key, keys[i]);
        cr_assert_eq(api->value_type(m), types[i], "member %s", key);
        cr_assert_eq(m, api->value_member(d, key), "the same handle as value_member");
        i++;
    }
    cr_assert_eq(i, 4);
}

Test(value, next_on_an_empty_object_ends_at_once)
{
    void *cursor = NULL;
    const char *key = "unset";
    cr_assert_null(api->value_next(parse("{}"), &cursor, &key));
}

Test(value, next_on_a_non_object_returns_null)
{
    void *cursor = NULL;
    const char *key = NULL;
    cr_assert_null(api->value_next(parse("[1,2]"), &cursor, &key));
    cr_assert_null(api->value_next(parse("\"s\""), &cursor, &key));
}

Test(value, next_accepts_a_null_key_pointer)
{
    void *cursor = NULL;
    const pio_value *d = parse("{\"a\":1,\"b\":2}");
    int n = 0;
    while (api->value_next(d, &cursor, NULL))
        n++;
    cr_assert_eq(n, 2);
}

/* ---- value_json ---------------------------------------------------------- */

Test(value, json_writes_compact_text)
{
    const pio_value *d = parse("{ \"a\" : [ 1 , \"x/y\" , null ] , \"b\" : { } }");
    char out[128];
    size_t len = 0;
    cr_assert_eq(api->value_json(d, out, sizeof out, &len), PIO_OK);
    cr_assert_str_eq(out, "{\"a\":[1,\"x/y\",null],\"b\":{}}");
    cr_assert_eq(len, strlen(out));
}

Test(value, json_of_null_and_scalars)
{
    char out[32];
    size_t len;
    cr_assert_eq(api->value_json(parse("null"), out, sizeof out, &len), PIO_OK);
    cr_assert_str_eq(out, "null");
    cr_assert_eq(len, 4);
    cr_assert_eq(api->value_json(parse("true"), out, sizeof out, &len), PIO_OK);
    cr_assert_str_eq(out, "true");
    cr_assert_eq(api->value_json(parse("\"q\\\"\""), out, sizeof out, &len), PIO_OK);
    cr_assert_str_eq(out, "\"q\\\"\"");
}

Test(value, json_of_an_absent_value_is_einval)
{
    char out[32];
    size_t len = 0;
    cr_assert_eq(api->value_json(NULL, out, sizeof out, &len), PIO_EINVAL);
}

Test(value, json_with_a_small_buffer_reports_the_length_then_succeeds)
{
    const pio_value *d = parse("[1,2,3]");
    char small[7]; /* "[1,2,3]" is 7 bytes: no room for the terminator */
    memset(small, 'X', sizeof small);
    size_t len = 0;
    cr_assert_eq(api->value_json(d, small, sizeof small, &len), PIO_ENOSPACE);
    cr_assert_eq(len, 7);
    char *exact = malloc(len + 1);
    size_t len2 = 0;
    cr_assert_eq(api->value_json(d, exact, len + 1, &len2), PIO_OK);
    cr_assert_str_eq(exact, "[1,2,3]");
    cr_assert_eq(len2, 7);
    free(exact);
}

Test(value, json_with_no_buffer_only_measures)
{
    size_t len = 0;
    cr_assert_eq(api->value_json(parse("{\"k\":\"v\"}"), NULL, 0, &len), PIO_ENOSPACE);
    cr_assert_eq(len, 9);
}

/* ---- binary -------------------------------------------------------------- */

/* {"_placeholder":true,"num":0} carrying `data`, as the socket layer builds. */
static const pio_value *binary_value(const void *data, size_t len)
{
    const pio_value *v = parse("{\"_placeholder\":true,\"num\":0}");
    cr_assert(value_attach_binary(root, data, len));
    return v;
}

Test(value, attached_bytes_make_a_binary_value)
{
    static const unsigned char bytes[] = {0, 1, 2, 0xff, 0};
    const pio_value *v = binary_value(bytes, sizeof bytes);
    cr_assert_eq(api->value_type(v), PIO_TYPE_BINARY);
    const void *data = NULL;
    size_t len = 0;
    cr_assert_eq(api->value_binary(v, &data, &len), PIO_OK);
    cr_assert_eq(len, sizeof bytes);
    cr_assert_eq(memcmp(data, bytes, len), 0);
    cr_assert_neq(data, (const void *)bytes, "the bytes are a copy");
}

Test(value, empty_binary_value_has_length_zero)
{
    const pio_value *v = binary_value(NULL, 0);
    cr_assert_eq(api->value_type(v), PIO_TYPE_BINARY);
    const void *data = NULL;
    size_t len = 99;
    cr_assert_eq(api->value_binary(v, &data, &len), PIO_OK);
    cr_assert_eq(len, 0);
    cr_assert_not_null(data);
}

Test(value, binary_value_is_not_an_object_to_plugins)
{
    const pio_value *v = binary_value("ab", 2);
    cr_assert_null(api->value_member(v, "_placeholder"));
    cr_assert_eq(api->value_count(v), 0);
    const char *s = "untouched";
    cr_assert_eq(api->value_string(v, &s, NULL), PIO_ETYPE);
    cr_assert_str_eq(s, "untouched");
}

Test(value, json_of_a_binary_value_is_its_placeholder)
{
    const pio_value *v = binary_value("ab", 2);
    char out[64];
    size_t len;
    cr_assert_eq(api->value_json(v, out, sizeof out, &len), PIO_OK);
    cr_assert_str_eq(out, "{\"_placeholder\":true,\"num\":0}");
}

Test(value, binary_nested_in_an_array_is_found)
{
    const pio_value *d = parse("[\"x\",{\"_placeholder\":true,\"num\":0}]");
    cr_assert(value_attach_binary(json_object_array_get_idx(root, 1), "\x01\x02\x03", 3));
    const pio_value *b = api->value_index(d, 1);
    cr_assert_eq(api->value_type(b), PIO_TYPE_BINARY);
    const void *data;
    size_t len;
    cr_assert_eq(api->value_binary(b, &data, &len), PIO_OK);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(data, "\x01\x02\x03", 3), 0);
}

Test(value, attach_binary_refuses_a_non_object)
{
    parse("[1]");
    cr_assert_not(value_attach_binary(root, "x", 1));
    cr_assert_eq(api->value_type(value_wrap(root)), PIO_TYPE_ARRAY);
}

Test(value, plain_placeholder_without_bytes_stays_an_object)
{
    const pio_value *v = parse("{\"_placeholder\":true,\"num\":0}");
    cr_assert_eq(api->value_type(v), PIO_TYPE_OBJECT);
    cr_assert_null(value_get_binary(root));
}

/* ---- value_parse ----------------------------------------------------------- */

Test(value_parse, accepts_top_level_scalars)
{
    cr_assert_eq(api->value_type(parse("1")), PIO_TYPE_NUMBER);
    cr_assert_eq(api->value_type(parse("-0.5")), PIO_TYPE_NUMBER);
    cr_assert_eq(api->value_type(parse("null")), PIO_TYPE_NULL);
    cr_assert_eq(api->value_type(parse("true")), PIO_TYPE_BOOL);
    cr_assert_eq(api->value_type(parse("false")), PIO_TYPE_BOOL);
    const char *s;
    cr_assert_eq(api->value_string(parse("\"s\""), &s, NULL), PIO_OK);
    cr_assert_str_eq(s, "s");
}

Test(value_parse, accepts_surrounding_whitespace)
{
    cr_assert(parses(" [1] \n", 6));
    cr_assert(parses("\t7 ", 3));
}

/* Found by tests/fuzz/json.c: an empty key read before any other string
 * checked its scratch buffer, still NULL, with memchr (undefined, and
 * caught by UBSan). */
Test(value_parse, accepts_an_empty_key_as_the_first_string)
{
    const pio_value *d = parse("{\"\":1}");
    int64_t n = 0;
    cr_assert_eq(api->value_int64(api->value_member(d, ""), &n), PIO_OK);
    cr_assert_eq(n, 1);
    cr_assert_not(parses("{\"\"", 3));
}

Test(value_parse, uses_only_len_bytes)
{
    /* The text need not be terminated: only len bytes count. */
    cr_assert(parses("[1]garbage", 3));
    cr_assert(parses("12345", 2));
    json_object *j = NULL;
    cr_assert(value_parse("12345", 2, &j));
    cr_assert_eq(json_object_get_int64(j), 12);
    json_object_put(j);
}

Test(value_parse, rejects_invalid_json)
{
    static const char *const bad[] = {
        "",  " ",     "{",      "[1,]",   "{\"a\"}", "{a:1}", "'s'",   "tru",
        "-", "[1 2]", "\"abc",  "01",     "+1",      ".5",    "{\"a\":1,}",
        "[", "]", "/* c */ 1", "\"\\x41\"", "1e",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_not(parses(bad[i], strlen(bad[i])), "accepted invalid JSON: %s", bad[i]);
}

Test(value_parse, rejects_numbers_outside_the_json_grammar)
{
    /* RFC 8259: a fraction needs digits; NaN and Infinity are not JSON. */
    static const char *const bad[] = {"1.", "[1.]", "1.e5", "NaN", "[NaN]", "Infinity", "-Infinity"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_not(parses(bad[i], strlen(bad[i])), "accepted invalid JSON: %s", bad[i]);
}

Test(value_parse, rejects_trailing_garbage)
{
    cr_assert_not(parses("[1] x", 5));
    cr_assert_not(parses("1 2", 3));
    cr_assert_not(parses("{}{}", 4));
    cr_assert_not(parses("[1]\0", 4), "a NUL inside len is garbage too");
    cr_assert_not(parses("null,", 5));
}

Test(value_parse, rejects_malformed_utf8)
{
    cr_assert_not(parses("\"\xff\"", 3));
    cr_assert_not(parses("\"\xc3\"", 3), "truncated sequence");
    cr_assert_not(parses("[\"ok\",\"\x80\"]", 10), "lone continuation byte");
    cr_assert_not(parses("{\"\xfe\":1}", 7), "in a key");
}

Test(value_parse, rejects_overlong_surrogate_and_out_of_range_utf8)
{
    /* Invalid UTF-8 by RFC 3629 although well-formed byte patterns; the
     * writer (utf8_valid) refuses them, so accepting them here makes a
     * plugin unable to echo what it was sent. */
    static const struct { const char *text; const char *what; } bad[] = {
        {"\"\xc0\xaf\"", "overlong 2-byte '/'"},
        {"\"\xc1\xbf\"", "overlong 2-byte (C1 lead)"},
        {"\"\xe0\x80\xaf\"", "overlong 3-byte '/'"},
        {"\"\xed\xa0\x80\"", "UTF-16 surrogate U+D800"},
        {"\"\xf4\x90\x80\x80\"", "above U+10FFFF"},
        {"\"\xf5\x80\x80\x80\"", "F5 lead byte"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_not(parses(bad[i].text, strlen(bad[i].text)), "accepted %s", bad[i].what);
}

Test(value_parse, rejects_raw_control_characters_in_strings)
{
    /* RFC 8259 section 7: U+0000..U+001F must be escaped. */
    cr_expect_not(parses("\"tab\there\"", 10), "raw tab");
    cr_expect_not(parses("\"a\nb\"", 5), "raw newline");
    cr_expect_not(parses("\"\x01\"", 3), "raw U+0001");
}

Test(value_parse, rejects_leading_zeros)
{
    cr_expect_not(parses("01", 2));
    cr_expect_not(parses("-01", 3));
    cr_expect_not(parses("[00]", 4));
}

Test(value_parse, accepts_valid_utf8)
{
    const char *s;
    size_t len;
    cr_assert_eq(api->value_string(parse("\"\xe2\x82\xac \xf0\x9f\x98\x80\""), &s, &len), PIO_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(api->value_string(parse("\"\\ud83d\\ude00\""), &s, &len), PIO_OK);
    cr_assert_str_eq(s, "\xf0\x9f\x98\x80", "a surrogate pair decodes to one code point");
}

static char *nested_arrays(int depth)
{
    char *t = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) {
        t[i] = '[';
        t[depth * 2 - 1 - i] = ']';
    }
    t[depth * 2] = '\0';
    return t;
}

Test(value_parse, accepts_nesting_of_128)
{
    char *t = nested_arrays(128);
    cr_assert(parses(t, strlen(t)));
    free(t);
}

Test(value_parse, rejects_nesting_deeper_than_128)
{
    char *t = nested_arrays(129);
    cr_assert_not(parses(t, strlen(t)));
    free(t);
    t = nested_arrays(5000);
    cr_assert_not(parses(t, strlen(t)));
    free(t);
}

Test(value_parse, sets_out_to_null_on_failure)
{
    json_object *j = (json_object *)&j;
    cr_assert_not(value_parse("[1,", 3, &j));
    cr_assert_null(j);
}

/* ---- args (the arguments of one event) ------------------------------------ */

static int acks_sent;
static char ack_text[256];

/* Stands in for the socket layer: records what the ack would carry. */
static int record_ack(pio_args *a, pio_out *out)
{
    (void)a;
    acks_sent++;
    snprintf(ack_text, sizeof ack_text, "%s", out && out->text.data ? out->text.data : "");
    out_free(out);
    return PIO_OK;
}

/* The arguments of the event packet `text` (["name", args...]). */
static pio_args event_args(const char *text, bool wants_ack)
{
    parse(text);
    acks_sent = 0;
    ack_text[0] = '\0';
    return (pio_args){.list = root, .first = 1, .wants_ack = wants_ack,
                      .send_ack = wants_ack ? record_ack : NULL, .ack_id = 3};
}

Test(args, count_and_at_skip_the_event_name)
{
    pio_args a = event_args("[\"msg\",\"hello\",{\"n\":2},null]", false);
    cr_assert_eq(api->args_count(&a), 3);
    const char *s;
    cr_assert_eq(api->value_string(api->args_at(&a, 0), &s, NULL), PIO_OK);
    cr_assert_str_eq(s, "hello", "argument 0 is the first after the name");
    cr_assert_eq(api->value_type(api->args_at(&a, 1)), PIO_TYPE_OBJECT);
    cr_assert_eq(api->value_type(api->args_at(&a, 2)), PIO_TYPE_NULL);
    cr_assert_null(api->args_at(&a, 3));
    cr_assert_null(api->args_at(&a, SIZE_MAX));
}

Test(args, ack_arguments_start_at_offset_zero)
{
    parse("[1,2]");
    pio_args a = {.list = root, .first = 0};
    cr_assert_eq(api->args_count(&a), 2);
    int64_t n;
    cr_assert_eq(api->value_int64(api->args_at(&a, 0), &n), PIO_OK);
    cr_assert_eq(n, 1);
}

Test(args, event_with_only_a_name_has_no_arguments)
{
    pio_args a = event_args("[\"ping\"]", false);
    cr_assert_eq(api->args_count(&a), 0);
    cr_assert_null(api->args_at(&a, 0));
}

Test(args, empty_argument_list_has_no_arguments)
{
    pio_args a = {.list = NULL, .first = 0};
    cr_assert_eq(api->args_count(&a), 0);
    cr_assert_null(api->args_at(&a, 0));
    cr_assert_eq(api->args_count(NULL), 0);
    cr_assert_null(api->args_at(NULL, 0));
}

Test(args, wants_ack_reflects_the_client_request)
{
    pio_args a = event_args("[\"e\",1]", true);
    cr_assert(api->args_wants_ack(&a));
    pio_args b = {.list = root, .first = 1};
    cr_assert_not(api->args_wants_ack(&b));
    cr_assert_not(api->args_wants_ack(NULL));
}

Test(args, ack_sends_the_arguments_once)
{
    pio_args a = event_args("[\"e\",1]", true);
    pio_out *out = api->out_new(NULL);
    api->out_string(out, "ok", 2);
    api->out_int64(out, 5);
    cr_assert_eq(api->ack(&a, out), PIO_OK);
    cr_assert_eq(acks_sent, 1);
    cr_assert_str_eq(ack_text, "\"ok\",5");
    cr_assert_not(api->args_wants_ack(&a), "no ack is wanted once sent");
}

Test(args, second_ack_is_estate_and_frees_its_out)
{
    pio_args a = event_args("[\"e\",1]", true);
    cr_assert_eq(api->ack(&a, NULL), PIO_OK);
    pio_out *again = api->out_new(NULL);
    api->out_string(again, "late", 4);
    cr_assert_eq(api->ack(&a, again), PIO_ESTATE); /* LeakSanitizer checks `again` is freed */
    cr_assert_eq(acks_sent, 1, "the client is answered once");
}

Test(args, ack_without_a_request_is_estate_and_frees_its_out)
{
    pio_args a = event_args("[\"e\",1]", false);
    pio_out *out = api->out_new(NULL);
    api->out_binary(out, "xyz", 3);
    cr_assert_eq(api->ack(&a, out), PIO_ESTATE);
    cr_assert_eq(acks_sent, 0);
    cr_assert_eq(api->ack(NULL, NULL), PIO_ESTATE);
}

Test(args, ack_with_null_out_acknowledges_without_arguments)
{
    pio_args a = event_args("[\"e\"]", true);
    cr_assert_eq(api->ack(&a, NULL), PIO_OK);
    cr_assert_eq(acks_sent, 1);
    cr_assert_str_eq(ack_text, "");
}

Test(args, strerror_names_every_code)
{
    cr_assert_str_eq(api->strerror(PIO_OK), "success");
    cr_assert_str_eq(api->strerror(PIO_ESTATE), "not allowed in this state");
    cr_assert_str_eq(api->strerror(PIO_ENOSPACE), "buffer too small");
    cr_assert_str_eq(api->strerror(PIO_EUNREACHABLE), "other servers unreachable");
    for (int c = PIO_EUNREACHABLE; c <= PIO_OK; c++)
        cr_assert_str_neq(api->strerror(c), "unknown error", "code %d", c);
    cr_assert_str_eq(api->strerror(-999), "unknown error");
}

Test(args, api_table_states_its_size_and_version)
{
    cr_assert_eq(api->size, sizeof(pio_api));
    cr_assert_eq(api->abi_major, PIO_ABI_MAJOR);
    cr_assert_eq(api->abi_minor, PIO_ABI_MINOR);
    /* Every 1.0 entry is filled in. */
    const void *const *slot = (const void *const *)((const char *)api + offsetof(pio_api, strerror));
    size_t n = (sizeof(pio_api) - offsetof(pio_api, strerror)) / sizeof(void *);
    for (size_t i = 0; i < n; i++)
        cr_assert_not_null(slot[i], "function table entry %zu is empty", i);
}

/* "[item,item,...]" with n items (malloc'd); *len its length. */
static char *array_of(size_t n, const char *item, size_t *len)
{
    size_t k = strlen(item);
    *len = 1 + n * (k + 1);
    char *text = malloc(*len + 1);
    cr_assert_not_null(text);
    text[0] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(text + 1 + i * (k + 1), item, k);
        text[1 + i * (k + 1) + k] = ',';
    }
    text[*len - 1] = ']'; /* over the last comma */
    text[*len] = '\0';
    return text;
}

/* json.h's JSON_BUDGET: memory is bounded by the message's size. */
Test(value, refuses_json_of_empty_objects_that_would_cost_hundreds_of_times_its_size)
{
    size_t n = 333000, len;
    char *text = array_of(n, "{}", &len);
    json_object *j = NULL;
    cr_assert_not(json_parse(text, len, VALUE_MAX_DEPTH, &j));
    cr_assert_null(j);
    free(text);
}

Test(value, parses_json_of_as_many_small_numbers)
{
    size_t n = 333000, len;
    char *text = array_of(n, "7", &len);
    json_object *j = NULL;
    cr_assert(json_parse(text, len, VALUE_MAX_DEPTH, &j));
    cr_assert_eq(json_object_array_length(j), n);
    json_object_put(j);
    free(text);
}
