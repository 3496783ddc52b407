/* MessagePack <-> values: what notepack.io writes reads as the JSON parser
 * would read JSON.stringify of the same JavaScript value, and what the host
 * writes is byte for byte what notepack.io writes.  The hex strings were
 * produced by notepack.io 2.2.0 (socket.io-msgpack-parser 3.0.2's). */
#include "base/value.h"
#include "base/value_msgpack.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *hex, unsigned char *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static int parse_hex(const char *hex, json_object **out, bool *undefined)
{
    unsigned char bytes[4096];
    size_t n = unhex(hex, bytes);
    return value_msgpack_parse(bytes, n, 128, out, undefined);
}

/* Parse hex, expect success, return the value's compact JSON (static). */
static const char *as_json(const char *hex)
{
    static char text[4096];
    json_object *j;
    bool undefined;
    int rc = parse_hex(hex, &j, &undefined);
    cr_assert_eq(rc, VMP_OK, "%s: rc %d", hex, rc);
    cr_assert_not(undefined, "%s", hex);
    snprintf(text, sizeof text, "%s",
             j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
               : "null");
    json_object_put(j);
    return text;
}

static void expect_reads(const char *hex, const char *json)
{
    cr_assert_str_eq(as_json(hex), json, "%s", hex);
}

static void expect_refused(const char *hex, int code)
{
    json_object *j = (json_object *)1;
    bool undefined;
    int rc = parse_hex(hex, &j, &undefined);
    cr_assert_eq(rc, code, "%s: rc %d", hex, rc);
    cr_assert_null(j, "%s", hex);
}

/* Write the value of JSON text; compare with notepack's hex. */
static void expect_writes(const char *json, const char *hex)
{
    json_object *j;
    cr_assert(value_parse(json, strlen(json), &j), "%s", json);
    buf b = BUF_INIT;
    cr_assert(value_msgpack_write(&b, j, NULL, 0));
    char got[8192] = "";
    for (size_t i = 0; i < b.len && 2 * i + 2 < sizeof got; i++)
        sprintf(got + 2 * i, "%02x", (unsigned char)b.data[i]);
    cr_assert_str_eq(got, hex, "%s", json);
    buf_free(&b);
    json_object_put(j);
}

/* ---- reading ------------------------------------------------------------ */

Test(msgpack_read, reads_every_integer_form)
{
    expect_reads("00", "0");
    expect_reads("7f", "127");
    expect_reads("cc80", "128");
    expect_reads("cd0100", "256");
    expect_reads("ce00010000", "65536");
    expect_reads("cf0000000100000000", "4294967296");
    expect_reads("cf0020000000000000", "9007199254740992"); /* 2^53 */
    expect_reads("ff", "-1");
    expect_reads("e0", "-32");
    expect_reads("d0df", "-33");
    expect_reads("d1ff7f", "-129");
    expect_reads("d2ffff7fff", "-32769");
    expect_reads("d3ffe0000000000000", "-9007199254740992");
    expect_reads("d38000000000000000", "-9223372036854775808");
    expect_reads("cf7fffffffffffffff", "9223372036854775807");
}

Test(msgpack_read, integers_are_ints_and_fractions_doubles)
{
    json_object *j;
    bool undefined;
    cr_assert_eq(parse_hex("cf0020000000000001", &j, &undefined), VMP_OK);
    cr_assert(json_object_is_type(j, json_type_int));
    cr_assert_eq(json_object_get_int64(j), 9007199254740993LL); /* exact, unlike JavaScript */
    json_object_put(j);
    cr_assert_eq(parse_hex("cb3ff8000000000000", &j, &undefined), VMP_OK);
    cr_assert(json_object_is_type(j, json_type_double));
    cr_assert_float_eq(json_object_get_double(j), 1.5, 0);
    json_object_put(j);
}

Test(msgpack_read, reads_a_uint64_beyond_int64_as_javascript_does)
{
    json_object *j;
    bool undefined;
    cr_assert_eq(parse_hex("cfffffffffffffffff", &j, &undefined), VMP_OK);
    cr_assert(json_object_is_type(j, json_type_double));
    cr_assert_float_eq(json_object_get_double(j), 18446744073709551616.0, 0);
    json_object_put(j);
}

Test(msgpack_read, reads_floats_as_json_stringify_would_write_them)
{
    expect_reads("cb3ff8000000000000", "1.5");
    expect_reads("cb3fb999999999999a", "0.1");
    expect_reads("ca3fc00000", "1.5");          /* float32 */
    expect_reads("cb4014000000000000", "5");    /* an integral double is a number like 5 */
    expect_reads("cb8000000000000000", "0");    /* -0: JSON.stringify(-0) is "0" */
    expect_reads("cb7ff8000000000000", "null"); /* NaN */
    expect_reads("cb7ff0000000000000", "null"); /* Infinity */
    expect_reads("cbfff0000000000000", "null"); /* -Infinity */
    expect_reads("cb7e37e43c8800759c", "1e+300");
    expect_reads("cb43e0000000000000", "9223372036854775808"); /* 2^63: past int64 */
}

Test(msgpack_read, reads_strings_nil_booleans)
{
    expect_reads("a0", "\"\"");
    expect_reads("a3616263", "\"abc\"");
    expect_reads("d903616263", "\"abc\"");
    expect_reads("da0003616263", "\"abc\"");
    expect_reads("db00000003616263", "\"abc\"");
    expect_reads("a3e282ac", "\"\xe2\x82\xac\"");
    expect_reads("a3610062", "\"a\\u0000b\"");
    expect_reads("c0", "null");
    expect_reads("c3", "true");
    expect_reads("c2", "false");
}

Test(msgpack_read, reads_arrays_and_maps)
{
    expect_reads("90", "[]");
    expect_reads("80", "{}");
    expect_reads("82a16101a16292c3c0", "{\"a\":1,\"b\":[true,null]}");
    expect_reads("dc0002c0c3", "[null,true]");
    expect_reads("dd00000001c0", "[null]");
    expect_reads("de0001a161c0", "{\"a\":null}");
    expect_reads("df00000001a161c0", "{\"a\":null}");
    expect_reads("82a16101a16102", "{\"a\":2}"); /* the last of a repeated key */
}

Test(msgpack_read, names_non_string_keys_as_javascript_does)
{
    expect_reads("8101c3", "{\"1\":true}");
    expect_reads("81ffc3", "{\"-1\":true}");
    expect_reads("81c0c3", "{\"null\":true}");
    expect_reads("81c3c3", "{\"true\":true}");
}

Test(msgpack_read, reads_bin_as_binary_values_numbered_in_order)
{
    json_object *j;
    bool undefined;
    cr_assert_eq(parse_hex("93c403010203c70300040506" "81a162c400", &j, &undefined), VMP_OK);
    cr_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
                     "[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1},"
                     "{\"b\":{\"_placeholder\":true,\"num\":2}}]");
    const value_bin *b = value_get_binary(json_object_array_get_idx(j, 0));
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 3);
    cr_assert_eq(memcmp(b->data, "\1\2\3", 3), 0);
    b = value_get_binary(json_object_array_get_idx(j, 1)); /* ext 0: an ArrayBuffer */
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 3);
    cr_assert_eq(memcmp(b->data, "\4\5\6", 3), 0);
    b = value_get_binary(json_object_object_get(json_object_array_get_idx(j, 2), "b"));
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 0);
    cr_assert_eq(value_type(value_wrap(json_object_array_get_idx(j, 0))), PIO_TYPE_BINARY);
    json_object_put(j);
}

Test(msgpack_read, reads_undefined_as_json_stringify_drops_it)
{
    json_object *j;
    bool undefined;
    cr_assert_eq(parse_hex("d40000", &j, &undefined), VMP_OK);
    cr_assert(undefined);
    cr_assert_null(j);
    expect_reads("82a161d40000a16201", "{\"b\":1}");
    expect_reads("91d40000", "[null]");
    expect_reads("82a16101a161d40000", "{}"); /* a later undefined removes the key */
}

Test(msgpack_read, reads_dates_as_their_iso_strings)
{
    expect_reads("d7000000000000000000", "\"1970-01-01T00:00:00.000Z\"");
    expect_reads("d700ffffffffffffffff", "\"1969-12-31T23:59:59.999Z\"");
    expect_reads("d70000000179c35e2ed8", "\"2021-05-31T17:00:00.088Z\"");
    expect_reads("d700001eb208c2dc0000", "\"+275760-09-13T00:00:00.000Z\""); /* 8.64e15 */
    expect_reads("d700ffe14df73d240000", "\"-271821-04-20T00:00:00.000Z\"");
    expect_reads("d7000000e677d21fdc00", "\"+010000-01-01T00:00:00.000Z\"");
    expect_reads("d700001eb208c2dc0001", "null"); /* past a Date's range: Invalid Date */
}

Test(msgpack_read, reads_other_ext_types_as_notepack_does)
{
    json_object *j;
    bool undefined;
    cr_assert_eq(parse_hex("d50102ff", &j, &undefined), VMP_OK);
    cr_assert_eq(json_object_array_length(j), 2);
    cr_assert_eq(json_object_get_int64(json_object_array_get_idx(j, 0)), 1);
    const value_bin *b = value_get_binary(json_object_array_get_idx(j, 1));
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 2);
    json_object_put(j);
    expect_reads("d4ff00", "[-1,{\"_placeholder\":true,\"num\":0}]");
    expect_reads("d60001020304", "[0,{\"_placeholder\":true,\"num\":0}]"); /* fixext 4, type 0 */
}

/* ---- malformed input ---------------------------------------------------- */

Test(msgpack_read, refuses_truncated_input)
{
    expect_refused("", VMP_EMALFORMED);
    expect_refused("cc", VMP_EMALFORMED);
    expect_refused("cd01", VMP_EMALFORMED);
    expect_refused("cb3ff80000", VMP_EMALFORMED);
    expect_refused("a361", VMP_EMALFORMED);
    expect_refused("d9", VMP_EMALFORMED);
    expect_refused("d905616263", VMP_EMALFORMED);
    expect_refused("c40301", VMP_EMALFORMED);
    expect_refused("92c0", VMP_EMALFORMED);
    expect_refused("81a161", VMP_EMALFORMED);
    expect_refused("d700000000", VMP_EMALFORMED);
    expect_refused("c70300", VMP_EMALFORMED);
    expect_refused("c7", VMP_EMALFORMED);
}

Test(msgpack_read, refuses_trailing_bytes_and_the_unused_prefix)
{
    expect_refused("c0c0", VMP_EMALFORMED);
    expect_refused("c1", VMP_EMALFORMED);
    expect_refused("91c1", VMP_EMALFORMED);
}

Test(msgpack_read, refuses_counts_the_bytes_left_cannot_hold)
{
    /* 2^32-1 elements announced in a few bytes: refused before any allocation. */
    expect_refused("ddffffffff", VMP_EMALFORMED);
    expect_refused("dfffffffffc0c0", VMP_EMALFORMED);
    expect_refused("dbffffffff61", VMP_EMALFORMED);
    expect_refused("c6ffffffff00", VMP_EMALFORMED);
    expect_refused("c9ffffffff0000", VMP_EMALFORMED);
}

Test(msgpack_read, refuses_invalid_utf8_in_strings_and_keys)
{
    expect_refused("a2c0af", VMP_EMALFORMED);   /* overlong */
    expect_refused("a3eda080", VMP_EMALFORMED); /* surrogate */
    expect_refused("a1ff", VMP_EMALFORMED);
    expect_refused("81a1ffc0", VMP_EMALFORMED);
}

Test(msgpack_read, refuses_keys_json_c_cannot_hold_or_javascript_would_not_name_simply)
{
    expect_refused("81a3610062c0", VMP_EMALFORMED); /* U+0000 in a key */
    expect_refused("8190c0", VMP_EMALFORMED);       /* an array as key */
    expect_refused("8180c0", VMP_EMALFORMED);
    expect_refused("81c400c0", VMP_EMALFORMED);
    expect_refused("81cb3ff8000000000000c0", VMP_EMALFORMED);
}

/* ---- limits ------------------------------------------------------------- */

static void nested(unsigned depth, unsigned char *bytes, size_t *n)
{
    for (unsigned i = 0; i < depth; i++)
        bytes[i] = 0x91;
    bytes[depth] = 0xc0;
    *n = depth + 1;
}

Test(msgpack_read, nests_as_deep_as_the_json_parser_and_no_deeper)
{
    unsigned char bytes[300];
    size_t n;
    json_object *j;
    bool undefined;
    nested(128, bytes, &n);
    cr_assert_eq(value_msgpack_parse(bytes, n, 128, &j, &undefined), VMP_OK);
    json_object_put(j);
    nested(129, bytes, &n);
    cr_assert_eq(value_msgpack_parse(bytes, n, 128, &j, &undefined), VMP_EDEPTH);
    cr_assert_null(j);
    /* maps count too */
    unsigned char maps[3 * 130];
    size_t k = 0;
    for (int i = 0; i < 129; i++) {
        maps[k++] = 0x81;
        maps[k++] = 0xa0;
    }
    maps[k++] = 0xc0;
    cr_assert_eq(value_msgpack_parse(maps, k, 128, &j, &undefined), VMP_EDEPTH);
    cr_assert_eq(value_msgpack_parse(maps + 2, k - 2, 128, &j, &undefined), VMP_OK);
    json_object_put(j);
}

/* Found by tests/fuzz/msgpack.c: an ext read as notepack's [type, bytes]
 * is an array, one level more, so at the limit it made a tree deeper than
 * the limit (which the host then wrote and could not read back). */
Test(msgpack_read, counts_an_ext_read_as_an_array_as_a_level)
{
    unsigned char bytes[300];
    size_t n;
    json_object *j = NULL;
    bool undefined;
    nested(127, bytes, &n); /* 127 arrays, then [5, <bin>] */
    bytes[127] = 0xd4;
    bytes[128] = 0x05;
    bytes[129] = 0x2a;
    n = 130;
    cr_assert_eq(value_msgpack_parse(bytes, n, 128, &j, &undefined), VMP_OK);
    json_object_put(j);
    j = NULL;
    cr_assert_eq(value_msgpack_parse(bytes + 1, n - 1, 126, &j, &undefined), VMP_EDEPTH);
    cr_assert_null(j);
    cr_assert_eq(value_msgpack_parse(bytes, n, 127, &j, &undefined), VMP_EDEPTH);
    cr_assert_null(j);
    cr_assert_eq(value_msgpack_parse(bytes + 127, 3, 0, &j, &undefined), VMP_EDEPTH);
    cr_assert_eq(value_msgpack_parse(bytes + 127, 3, 1, &j, &undefined), VMP_OK);
    json_object_put(j);
}

Test(msgpack_read, reads_a_large_array_whose_bytes_are_all_there)
{
    size_t count = 70000;
    unsigned char *bytes = malloc(5 + count);
    bytes[0] = 0xdd;
    bytes[1] = 0;
    bytes[2] = (unsigned char)(count >> 16);
    bytes[3] = (unsigned char)(count >> 8);
    bytes[4] = (unsigned char)count;
    memset(bytes + 5, 0x01, count);
    json_object *j;
    bool undefined;
    cr_assert_eq(value_msgpack_parse(bytes, 5 + count, 128, &j, &undefined), VMP_OK);
    cr_assert_eq(json_object_array_length(j), count);
    json_object_put(j);
    cr_assert_eq(value_msgpack_parse(bytes, 4 + count, 128, &j, &undefined), VMP_EMALFORMED);
    free(bytes);
}

/* ---- writing ------------------------------------------------------------ */

Test(msgpack_write, writes_integers_as_notepack_does)
{
    expect_writes("0", "00");
    expect_writes("127", "7f");
    expect_writes("128", "cc80");
    expect_writes("255", "ccff");
    expect_writes("256", "cd0100");
    expect_writes("65536", "ce00010000");
    expect_writes("4294967296", "cf0000000100000000");
    expect_writes("9007199254740992", "cf0020000000000000");
    expect_writes("-1", "ff");
    expect_writes("-32", "e0");
    expect_writes("-33", "d0df");
    expect_writes("-128", "d080");
    expect_writes("-129", "d1ff7f");
    expect_writes("-32769", "d2ffff7fff");
    expect_writes("-2147483649", "d3ffffffff7fffffff");
    expect_writes("-9007199254740992", "d3ffe0000000000000");
}

Test(msgpack_write, writes_numbers_as_notepack_does)
{
    expect_writes("1.5", "cb3ff8000000000000");
    expect_writes("-0.0", "00");                        /* notepack: -0 is the int 0 */
    expect_writes("5.0", "05");                         /* integral: an int */
    expect_writes("1e3", "cd03e8");
    expect_writes("9223372036854775808", "cf8000000000000000"); /* 2^63 */
    /* notepack garbles integral numbers past 2^64 (it writes cf 00..00 for
     * 1e300); the host writes the float64 a decoder reads back exactly. */
    expect_writes("1e300", "cb7e37e43c8800759c");
}

Test(msgpack_write, writes_strings_nil_booleans_containers)
{
    expect_writes("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                  "bf61616161616161616161616161616161616161616161616161616161616161");
    expect_writes("\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
                  "d9206161616161616161616161616161616161616161616161616161616161616161");
    expect_writes("null", "c0");
    expect_writes("true", "c3");
    expect_writes("false", "c2");
    expect_writes("{\"a\":1,\"b\":[true,null]}", "82a16101a16292c3c0");
    expect_writes("[[],{}]", "929080");
}

Test(msgpack_write, writes_binary_values_and_pio_out_placeholders_as_bin)
{
    json_object *j;
    bool undefined;
    unsigned char in[] = {0x92, 0xc4, 0x02, 0xab, 0xcd, 0x81, 0xa1, 0x62, 0xc4, 0x00};
    cr_assert_eq(value_msgpack_parse(in, sizeof in, 128, &j, &undefined), VMP_OK);
    buf b = BUF_INIT;
    cr_assert(value_msgpack_write(&b, j, NULL, 0));
    cr_assert_eq(b.len, sizeof in);
    cr_assert_eq(memcmp(b.data, in, sizeof in), 0);
    buf_free(&b);
    json_object_put(j);

    /* Placeholders of pio_out's text take their attachment's bytes; one
     * out of range, or with other members, is an ordinary object. */
    const char *text = "[{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":2},"
                       "{\"_placeholder\":true,\"num\":0,\"x\":1}]";
    cr_assert(value_parse(text, strlen(text), &j));
    value_bin *b0 = malloc(sizeof *b0 + 1), *b1 = malloc(sizeof *b1 + 2);
    b0->len = 1;
    b0->data[0] = 7;
    b1->len = 2;
    b1->data[0] = 8;
    b1->data[1] = 9;
    value_bin *bins[] = {b0, b1};
    buf c = BUF_INIT;
    cr_assert(value_msgpack_write(&c, j, bins, 2));
    const unsigned char want[] = {0x93, 0xc4, 0x02, 8, 9, 0x82, 0xac};
    cr_assert_eq(memcmp(c.data, want, sizeof want), 0);
    buf_free(&c);
    json_object_put(j);
    free(b0);
    free(b1);
}

Test(msgpack_roundtrip, reads_back_what_it_writes)
{
    const char *texts[] = {
        /* one string in two lines (the parentheses say so to clang) */
        ("[\"ev\",{\"a\":[1,-1,1.5,\"x\",null,true,false,{}],\"b\":\"\xe2\x82\xac\"},"
         "-9223372036854775808,9223372036854775807,0.1,1e+300]"),
        "{\"nested\":{\"deeper\":{\"deepest\":[[[[]]]]}}}",
        "\"\"",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        json_object *j, *back;
        bool undefined;
        cr_assert(value_parse(texts[i], strlen(texts[i]), &j));
        buf b = BUF_INIT;
        cr_assert(value_msgpack_write(&b, j, NULL, 0));
        cr_assert_eq(value_msgpack_parse(b.data, b.len, 128, &back, &undefined), VMP_OK);
        cr_assert_str_eq(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
                         json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "%s", texts[i]);
        buf_free(&b);
        json_object_put(j);
        json_object_put(back);
    }
}

/* ---- the allocation budget (json.h's JSON_BUDGET) ----------------------- */

/* An array32 of n items, each `item` (one byte). */
static unsigned char *array_of(size_t n, unsigned char item, size_t *len)
{
    unsigned char *m = malloc(5 + n);
    m[0] = 0xdd;
    m[1] = (unsigned char)(n >> 24), m[2] = (unsigned char)(n >> 16);
    m[3] = (unsigned char)(n >> 8), m[4] = (unsigned char)n;
    memset(m + 5, item, n);
    *len = 5 + n;
    return m;
}

Test(msgpack_read, refuses_a_message_of_empty_maps_that_would_cost_hundreds_of_times_its_size)
{
    size_t len;
    unsigned char *m = array_of(999900, 0x80, &len); /* [{}, {}, ...] in 1 MB */
    json_object *j = NULL;
    bool undef;
    cr_assert_eq(value_msgpack_parse(m, len, VALUE_MAX_DEPTH, &j, &undef), VMP_EMALFORMED);
    cr_assert_null(j);
    free(m);
}

Test(msgpack_read, reads_a_message_of_as_many_small_integers)
{
    size_t len;
    unsigned char *m = array_of(999900, 0x07, &len); /* [7, 7, ...] in 1 MB */
    json_object *j = NULL;
    bool undef;
    cr_assert_eq(value_msgpack_parse(m, len, VALUE_MAX_DEPTH, &j, &undef), VMP_OK);
    cr_assert_eq(json_object_array_length(j), 999900);
    json_object_put(j);
    free(m);
}

/* notepack 3 writes a Date as the timestamp extension (type -1): it reads
 * as the ISO string JSON.stringify gives, in each of its three sizes. */
Test(value_msgpack, reads_the_timestamp_extension_as_a_date)
{
    const unsigned char t32[] = {0xd6, 0xff, 0x00, 0x00, 0x00, 0x00};
    const unsigned char t64[] = {0xd7, 0xff, 0x3b, 0x9a, 0xca, 0x00, 0x00, 0x00, 0x00, 0x01};
    const unsigned char t96[] = {0xc7, 0x0c, 0xff, 0x00, 0x00, 0x00, 0x00,
                                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct { const unsigned char *p; size_t n; const char *want; } cases[] = {
        {t32, sizeof t32, "\"1970-01-01T00:00:00.000Z\""},
        {t64, sizeof t64, "\"1970-01-01T00:00:01.250Z\""}, /* 1 s + 250,000,000 ns */
        {t96, sizeof t96, "\"1969-12-31T23:59:59.000Z\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *j = NULL;
        bool undefined = false;
        cr_assert_eq(value_msgpack_parse(cases[i].p, cases[i].n, 8, &j, &undefined), VMP_OK, "case %zu", i);
        cr_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), cases[i].want,
                         "case %zu", i);
        json_object_put(j);
    }
}
