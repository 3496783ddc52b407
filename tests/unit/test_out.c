/*
 * test_out.c - the writer behind pio_out (host/base/out.c): the exact JSON text
 * a client receives for what a plugin writes, the binary attachments it
 * collects, and how each misuse makes the list invalid.  Called through
 * the host's function table, as a plugin calls it.
 */
#include "base/out.h"
#include "base/value.h"
#include "plugin/plugin.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pio_api *api = &host_api;
static pio_out *o;
static json_object *tree;

static void setup(void) { o = api->out_new(NULL); }

static void teardown(void)
{
    api->out_free(o);
    o = NULL;
    json_object_put(tree);
    tree = NULL;
}

TestSuite(out, .init = setup, .fini = teardown);

/* The arguments written so far, comma-separated as they go on the wire. */
static const char *text(void) { return o->text.data ? o->text.data : ""; }

static void expect_text(const char *want)
{
    cr_assert(out_is_complete(o), "the list should be complete and valid");
    cr_assert_str_eq(text(), want);
}

/* The text of a single double. */
static const char *dbl(double v)
{
    api->out_free(o);
    o = api->out_new(NULL);
    cr_assert_eq(api->out_double(o, v), PIO_OK);
    return text();
}

/* ---- building ------------------------------------------------------------ */

Test(out, new_list_is_empty_and_complete)
{
    cr_assert_not_null(o);
    cr_assert(out_is_complete(o));
    cr_assert_str_eq(text(), "");
    cr_assert_eq(o->count, 0);
}

Test(out, writes_every_scalar_as_separate_arguments)
{
    cr_assert_eq(api->out_null(o), PIO_OK);
    cr_assert_eq(api->out_bool(o, 1), PIO_OK);
    cr_assert_eq(api->out_bool(o, 0), PIO_OK);
    cr_assert_eq(api->out_bool(o, 42), PIO_OK);
    cr_assert_eq(api->out_int64(o, -12), PIO_OK);
    cr_assert_eq(api->out_double(o, 2.5), PIO_OK);
    cr_assert_eq(api->out_string(o, "hi", 2), PIO_OK);
    expect_text("null,true,false,true,-12,2.5,\"hi\"");
    cr_assert_eq(o->count, 7);
}

Test(out, builds_nested_arrays_and_objects)
{
    api->out_object_begin(o);
    api->out_key(o, "a", 1);
    api->out_int64(o, 1);
    api->out_key(o, "b", 1);
    api->out_array_begin(o);
    api->out_bool(o, 1);
    api->out_null(o);
    api->out_object_begin(o);
    api->out_key(o, "c", 1);
    api->out_string(o, "d", 1);
    api->out_object_end(o);
    api->out_array_begin(o);
    api->out_array_end(o);
    api->out_array_end(o);
    api->out_key(o, "e", 1);
    api->out_object_begin(o);
    api->out_object_end(o);
    cr_assert_eq(api->out_object_end(o), PIO_OK);
    cr_assert_eq(api->out_string(o, "second", 6), PIO_OK);
    expect_text("{\"a\":1,\"b\":[true,null,{\"c\":\"d\"},[]],\"e\":{}},\"second\"");
    cr_assert_eq(o->count, 2, "two top-level arguments");
}

Test(out, text_is_valid_json_when_bracketed)
{
    api->out_int64(o, 1);
    api->out_object_begin(o);
    api->out_key(o, "k\"ey", 4);
    api->out_array_begin(o);
    api->out_double(o, 0.25);
    api->out_array_end(o);
    api->out_object_end(o);
    cr_assert(out_is_complete(o));
    char wire[256];
    snprintf(wire, sizeof wire, "[%s]", text());
    cr_assert(value_parse(wire, strlen(wire), &tree), "not JSON: %s", wire);
    cr_assert_eq(json_object_array_length(tree), 2);
}

/* ---- strings --------------------------------------------------------------- */

Test(out, escapes_quotes_backslashes_and_control_characters)
{
    static const char s[] = "a\"b\\c\x1f\n\r\t\b\f\x01/d";
    cr_assert_eq(api->out_string(o, s, sizeof s - 1), PIO_OK);
    expect_text("\"a\\\"b\\\\c\\u001f\\n\\r\\t\\b\\f\\u0001/d\"");
}

Test(out, escapes_embedded_nul)
{
    cr_assert_eq(api->out_string(o, "a\0b", 3), PIO_OK);
    expect_text("\"a\\u0000b\"");
}

Test(out, passes_unicode_through_unescaped)
{
    static const char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f";
    cr_assert_eq(api->out_string(o, s, sizeof s - 1), PIO_OK);
    expect_text("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f\"");
}

Test(out, writes_only_len_bytes_of_a_string)
{
    cr_assert_eq(api->out_string(o, "abcdef", 3), PIO_OK);
    cr_assert_eq(api->out_string(o, NULL, 0), PIO_OK, "NULL with length 0 is the empty string");
    expect_text("\"abc\",\"\"");
}

Test(out, escapes_keys_like_strings)
{
    api->out_object_begin(o);
    cr_assert_eq(api->out_key(o, "q\"\n", 3), PIO_OK);
    api->out_int64(o, 1);
    api->out_object_end(o);
    expect_text("{\"q\\\"\\n\":1}");
}

/* ---- numbers ------------------------------------------------------------- */

Test(out, writes_doubles_as_javascript_does)
{
    cr_assert_str_eq(dbl(0.1), "0.1");
    cr_assert_str_eq(dbl(1.5), "1.5");
    cr_assert_str_eq(dbl(123), "123");
    cr_assert_str_eq(dbl(-42), "-42");
    cr_assert_str_eq(dbl(0), "0");
    cr_assert_str_eq(dbl(-0.0), "0");
    cr_assert_str_eq(dbl(1e20), "100000000000000000000");
    cr_assert_str_eq(dbl(1e21), "1e+21");
    cr_assert_str_eq(dbl(0.1 + 0.2), "0.30000000000000004");
    cr_assert_str_eq(dbl(1.0 / 3), "0.3333333333333333");
}

Test(out, writes_non_finite_doubles_as_null)
{
    cr_assert_str_eq(dbl(NAN), "null");
    cr_assert_str_eq(dbl(INFINITY), "null");
    cr_assert_str_eq(dbl(-INFINITY), "null");
}

Test(out, doubles_read_back_as_the_same_value)
{
    static const double vs[] = {1e-7, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308,
                                123456789.123456789, 9007199254740993.0, 3.14159};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
        const char *t = dbl(vs[i]);
        json_object *j = NULL;
        cr_assert(value_parse(t, strlen(t), &j), "not JSON: %s", t);
        cr_assert_eq(json_object_get_double(j), vs[i], "%s reads back as %.17g", t,
                     json_object_get_double(j));
        json_object_put(j);
    }
}

Test(out, writes_int64_extremes_exactly)
{
    api->out_int64(o, INT64_MIN);
    api->out_int64(o, INT64_MAX);
    api->out_int64(o, 0);
    expect_text("-9223372036854775808,9223372036854775807,0");
}

/* ---- binary ---------------------------------------------------------------- */

Test(out, binary_becomes_numbered_placeholders_and_attachments)
{
    api->out_binary(o, "AB", 2);
    api->out_object_begin(o);
    api->out_key(o, "file", 4);
    api->out_binary(o, "\0\1\2", 3);
    api->out_object_end(o);
    api->out_binary(o, NULL, 0);
    expect_text("{\"_placeholder\":true,\"num\":0},"
                "{\"file\":{\"_placeholder\":true,\"num\":1}},"
                "{\"_placeholder\":true,\"num\":2}");
    value_bin **bins = o->bins;
    cr_assert_eq(o->n_bins, 3);
    cr_assert_eq(bins[0]->len, 2);
    cr_assert_eq(memcmp(bins[0]->data, "AB", 2), 0);
    cr_assert_eq(bins[1]->len, 3);
    cr_assert_eq(memcmp(bins[1]->data, "\0\1\2", 3), 0);
    cr_assert_eq(bins[2]->len, 0);
}

Test(out, binary_is_copied)
{
    char data[4] = "abc";
    api->out_binary(o, data, 3);
    data[0] = 'X';
    cr_assert_eq(memcmp(o->bins[0]->data, "abc", 3), 0);
}

Test(out, many_binaries_are_all_kept)
{
    for (int i = 0; i < 40; i++) {
        unsigned char byte = (unsigned char)i;
        cr_assert_eq(api->out_binary(o, &byte, 1), PIO_OK);
    }
    cr_assert(out_is_complete(o));
    cr_assert_eq(o->n_bins, 40);
    for (int i = 0; i < 40; i++)
        cr_assert_eq(o->bins[i]->data[0], i);
    cr_assert_not_null(strstr(text(), "{\"_placeholder\":true,\"num\":39}"));
}

/* ---- out_value ------------------------------------------------------------- */

static const pio_value *parse(const char *json)
{
    json_object_put(tree);
    tree = NULL;
    cr_assert(value_parse(json, strlen(json), &tree), "cannot parse %s", json);
    return value_wrap(tree);
}

Test(out, value_copies_a_parsed_tree)
{
    const pio_value *v = parse("{ \"a\" : [1, 2.5, \"s\\\"/\", null, true], \"b\" : {} }");
    cr_assert_eq(api->out_value(o, v), PIO_OK);
    cr_assert_eq(api->out_value(o, api->value_member(v, "a")), PIO_OK);
    expect_text("{\"a\":[1,2.5,\"s\\\"/\",null,true],\"b\":{}},[1,2.5,\"s\\\"/\",null,true]");
}

Test(out, value_copies_null_and_scalars)
{
    api->out_value(o, parse("null"));
    api->out_value(o, parse("-7"));
    api->out_value(o, parse("\"x\""));
    expect_text("null,-7,\"x\"");
}

Test(out, value_renumbers_binary_placeholders_into_this_message)
{
    /* The tree came with its own numbering (1 then 0); this message already
     * holds one attachment, so the copies become 1 and 2 in writing order. */
    const pio_value *v = parse("[{\"_placeholder\":true,\"num\":1},{\"k\":{\"_placeholder\":true,\"num\":0}}]");
    cr_assert(value_attach_binary(json_object_array_get_idx(tree, 0), "first", 5));
    cr_assert(value_attach_binary(
        json_object_object_get(json_object_array_get_idx(tree, 1), "k"), "second", 6));
    api->out_binary(o, "pre", 3);
    cr_assert_eq(api->out_value(o, v), PIO_OK);
    expect_text("{\"_placeholder\":true,\"num\":0},"
                "[{\"_placeholder\":true,\"num\":1},{\"k\":{\"_placeholder\":true,\"num\":2}}]");
    cr_assert_eq(o->n_bins, 3);
    cr_assert_eq(o->bins[1]->len, 5);
    cr_assert_eq(memcmp(o->bins[1]->data, "first", 5), 0);
    cr_assert_eq(o->bins[2]->len, 6);
    cr_assert_eq(memcmp(o->bins[2]->data, "second", 6), 0);
}

Test(out, value_copies_big_integers_with_their_value)
{
    /* What socket.io-client sends for 1e20 and -1e20. */
    const pio_value *v = parse("[100000000000000000000,-100000000000000000000]");
    cr_assert_eq(api->out_value(o, v), PIO_OK);
    cr_assert(out_is_complete(o));
    json_object *back = NULL;
    cr_assert(value_parse(text(), strlen(text()), &back), "not JSON: %s", text());
    double a = json_object_get_double(json_object_array_get_idx(back, 0));
    double b = json_object_get_double(json_object_array_get_idx(back, 1));
    json_object_put(back);
    cr_assert_eq(a, 1e20, "wrote %s", text());
    cr_assert_eq(b, -1e20, "wrote %s", text());
}

Test(out, value_of_an_absent_value_is_einval)
{
    cr_assert_eq(api->out_value(o, NULL), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

/* ---- out_json ------------------------------------------------------------ */

Test(out, json_appends_validated_text_compactly)
{
    cr_assert_eq(api->out_int64(o, 1), PIO_OK);
    static const char j[] = " { \"a\" : [ true , null ] , \"b\" : \"c/d\" } ";
    cr_assert_eq(api->out_json(o, j, sizeof j - 1), PIO_OK);
    cr_assert_eq(api->out_json(o, "null", 4), PIO_OK);
    expect_text("1,{\"a\":[true,null],\"b\":\"c/d\"},null");
    cr_assert_eq(o->count, 3);
}

Test(out, json_can_be_an_object_member)
{
    api->out_object_begin(o);
    api->out_key(o, "data", 4);
    cr_assert_eq(api->out_json(o, "[1,2]", 5), PIO_OK);
    api->out_object_end(o);
    expect_text("{\"data\":[1,2]}");
}

Test(out, json_rejects_invalid_text)
{
    cr_assert_eq(api->out_json(o, "[1,", 3), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, json_rejects_trailing_garbage_and_null)
{
    cr_assert_eq(api->out_json(o, "{} x", 4), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
    api->out_free(o);
    o = api->out_new(NULL);
    cr_assert_eq(api->out_json(o, NULL, 0), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, json_rejects_numbers_that_are_not_json)
{
    /* Were they accepted, they would be copied verbatim into the packet
     * and the client's JSON.parse would fail on it. */
    static const char *const bad[] = {"NaN", "[Infinity]", "-Infinity", "1.", "[1.e5]", "-01"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        api->out_free(o);
        o = api->out_new(NULL);
        cr_expect_eq(api->out_json(o, bad[i], strlen(bad[i])), PIO_EINVAL,
                     "accepted %s and wrote %s", bad[i], text());
    }
}

Test(out, json_rejects_invalid_utf8)
{
    cr_assert_eq(api->out_json(o, "\"\xff\"", 3), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

/* ---- misuse ---------------------------------------------------------------- */

Test(out, value_in_an_object_without_a_key_is_invalid)
{
    api->out_object_begin(o);
    cr_assert_eq(api->out_int64(o, 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, key_outside_an_object_is_invalid)
{
    cr_assert_eq(api->out_key(o, "k", 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, key_inside_an_array_is_invalid)
{
    api->out_array_begin(o);
    cr_assert_eq(api->out_key(o, "k", 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, two_keys_in_a_row_are_invalid)
{
    api->out_object_begin(o);
    api->out_key(o, "a", 1);
    cr_assert_eq(api->out_key(o, "b", 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, end_without_begin_is_invalid)
{
    cr_assert_eq(api->out_array_end(o), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
    api->out_free(o);
    o = api->out_new(NULL);
    cr_assert_eq(api->out_object_end(o), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, mismatched_end_is_invalid)
{
    api->out_array_begin(o);
    cr_assert_eq(api->out_object_end(o), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, object_end_after_a_dangling_key_is_invalid)
{
    api->out_object_begin(o);
    api->out_key(o, "k", 1);
    cr_assert_eq(api->out_object_end(o), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, unclosed_container_is_incomplete)
{
    api->out_array_begin(o);
    api->out_int64(o, 1);
    cr_assert_not(out_is_complete(o));
    api->out_array_end(o);
    cr_assert(out_is_complete(o));
}

Test(out, invalid_utf8_string_is_invalid)
{
    cr_assert_eq(api->out_string(o, "\xc3\x28", 2), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, invalid_utf8_key_is_invalid)
{
    api->out_object_begin(o);
    cr_assert_eq(api->out_key(o, "\xff", 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, nesting_of_128_is_allowed)
{
    for (int i = 0; i < OUT_MAX_DEPTH; i++)
        cr_assert_eq(api->out_array_begin(o), PIO_OK, "level %d", i + 1);
    for (int i = 0; i < OUT_MAX_DEPTH; i++)
        cr_assert_eq(api->out_array_end(o), PIO_OK);
    cr_assert(out_is_complete(o));
    cr_assert_eq(strlen(text()), 2 * OUT_MAX_DEPTH);
}

Test(out, nesting_deeper_than_128_is_invalid)
{
    for (int i = 0; i < OUT_MAX_DEPTH; i++)
        api->out_object_begin(o), api->out_key(o, "k", 1);
    cr_assert_eq(api->out_array_begin(o), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, invalid_list_stays_invalid)
{
    api->out_key(o, "k", 1); /* misuse */
    cr_assert_eq(api->out_int64(o, 1), PIO_EINVAL);
    cr_assert_eq(api->out_string(o, "s", 1), PIO_EINVAL);
    cr_assert_eq(api->out_array_begin(o), PIO_EINVAL);
    cr_assert_eq(api->out_binary(o, "b", 1), PIO_EINVAL);
    cr_assert_eq(api->out_json(o, "1", 1), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, null_data_with_a_length_is_invalid)
{
    cr_assert_eq(api->out_binary(o, NULL, 3), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
    api->out_free(o);
    o = api->out_new(NULL);
    cr_assert_eq(api->out_string(o, NULL, 3), PIO_EINVAL);
    cr_assert_not(out_is_complete(o));
}

Test(out, free_of_null_is_harmless)
{
    api->out_free(NULL);
}

Test(out, free_releases_an_unfinished_list)
{
    /* LeakSanitizer checks that the text and attachments go with it. */
    api->out_array_begin(o);
    api->out_binary(o, "x", 1);
    api->out_string(o, "y", 1);
}

Test(out, every_entry_refuses_a_null_list)
{
    cr_assert_eq(api->out_null(NULL), PIO_EINVAL);
    cr_assert_eq(api->out_bool(NULL, 1), PIO_EINVAL);
    cr_assert_eq(api->out_double(NULL, 1), PIO_EINVAL);
    cr_assert_eq(api->out_int64(NULL, 1), PIO_EINVAL);
    cr_assert_eq(api->out_string(NULL, "s", 1), PIO_EINVAL);
    cr_assert_eq(api->out_binary(NULL, "b", 1), PIO_EINVAL);
    cr_assert_eq(api->out_json(NULL, "1", 1), PIO_EINVAL);
    cr_assert_eq(api->out_value(NULL, NULL), PIO_EINVAL);
    cr_assert_eq(api->out_key(NULL, "k", 1), PIO_EINVAL);
    cr_assert_eq(api->out_array_begin(NULL), PIO_EINVAL);
    cr_assert_eq(api->out_array_end(NULL), PIO_EINVAL);
    cr_assert_eq(api->out_object_begin(NULL), PIO_EINVAL);
    cr_assert_eq(api->out_object_end(NULL), PIO_EINVAL);
}

Test(out, null_list_with_invalid_input_is_einval_not_a_crash)
{
    /* The input is checked before the list: these must not touch NULL. */
    cr_expect_eq(api->out_string(NULL, "\xff", 1), PIO_EINVAL);
    cr_expect_eq(api->out_string(NULL, NULL, 1), PIO_EINVAL);
    cr_expect_eq(api->out_binary(NULL, NULL, 1), PIO_EINVAL);
}

/* ---- back to a tree (what an adapter is handed) ------------------------- */

Test(out, tree_has_the_head_first_and_each_binary_as_its_bytes)
{
    const unsigned char bytes[] = {7, 0, 9};
    api->out_int64(o, 1);
    api->out_object_begin(o);
    api->out_key(o, "buf", 3);
    api->out_binary(o, bytes, sizeof bytes);
    api->out_object_end(o);
    api->out_binary(o, "hi", 2);
    tree = out_tree(o, "news");
    cr_assert_not_null(tree);
    cr_assert_eq(json_object_array_length(tree), 4);
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(tree, 0)), "news");
    cr_assert_eq(json_object_get_int(json_object_array_get_idx(tree, 1)), 1);
    const value_bin *b0 = value_get_binary(
        json_object_object_get(json_object_array_get_idx(tree, 2), "buf"));
    const value_bin *b1 = value_get_binary(json_object_array_get_idx(tree, 3));
    cr_assert_not_null(b0, "a nested binary carries its bytes");
    cr_assert_not_null(b1);
    cr_assert_eq(b0->len, 3);
    cr_assert_eq(memcmp(b0->data, bytes, 3), 0);
    cr_assert_eq(b1->len, 2);
    cr_assert_eq(memcmp(b1->data, "hi", 2), 0);
}

Test(out, tree_of_nothing_is_the_head_alone_or_empty)
{
    tree = out_tree(o, "ping");
    cr_assert_str_eq(json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PLAIN), "[\"ping\"]");
    json_object_put(tree);
    tree = out_tree(NULL, NULL);
    cr_assert_str_eq(json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PLAIN), "[]");
    json_object_put(tree);
    /* A literal placeholder a plugin wrote as JSON, naming no attachment,
     * stays an object. */
    api->out_json(o, "{\"_placeholder\":true,\"num\":5}", 29);
    tree = out_tree(o, NULL);
    cr_assert_null(value_get_binary(json_object_array_get_idx(tree, 0)));
}
