/* Socket.IO packets: the decoder (text, binary reassembly, every malformed
 * case) and the header encoder. */
#include "base/value.h"
#include "protocol/sio_packet.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* Decode one complete text packet with a fresh decoder. */
static int decode(const char *text, sio_packet *p)
{
    sio_decoder d = {0};
    int rc = sio_decoder_text(&d, text, strlen(text), p);
    sio_decoder_reset(&d);
    return rc;
}

/* The packet's payload as compact JSON, for comparison. */
static const char *json(const sio_packet *p)
{
    return json_object_to_json_string_ext(p->data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void expect_error(const char *text, int code)
{
    sio_packet p;
    int rc = decode(text, &p);
    cr_assert_eq(rc, code, "%s: got %s", text, sio_strerror(rc));
    cr_assert_null(p.nsp, "%s", text);
    cr_assert_null(p.data, "%s", text);
}

/* ---- every packet type ---- */

Test(sio_decode, decodes_connect_to_main_namespace)
{
    sio_packet p;
    cr_assert_eq(decode("0", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_CONNECT);
    cr_assert_str_eq(p.nsp, "/");
    cr_assert_eq(p.id, -1);
    cr_assert_not(p.has_data);
    cr_assert_null(p.data);
    sio_packet_free(&p);
}

Test(sio_decode, decodes_connect_with_namespace_and_auth)
{
    sio_packet p;
    cr_assert_eq(decode("0/admin,{\"token\":\"123\"}", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_CONNECT);
    cr_assert_str_eq(p.nsp, "/admin");
    cr_assert_eq(p.id, -1);
    cr_assert(p.has_data);
    cr_assert_str_eq(json(&p), "{\"token\":\"123\"}");
    sio_packet_free(&p);
}

Test(sio_decode, decodes_namespace_without_trailing_comma)
{
    sio_packet p;
    cr_assert_eq(decode("0/admin", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/admin");
    cr_assert_not(p.has_data);
    sio_packet_free(&p);
}

Test(sio_decode, decodes_disconnect)
{
    sio_packet p;
    cr_assert_eq(decode("1", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_DISCONNECT);
    cr_assert_str_eq(p.nsp, "/");
    sio_packet_free(&p);
    cr_assert_eq(decode("1/admin,", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_DISCONNECT);
    cr_assert_str_eq(p.nsp, "/admin");
    cr_assert_not(p.has_data);
    sio_packet_free(&p);
}

Test(sio_decode, decodes_event)
{
    sio_packet p;
    cr_assert_eq(decode("2[\"foo\",1,{\"a\":null}]", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_EVENT);
    cr_assert_str_eq(p.nsp, "/");
    cr_assert_eq(p.id, -1);
    cr_assert_str_eq(json(&p), "[\"foo\",1,{\"a\":null}]");
    sio_packet_free(&p);
}

Test(sio_decode, decodes_event_named_by_a_number)
{
    sio_packet p;
    cr_assert_eq(decode("2[42,\"x\"]", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_EVENT);
    sio_packet_free(&p);
}

Test(sio_decode, decodes_ack)
{
    sio_packet p;
    cr_assert_eq(decode("3/admin,13[\"bar\"]", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_ACK);
    cr_assert_str_eq(p.nsp, "/admin");
    cr_assert_eq(p.id, 13);
    cr_assert_str_eq(json(&p), "[\"bar\"]");
    sio_packet_free(&p);
}

Test(sio_decode, decodes_ack_with_empty_array)
{
    sio_packet p;
    cr_assert_eq(decode("35[]", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_ACK);
    cr_assert_eq(p.id, 5);
    cr_assert_str_eq(json(&p), "[]");
    sio_packet_free(&p);
}

Test(sio_decode, decodes_connect_error_object_and_string)
{
    sio_packet p;
    cr_assert_eq(decode("4{\"message\":\"Not authorized\"}", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_CONNECT_ERROR);
    cr_assert_str_eq(json(&p), "{\"message\":\"Not authorized\"}");
    sio_packet_free(&p);
    cr_assert_eq(decode("4/x,\"nope\"", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/x");
    cr_assert_str_eq(json_object_get_string(p.data), "nope");
    sio_packet_free(&p);
}

/* ---- namespace and ack id combinations ---- */

Test(sio_decode, reads_id_without_namespace)
{
    sio_packet p;
    cr_assert_eq(decode("212[\"foo\"]", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/");
    cr_assert_eq(p.id, 12);
    cr_assert_str_eq(json(&p), "[\"foo\"]");
    sio_packet_free(&p);
}

Test(sio_decode, reads_namespace_and_id)
{
    sio_packet p;
    cr_assert_eq(decode("2/chat,7[\"m\"]", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/chat");
    cr_assert_eq(p.id, 7);
    sio_packet_free(&p);
}

Test(sio_decode, reads_namespace_without_id)
{
    sio_packet p;
    cr_assert_eq(decode("2/chat/room,[\"m\"]", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/chat/room");
    cr_assert_eq(p.id, -1);
    sio_packet_free(&p);
}

Test(sio_decode, reads_largest_id)
{
    sio_packet p;
    cr_assert_eq(decode("29223372036854775807[\"a\"]", &p), SIO_DONE);
    cr_assert_eq(p.id, INT64_MAX);
    sio_packet_free(&p);
    cr_assert_eq(decode("20[\"a\"]", &p), SIO_DONE);
    cr_assert_eq(p.id, 0);
    sio_packet_free(&p);
}

Test(sio_decode, accepts_utf8_namespace)
{
    sio_packet p;
    cr_assert_eq(decode("0/caf\xc3\xa9,", &p), SIO_DONE);
    cr_assert_str_eq(p.nsp, "/caf\xc3\xa9");
    sio_packet_free(&p);
}

/* ---- malformed text packets ---- */

Test(sio_decode, rejects_unknown_type)
{
    expect_error("7[\"a\"]", SIO_EBADTYPE);
    expect_error("9", SIO_EBADTYPE);
    expect_error("x", SIO_EBADTYPE);
    expect_error("", SIO_EBADTYPE);
}

Test(sio_decode, rejects_event_without_array)
{
    expect_error("2{\"a\":1}", SIO_EBADPAYLOAD);
    expect_error("2\"foo\"", SIO_EBADPAYLOAD);
    expect_error("2", SIO_EBADPAYLOAD);
    expect_error("2/chat,", SIO_EBADPAYLOAD);
    expect_error("2/chat,1\"x\"", SIO_EBADPAYLOAD);
}

Test(sio_decode, rejects_event_with_empty_array)
{
    expect_error("2[]", SIO_EBADPAYLOAD);
    expect_error("51-[]", SIO_EBADPAYLOAD);
}

Test(sio_decode, rejects_event_whose_name_is_not_string_or_number)
{
    expect_error("2[null]", SIO_EBADPAYLOAD);
    expect_error("2[[\"a\"]]", SIO_EBADPAYLOAD);
    expect_error("2[{}]", SIO_EBADPAYLOAD);
    expect_error("2[true]", SIO_EBADPAYLOAD);
}

Test(sio_decode, rejects_reserved_event_names)
{
    static const char *names[] = {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                                  "removeListener"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "2[\"%s\",1]", names[i]);
        expect_error(text, SIO_EBADPAYLOAD);
    }
    /* Only the exact names: a prefix or a longer name is an ordinary event. */
    sio_packet p;
    cr_assert_eq(decode("2[\"connecting\"]", &p), SIO_DONE);
    sio_packet_free(&p);
    cr_assert_eq(decode("2[\"connec\"]", &p), SIO_DONE);
    sio_packet_free(&p);
}

Test(sio_decode, treats_reserved_name_with_embedded_nul_as_ordinary)
{
    sio_packet p;
    /* "connect\u0000x" is not "connect" and must not compare equal to it. */
    cr_assert_eq(decode("2[\"connect\\u0000x\"]", &p), SIO_DONE);
    sio_packet_free(&p);
}

Test(sio_event, reserved_names_are_whole_names_of_the_given_length)
{
    cr_assert(sio_event_reserved("disconnect", 10));
    cr_assert(sio_event_reserved("removeListener", 14));
    cr_assert(sio_event_reserved("connect_error!", 13), "the length decides, not a NUL");
    cr_assert_not(sio_event_reserved("connect\0x", 9));
    cr_assert_not(sio_event_reserved("connect", 6));
    cr_assert_not(sio_event_reserved("connection", 10), "socket.io's 'connection' is not reserved");
    cr_assert_not(sio_event_reserved("", 0));
}

Test(sio_decode, rejects_ack_without_array)
{
    expect_error("31{}", SIO_EBADPAYLOAD);
    expect_error("31", SIO_EBADPAYLOAD);
    expect_error("61-1\"x\"", SIO_EBADPAYLOAD);
}

Test(sio_decode, rejects_payload_of_wrong_shape)
{
    expect_error("0[1]", SIO_EBADPAYLOAD);
    expect_error("0\"tok\"", SIO_EBADPAYLOAD);
    expect_error("1{}", SIO_EBADPAYLOAD);
    expect_error("1/admin,[\"a\"]", SIO_EBADPAYLOAD);
    expect_error("4", SIO_EBADPAYLOAD);
    expect_error("4[\"a\"]", SIO_EBADPAYLOAD);
    expect_error("4 ", SIO_EBADJSON);
}

Test(sio_decode, rejects_ack_id_that_overflows)
{
    expect_error("29223372036854775808[\"a\"]", SIO_EBADID);
    expect_error("399999999999999999999999999999[]", SIO_EBADID);
    expect_error("2/chat,18446744073709551616[\"a\"]", SIO_EBADID);
}

Test(sio_decode, rejects_invalid_json)
{
    expect_error("2[\"a\"", SIO_EBADJSON);
    expect_error("2['a']", SIO_EBADJSON);
    expect_error("2[\"a\",]", SIO_EBADJSON);
    expect_error("2x[\"a\"]", SIO_EBADJSON);
    expect_error("0/admin,{token:1}", SIO_EBADJSON);
}

Test(sio_decode, rejects_trailing_garbage_after_json)
{
    expect_error("2[\"a\"]x", SIO_EBADJSON);
    expect_error("2[\"a\"][\"b\"]", SIO_EBADJSON);
    expect_error("0{}}", SIO_EBADJSON);
}

Test(sio_decode, rejects_invalid_utf8_in_json_string)
{
    expect_error("2[\"\xff\"]", SIO_EBADJSON);
    expect_error("2[\"ok\",\"\xc3\x28\"]", SIO_EBADJSON);
}

Test(sio_decode, rejects_json_nested_too_deep)
{
    char text[400];
    size_t n = 0;
    text[n++] = '2';
    for (int i = 0; i < 150; i++)
        text[n++] = '[';
    for (int i = 0; i < 150; i++)
        text[n++] = ']';
    text[n] = '\0';
    expect_error(text, SIO_EBADJSON);
}

Test(sio_decode, rejects_invalid_utf8_namespace)
{
    expect_error("0/\xff,", SIO_EBADNSP);
    expect_error("2/\xc0\xaf,[\"a\"]", SIO_EBADNSP); /* overlong '/' */
    expect_error("0/\xed\xa0\x80,", SIO_EBADNSP);   /* surrogate */
    expect_error("0/\xe2\x82", SIO_EBADNSP);        /* truncated */
}

Test(sio_decode, rejects_nul_in_namespace)
{
    static const char text[] = "0/ad\0min,";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, text, sizeof text - 1, &p), SIO_EBADNSP);
    cr_assert_null(p.nsp);
}

/* ---- attachments count ---- */

Test(sio_decode, rejects_binary_header_without_dash)
{
    expect_error("51[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_EBADATTACH);
    expect_error("51", SIO_EBADATTACH);
    expect_error("5", SIO_EBADATTACH);
}

Test(sio_decode, rejects_binary_header_without_count)
{
    expect_error("5-[\"a\"]", SIO_EBADATTACH);
    expect_error("6-/x,1[]", SIO_EBADATTACH);
    expect_error("5x-[\"a\"]", SIO_EBADATTACH);
}

Test(sio_decode, rejects_too_many_attachments)
{
    char text[64];
    snprintf(text, sizeof text, "5%d-[\"a\"]", SIO_MAX_ATTACHMENTS + 1);
    expect_error(text, SIO_EBADATTACH);
    expect_error("518446744073709551617-[\"a\"]", SIO_EBADATTACH);
    expect_error("599999999999999999999999999-[\"a\"]", SIO_EBADATTACH);
}

Test(sio_decode, rejects_placeholder_num_out_of_range)
{
    expect_error("51-[\"a\",{\"_placeholder\":true,\"num\":1}]", SIO_EBADATTACH);
    expect_error("52-[\"a\",[{\"_placeholder\":true,\"num\":2}]]", SIO_EBADATTACH);
    expect_error("51-[\"a\",{\"_placeholder\":true,\"num\":-1}]", SIO_EBADATTACH);
    expect_error("51-[\"a\",{\"x\":{\"_placeholder\":true,\"num\":18446744073709551615}}]", SIO_EBADATTACH);
    expect_error("50-[\"a\",{\"_placeholder\":true,\"num\":0}]", SIO_EBADATTACH);
}

Test(sio_decode, rejects_placeholder_num_not_an_integer)
{
    expect_error("51-[\"a\",{\"_placeholder\":true,\"num\":\"0\"}]", SIO_EBADATTACH);
    expect_error("52-[\"a\",{\"_placeholder\":true,\"num\":0.5}]", SIO_EBADATTACH);
    expect_error("51-[\"a\",{\"_placeholder\":true}]", SIO_EBADATTACH);
    expect_error("51-[\"a\",{\"_placeholder\":true,\"num\":null}]", SIO_EBADATTACH);
}

/* ---- binary reassembly ---- */

static const value_bin *bin_at(json_object *j) { return value_get_binary(j); }

Test(sio_decode, reassembles_binary_event_at_nested_depth)
{
    const char *header = "52-/admin,7[\"upload\",{\"meta\":{\"parts\":[{\"_placeholder\":true,\"num\":1}]}},"
                         "{\"_placeholder\":true,\"num\":0}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_null(p.data);
    cr_assert_eq(sio_decoder_binary(&d, "\x01\x02", 2, &p), SIO_NEED_BINARY);
    cr_assert_null(p.data);
    cr_assert_eq(sio_decoder_binary(&d, "\x03\x04\x05", 3, &p), SIO_DONE);

    cr_assert_eq(p.type, SIO_BINARY_EVENT);
    cr_assert_str_eq(p.nsp, "/admin");
    cr_assert_eq(p.id, 7);
    cr_assert_eq(p.attachments, 2);
    json_object *first = json_object_array_get_idx(p.data, 2);
    const value_bin *b0 = bin_at(first);
    cr_assert_not_null(b0);
    cr_assert_eq(b0->len, 2);
    cr_assert_arr_eq(b0->data, "\x01\x02", 2);

    json_object *meta, *parts;
    cr_assert(json_object_object_get_ex(json_object_array_get_idx(p.data, 1), "meta", &meta));
    cr_assert(json_object_object_get_ex(meta, "parts", &parts));
    const value_bin *b1 = bin_at(json_object_array_get_idx(parts, 0));
    cr_assert_not_null(b1);
    cr_assert_eq(b1->len, 3);
    cr_assert_arr_eq(b1->data, "\x03\x04\x05", 3);

    /* The decoder is idle again and takes the next packet. */
    cr_assert_null(d.pending);
    sio_packet_free(&p);
    cr_assert_eq(sio_decoder_text(&d, "2[\"x\"]", 6, &p), SIO_DONE);
    sio_packet_free(&p);
    sio_decoder_reset(&d);
}

Test(sio_decode, reassembles_binary_ack)
{
    const char *header = "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "", 0, &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_BINARY_ACK);
    cr_assert_eq(p.id, 15);
    const value_bin *b = bin_at(json_object_array_get_idx(p.data, 1));
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 0);
    sio_packet_free(&p);
    sio_decoder_reset(&d);
}

Test(sio_decode, gives_each_placeholder_of_one_num_the_bytes)
{
    const char *header = "51-[\"e\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":0}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "z", 1, &p), SIO_DONE);
    cr_assert_not_null(bin_at(json_object_array_get_idx(p.data, 1)));
    cr_assert_not_null(bin_at(json_object_array_get_idx(p.data, 2)));
    sio_packet_free(&p);
    sio_decoder_reset(&d);
}

Test(sio_decode, leaves_non_placeholder_objects_alone)
{
    const char *header = "51-[\"e\",{\"_placeholder\":false,\"num\":5},{\"_placeholder\":true,\"num\":0}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "z", 1, &p), SIO_DONE);
    cr_assert_null(bin_at(json_object_array_get_idx(p.data, 1)));
    cr_assert_not_null(bin_at(json_object_array_get_idx(p.data, 2)));
    sio_packet_free(&p);
    sio_decoder_reset(&d);
}

Test(sio_decode, completes_binary_packet_with_zero_attachments_at_once)
{
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, "50-[\"e\",1]", 10, &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_BINARY_EVENT);
    cr_assert_eq(p.attachments, 0);
    cr_assert_null(d.pending);
    sio_packet_free(&p);
    cr_assert_eq(sio_decoder_binary(&d, "x", 1, &p), SIO_EUNEXPECTED);
}

Test(sio_decode, rejects_binary_frame_when_none_awaited)
{
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_binary(&d, "\x01", 1, &p), SIO_EUNEXPECTED);
    cr_assert_null(p.data);
    /* Nor once a packet has all its frames. */
    const char *header = "51-[\"e\",{\"_placeholder\":true,\"num\":0}]";
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "\x01", 1, &p), SIO_DONE);
    sio_packet_free(&p);
    cr_assert_eq(sio_decoder_binary(&d, "\x02", 1, &p), SIO_EUNEXPECTED);
}

Test(sio_decode, rejects_text_while_awaiting_binary)
{
    const char *header = "52-[\"e\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "a", 1, &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_text(&d, "2[\"x\"]", 6, &p), SIO_EUNEXPECTED);
    cr_assert_null(p.data);
    cr_assert_null(p.nsp);
    sio_decoder_reset(&d); /* frees the partial packet and the frame */
}

Test(sio_decode, reset_drops_partial_packet_and_decoder_is_reusable)
{
    const char *header = "52-/x,[\"e\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
    sio_decoder d = {0};
    sio_packet p;
    cr_assert_eq(sio_decoder_text(&d, header, strlen(header), &p), SIO_NEED_BINARY);
    cr_assert_eq(sio_decoder_binary(&d, "abc", 3, &p), SIO_NEED_BINARY);
    sio_decoder_reset(&d);
    cr_assert_null(d.pending);
    cr_assert_eq(sio_decoder_text(&d, "2[\"x\"]", 6, &p), SIO_DONE);
    sio_packet_free(&p);
    sio_decoder_reset(&d);
    sio_decoder_reset(&d); /* twice is harmless */
}

Test(sio_decode, packet_free_zeroes_the_packet)
{
    sio_packet p;
    cr_assert_eq(decode("2/a,1[\"x\"]", &p), SIO_DONE);
    sio_packet_free(&p);
    cr_assert_null(p.nsp);
    cr_assert_null(p.data);
    cr_assert_not(p.has_data);
    sio_packet_free(&p);
}

/* ---- encoder ---- */

static char *header(sio_type type, const char *nsp, int64_t id, size_t attachments)
{
    static char text[128];
    buf b = BUF_INIT;
    sio_encode_header(&b, type, nsp, id, attachments);
    cr_assert_not(b.failed);
    cr_assert_lt(b.len, sizeof text);
    memcpy(text, b.data, b.len + 1);
    buf_free(&b);
    return text;
}

Test(sio_encode, writes_header_fields)
{
    cr_assert_str_eq(header(SIO_CONNECT, "/", -1, 0), "0");
    cr_assert_str_eq(header(SIO_CONNECT, NULL, -1, 0), "0");
    cr_assert_str_eq(header(SIO_EVENT, "/chat", 12, 0), "2/chat,12");
    cr_assert_str_eq(header(SIO_EVENT, "/", 12, 0), "212");
    cr_assert_str_eq(header(SIO_ACK, "/", 0, 0), "30");
    cr_assert_str_eq(header(SIO_DISCONNECT, "/admin", -1, 0), "1/admin,");
    cr_assert_str_eq(header(SIO_BINARY_EVENT, "/", -1, 1), "51-");
    cr_assert_str_eq(header(SIO_BINARY_EVENT, "/x", 3, 1), "51-/x,3");
    cr_assert_str_eq(header(SIO_BINARY_ACK, "/", 15, 1), "61-15");
    cr_assert_str_eq(header(SIO_BINARY_EVENT, "/", -1, 0), "50-");
    cr_assert_str_eq(header(SIO_BINARY_ACK, "/a", INT64_MAX, 10), "610-/a,9223372036854775807");
}

Test(sio_encode, round_trips_through_the_decoder)
{
    struct {
        sio_type type;
        const char *nsp;
        int64_t id;
        size_t attachments;
        const char *payload;
    } cases[] = {
        {SIO_CONNECT, "/", -1, 0, ""},
        {SIO_CONNECT, "/admin", -1, 0, "{\"token\":\"1\"}"},
        {SIO_DISCONNECT, "/admin", -1, 0, ""},
        {SIO_EVENT, "/", 3, 0, "[\"hi\",[1,2]]"},
        {SIO_EVENT, "/chat", -1, 0, "[7]"},
        {SIO_ACK, "/chat", 99, 0, "[]"},
        {SIO_CONNECT_ERROR, "/nope", -1, 0, "{\"message\":\"Invalid namespace\"}"},
        {SIO_BINARY_EVENT, "/b", 4, 1, "[\"f\",{\"_placeholder\":true,\"num\":0}]"},
        {SIO_BINARY_ACK, "/", 8, 2,
         "[{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf b = BUF_INIT;
        sio_encode_header(&b, cases[i].type, cases[i].nsp, cases[i].id, cases[i].attachments);
        buf_append_str(&b, cases[i].payload);
        cr_assert_not(b.failed);

        sio_decoder d = {0};
        sio_packet p;
        int rc = sio_decoder_text(&d, b.data, b.len, &p);
        for (size_t k = 0; k < cases[i].attachments; k++) {
            cr_assert_eq(rc, SIO_NEED_BINARY, "%s", b.data);
            rc = sio_decoder_binary(&d, "x", 1, &p);
        }
        cr_assert_eq(rc, SIO_DONE, "%s: %s", b.data, sio_strerror(rc));
        cr_assert_eq(p.type, cases[i].type, "%s", b.data);
        cr_assert_str_eq(p.nsp, cases[i].nsp, "%s", b.data);
        cr_assert_eq(p.id, cases[i].id, "%s", b.data);
        cr_assert_eq(p.attachments, cases[i].attachments, "%s", b.data);
        cr_assert_eq(p.has_data, cases[i].payload[0] != '\0', "%s", b.data);
        if (p.has_data)
            cr_assert_str_eq(json(&p), cases[i].payload, "%s", b.data);
        sio_packet_free(&p);
        sio_decoder_reset(&d);
        buf_free(&b);
    }
}

Test(sio_strerror, names_every_error)
{
    cr_assert_str_eq(sio_strerror(SIO_EBADTYPE), "unknown packet type");
    cr_assert_str_eq(sio_strerror(SIO_EBADNSP), "malformed namespace");
    cr_assert_str_eq(sio_strerror(SIO_EBADID), "malformed ack id");
    cr_assert_str_eq(sio_strerror(SIO_EBADJSON), "invalid json payload");
    cr_assert_str_eq(sio_strerror(SIO_EBADPAYLOAD), "payload invalid for packet type");
    cr_assert_str_eq(sio_strerror(SIO_EBADATTACH), "bad binary attachments");
    cr_assert_str_eq(sio_strerror(SIO_EUNEXPECTED), "unexpected packet while decoding binary");
    cr_assert_str_eq(sio_strerror(SIO_ENOMEM), "out of memory");
    cr_assert_str_eq(sio_strerror(-99), "unknown error");
}

/* ---- socket.io-msgpack-parser (bytes from its Encoder, 3.0.2) ---- */

static int decode_hex(const char *hex, sio_packet *p)
{
    unsigned char bytes[512];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        bytes[i] = (unsigned char)v;
    }
    return sio_decode_msgpack(bytes, n, p);
}

static void expect_msgpack_error(const char *hex, int code)
{
    sio_packet p;
    int rc = decode_hex(hex, &p);
    cr_assert_eq(rc, code, "%s: got %d (%s)", hex, rc, sio_strerror(rc));
    cr_assert_null(p.nsp, "%s", hex);
    cr_assert_null(p.data, "%s", hex);
    cr_assert_eq(p.id, -1, "%s", hex);
}

static const char *hex_of(const buf *b)
{
    static char text[1024];
    text[0] = '\0';
    for (size_t i = 0; i < b->len && 2 * i + 2 < sizeof text; i++)
        sprintf(text + 2 * i, "%02x", (unsigned char)b->data[i]);
    return text;
}

Test(sio_msgpack, decodes_the_clients_connect_with_undefined_data)
{
    sio_packet p;
    cr_assert_eq(decode_hex("83a47479706500a464617461d40000a36e7370a12f", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_CONNECT);
    cr_assert_str_eq(p.nsp, "/");
    cr_assert_not(p.has_data);
    cr_assert_eq(p.id, -1);
    sio_packet_free(&p);
}

Test(sio_msgpack, decodes_connect_with_auth_to_a_namespace)
{
    sio_packet p;
    cr_assert_eq(decode_hex("83a47479706500a46461746181a5746f6b656ea178a36e7370a52f63686174", &p),
                 SIO_DONE);
    cr_assert_str_eq(p.nsp, "/chat");
    cr_assert(p.has_data);
    cr_assert_str_eq(json(&p), "{\"token\":\"x\"}");
    sio_packet_free(&p);
}

Test(sio_msgpack, decodes_an_event_with_ack_binary_and_options)
{
    sio_packet p;
    cr_assert_eq(decode_hex("85a47479706502a46461746193a568656c6c6f81a16101c4020102a76f7074696f6e73"
                            "81a8636f6d7072657373c3a2696403a36e7370a12f",
                            &p),
                 SIO_DONE);
    cr_assert_eq(p.type, SIO_EVENT); /* never a BINARY type: bin is inline */
    cr_assert_eq(p.id, 3);
    cr_assert_eq(p.attachments, 0);
    cr_assert_str_eq(json(&p), "[\"hello\",{\"a\":1},{\"_placeholder\":true,\"num\":0}]");
    const value_bin *b = value_get_binary(json_object_array_get_idx(p.data, 2));
    cr_assert_not_null(b);
    cr_assert_eq(b->len, 2);
    cr_assert_eq(b->data[1], 2);
    sio_packet_free(&p);
}

Test(sio_msgpack, decodes_ack_and_disconnect)
{
    sio_packet p;
    cr_assert_eq(decode_hex("84a2696407a47479706503a46461746191a26f6ba36e7370a12f", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_ACK);
    cr_assert_eq(p.id, 7);
    cr_assert_str_eq(json(&p), "[\"ok\"]");
    sio_packet_free(&p);
    cr_assert_eq(decode_hex("82a47479706501a36e7370a52f63686174", &p), SIO_DONE);
    cr_assert_eq(p.type, SIO_DISCONNECT);
    cr_assert_str_eq(p.nsp, "/chat");
    sio_packet_free(&p);
}

Test(sio_msgpack, refuses_what_is_not_one_packet_map)
{
    expect_msgpack_error("", SIO_EBADMSGPACK);
    expect_msgpack_error("c1", SIO_EBADMSGPACK);
    expect_msgpack_error("93010203", SIO_EBADMSGPACK);             /* an array */
    expect_msgpack_error("c40100", SIO_EBADMSGPACK);               /* a bin */
    expect_msgpack_error("82a47479706501a36e7370a12fc0", SIO_EBADMSGPACK); /* trailing byte */
    expect_msgpack_error("82a47479706501a36e7370a1", SIO_EBADMSGPACK);     /* truncated */
    expect_msgpack_error("3234", SIO_EBADMSGPACK); /* "24": JSON-parser text as bytes */
}

Test(sio_msgpack, refuses_bad_types_namespaces_and_ids)
{
    expect_msgpack_error("81a36e7370a12f", SIO_EBADTYPE);                    /* no type */
    expect_msgpack_error("82a47479706505a36e7370a12f", SIO_EBADTYPE);        /* binary event */
    expect_msgpack_error("82a474797065ffa36e7370a12f", SIO_EBADTYPE);        /* -1 */
    expect_msgpack_error("82a474797065a132a36e7370a12f", SIO_EBADTYPE);      /* "2" */
    expect_msgpack_error("82a474797065cb3ff8000000000000a36e7370a12f", SIO_EBADTYPE); /* 1.5 */
    expect_msgpack_error("81a47479706501", SIO_EBADNSP);                     /* no nsp */
    expect_msgpack_error("82a47479706501a36e737001", SIO_EBADNSP);           /* nsp 1 */
    expect_msgpack_error("82a47479706501a36e7370a22f00", SIO_EBADNSP);       /* NUL */
    expect_msgpack_error("83a47479706503a36e7370a12fa26964ff", SIO_EBADID);  /* -1 */
    expect_msgpack_error("83a47479706503a36e7370a12fa26964a131", SIO_EBADID);/* "1" */
    expect_msgpack_error("83a47479706503a36e7370a12fa26964cb3ff8000000000000", SIO_EBADID);
}

Test(sio_msgpack, accepts_an_integral_float_as_type_and_id)
{
    sio_packet p; /* JavaScript's isInteger(3.0) */
    cr_assert_eq(decode_hex("84a474797065cb4008000000000000a46461746190a36e7370a12fa26964cb4000000000000000", &p),
                 SIO_DONE);
    cr_assert_eq(p.type, SIO_ACK);
    cr_assert_eq(p.id, 2);
    sio_packet_free(&p);
}

Test(sio_msgpack, refuses_payloads_of_the_wrong_shape)
{
    expect_msgpack_error("83a47479706502a46461746180a36e7370a12f", SIO_EBADPAYLOAD);    /* event {} */
    expect_msgpack_error("82a47479706502a36e7370a12f", SIO_EBADPAYLOAD);                /* event, no data */
    expect_msgpack_error("83a47479706502a464617461c0a36e7370a12f", SIO_EBADPAYLOAD);    /* null */
    expect_msgpack_error("83a47479706503a464617461a161a36e7370a12f", SIO_EBADPAYLOAD);  /* ack "a" */
    expect_msgpack_error("83a47479706500a46461746190a36e7370a12f", SIO_EBADPAYLOAD);    /* connect [] */
    expect_msgpack_error("83a47479706500a464617461c400a36e7370a12f", SIO_EBADPAYLOAD);  /* connect bin */
    expect_msgpack_error("83a47479706501a46461746180a36e7370a12f", SIO_EBADPAYLOAD);    /* disconnect + data */
    /* the event name as the JSON decoder wants it: not reserved, not an object */
    expect_msgpack_error("83a47479706502a46461746191aa646973636f6e6e656374a36e7370a12f",
                         SIO_EBADPAYLOAD);
    expect_msgpack_error("83a47479706502a4646174619180a36e7370a12f", SIO_EBADPAYLOAD);
}

Test(sio_msgpack, bounds_payload_depth_as_the_json_decoder_does)
{
    /* {type:2, nsp:"/", data:["x",[[...[nil]...]]]}: data nests `levels` deep */
    for (int levels = 128; levels <= 129; levels++) {
        unsigned char bytes[300];
        const unsigned char head[] = {0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p',
                                      0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x92, 0xa1, 'x'};
        size_t n = sizeof head;
        memcpy(bytes, head, n);
        for (int i = 1; i < levels; i++)
            bytes[n++] = 0x91;
        bytes[n++] = 0xc0;
        sio_packet p;
        int rc = sio_decode_msgpack(bytes, n, &p);
        cr_assert_eq(rc, levels == 128 ? SIO_DONE : SIO_EBADMSGPACK, "%d levels: rc %d", levels, rc);
        sio_packet_free(&p);
    }
    /* the same depth as JSON text is the limit of the text decoder */
    char text[400] = "2[\"x\",";
    size_t n = strlen(text);
    for (int i = 1; i < 128; i++)
        text[n++] = '[';
    memcpy(text + n, "null", 4);
    n += 4;
    for (int i = 0; i < 128; i++)
        text[n++] = ']';
    text[n] = '\0';
    sio_packet p;
    cr_assert_eq(decode(text, &p), SIO_DONE);
    sio_packet_free(&p);
}

Test(sio_msgpack, encodes_as_socket_io_msgpack_parser)
{
    buf b = BUF_INIT;
    json_object *sid = json_object_new_object();
    json_object_object_add(sid, "sid", json_object_new_string("abc"));
    cr_assert(sio_encode_msgpack(&b, SIO_CONNECT, NULL, -1, sid, true, NULL, 0));
    cr_assert_str_eq(hex_of(&b), "83a47479706500a46461746181a3736964a3616263a36e7370a12f");
    json_object_put(sid);
    buf_clear(&b);
    cr_assert(sio_encode_msgpack(&b, SIO_DISCONNECT, "/chat", -1, NULL, false, NULL, 0));
    cr_assert_str_eq(hex_of(&b), "82a47479706501a36e7370a52f63686174");
    buf_clear(&b);
    json_object *args;
    cr_assert(value_parse("[\"ok\",{\"_placeholder\":true,\"num\":0}]", 36, &args));
    value_bin *bin = malloc(sizeof *bin + 2);
    bin->len = 2;
    bin->data[0] = 1;
    bin->data[1] = 2;
    cr_assert(sio_encode_msgpack(&b, SIO_ACK, "/", 7, args, true, &bin, 1));
    cr_assert_str_eq(hex_of(&b), "84a47479706503a46461746192a26f6bc4020102a36e7370a12fa2696407");
    free(bin);
    json_object_put(args);
    buf_free(&b);
}

Test(sio_msgpack, round_trips_every_packet_it_encodes)
{
    const char *payloads[] = {"{\"message\":\"no\"}", "[\"ev\",1,1.5,null,{\"k\":[true]}]", "[]"};
    sio_type types[] = {SIO_CONNECT_ERROR, SIO_EVENT, SIO_ACK};
    for (size_t i = 0; i < 3; i++) {
        json_object *j;
        cr_assert(value_parse(payloads[i], strlen(payloads[i]), &j));
        buf b = BUF_INIT;
        cr_assert(sio_encode_msgpack(&b, types[i], "/x", (int64_t)i, j, true, NULL, 0));
        sio_packet p;
        int rc = sio_decode_msgpack(b.data, b.len, &p);
        cr_assert_eq(rc, SIO_DONE); /* CONNECT_ERROR too: the client layer refuses it */
        cr_assert_eq(p.type, types[i]);
        cr_assert_eq(p.id, (int64_t)i);
        cr_assert_str_eq(p.nsp, "/x");
        cr_assert_str_eq(json(&p), payloads[i]);
        sio_packet_free(&p);
        buf_free(&b);
        json_object_put(j);
    }
}

Test(sio_msgpack, keeps_the_last_of_a_repeated_member_and_ignores_others)
{
    sio_packet p; /* {data: 1, type: 2, options: {x: [1]}, data: ["b"], nsp: "/"}, as map16 */
    cr_assert_eq(decode_hex("de0005a46461746101a47479706502a76f7074696f6e7381a1789101"
                            "a46461746191a162a36e7370a12f",
                            &p),
                 SIO_DONE);
    cr_assert_str_eq(json(&p), "[\"b\"]");
    sio_packet_free(&p);
    /* a later undefined takes the member away */
    expect_msgpack_error("84a47479706502a46461746191a162a36e7370a12fa464617461d40000", SIO_EBADPAYLOAD);
}
