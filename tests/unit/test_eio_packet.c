/* Engine.IO packets and polling payloads: parsing, splitting, encoding. */
#include "eio_seen.h"
#include "protocol/eio_packet.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static int decode(const char *body, seen *s)
{
    return eio_payload_decode(body, strlen(body), collect, s);
}

Test(eio_packet, parses_every_type)
{
    for (int t = 0; t <= 6; t++) {
        char s[] = {(char)('0' + t), 'x', 'y'};
        eio_type type;
        const char *data;
        size_t len;
        cr_assert_eq(eio_packet_parse(s, sizeof s, &type, &data, &len), 0);
        cr_assert_eq(type, (eio_type)t);
        cr_assert_eq(data, s + 1);
        cr_assert_eq(len, 2);
    }
}

Test(eio_packet, parses_packet_without_data)
{
    eio_type type;
    const char *data;
    size_t len;
    cr_assert_eq(eio_packet_parse("2", 1, &type, &data, &len), 0);
    cr_assert_eq(type, EIO_PING);
    cr_assert_eq(len, 0);
}

Test(eio_packet, rejects_empty_packet)
{
    eio_type type;
    const char *data;
    size_t len;
    cr_assert_eq(eio_packet_parse("", 0, &type, &data, &len), EIO_EMPTY);
}

Test(eio_packet, rejects_unknown_type)
{
    eio_type type;
    const char *data;
    size_t len;
    cr_assert_eq(eio_packet_parse("7", 1, &type, &data, &len), EIO_BADTYPE);
    cr_assert_eq(eio_packet_parse("/x", 2, &type, &data, &len), EIO_BADTYPE);
    cr_assert_eq(eio_packet_parse("bAQ==", 5, &type, &data, &len), EIO_BADTYPE);
}

Test(eio_payload, splits_on_record_separator)
{
    seen s = {0};
    cr_assert_eq(decode("4hello\x1e" "2\x1e" "4world", &s), 0);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.type[0], EIO_MESSAGE);
    cr_assert_str_eq(s.data[0], "hello");
    cr_assert_eq(s.type[1], EIO_PING);
    cr_assert_eq(s.len[1], 0);
    cr_assert_eq(s.type[2], EIO_MESSAGE);
    cr_assert_str_eq(s.data[2], "world");
    cr_assert_not(s.binary[0] || s.binary[1] || s.binary[2]);
}

Test(eio_payload, decodes_base64_binary_between_text)
{
    seen s = {0};
    cr_assert_eq(decode("4hello\x1e" "bAQIDBA==\x1e" "451-[\"x\"]\x1e" "bAAE=", &s), 0);
    cr_assert_eq(s.n, 4);
    cr_assert_not(s.binary[0]);
    cr_assert_str_eq(s.data[0], "hello");
    cr_assert(s.binary[1]);
    cr_assert_eq(s.type[1], EIO_MESSAGE);
    cr_assert_eq(s.len[1], 4);
    cr_assert_arr_eq(s.data[1], "\x01\x02\x03\x04", 4);
    cr_assert_not(s.binary[2]);
    cr_assert_str_eq(s.data[2], "51-[\"x\"]");
    cr_assert(s.binary[3]);
    cr_assert_eq(s.len[3], 2);
    cr_assert_arr_eq(s.data[3], "\x00\x01", 2);
}

Test(eio_payload, decodes_empty_binary)
{
    seen s = {0};
    cr_assert_eq(decode("b", &s), 0);
    cr_assert_eq(s.n, 1);
    cr_assert(s.binary[0]);
    cr_assert_eq(s.len[0], 0);
}

Test(eio_payload, rejects_empty_body)
{
    seen s = {0};
    cr_assert_eq(decode("", &s), EIO_EMPTY);
    cr_assert_eq(s.n, 0);
}

Test(eio_payload, rejects_empty_record_and_stops_there)
{
    seen s = {0};
    cr_assert_eq(decode("4a\x1e\x1e" "4b", &s), EIO_EMPTY);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.data[0], "a");
}

Test(eio_payload, rejects_trailing_separator)
{
    seen s = {0};
    cr_assert_eq(decode("4a\x1e", &s), EIO_EMPTY);
    cr_assert_eq(s.n, 1);
}

Test(eio_payload, rejects_unknown_type_in_record)
{
    seen s = {0};
    cr_assert_eq(decode("4a\x1e" "9\x1e" "4b", &s), EIO_BADTYPE);
    cr_assert_eq(s.n, 1);
}

Test(eio_payload, rejects_bad_base64)
{
    /* Outside the alphabet, URL-safe alphabet, unpadded, misplaced and
     * excess padding, whitespace: each one lws alone would let through. */
    static const char *bad[] = {
        "bAQ!DBA==", "b-_-_", "bAQIDBA", "bAQIDBA=", "bAQ=A", "bAQ==AQ==",
        "bAQIDBA===", "b====", "bA===", "bAQ ID", "bA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s = {0};
        cr_assert_eq(decode(bad[i], &s), EIO_BADBASE64, "%s", bad[i]);
        cr_assert_eq(s.n, 0, "%s", bad[i]);
    }
}

Test(eio_payload, stops_on_bad_base64_after_delivering_earlier_records)
{
    seen s = {0};
    cr_assert_eq(decode("4a\x1e" "bAQ!D\x1e" "4b", &s), EIO_BADBASE64);
    cr_assert_eq(s.n, 1);
}

Test(eio_payload, returns_what_the_callback_returns)
{
    seen s = {.stop_after = 2};
    cr_assert_eq(decode("4a\x1e" "4b\x1e" "4c", &s), 99);
    cr_assert_eq(s.n, 2);
}

Test(eio_encode, joins_packets_with_separator)
{
    buf b = BUF_INIT;
    eio_payload_add_text(&b, EIO_MESSAGE, "hello", 5);
    eio_payload_add_text(&b, EIO_PING, NULL, 0);
    eio_payload_add_binary(&b, "\x01\x02\x03\x04", 4);
    cr_assert_not(b.failed);
    cr_assert_str_eq(b.data, "4hello\x1e" "2\x1e" "bAQIDBA==");
    buf_free(&b);
}

Test(eio_encode, first_packet_has_no_separator)
{
    buf b = BUF_INIT;
    eio_payload_add_binary(&b, "\xff", 1);
    cr_assert_str_eq(b.data, "b/w==");
    buf_free(&b);
}

Test(eio_encode, encodes_empty_binary)
{
    buf b = BUF_INIT;
    eio_payload_add_text(&b, EIO_NOOP, NULL, 0);
    eio_payload_add_binary(&b, "", 0);
    cr_assert_not(b.failed);
    cr_assert_eq(b.len, 3);
    cr_assert_str_eq(b.data, "6\x1e" "b");
    buf_free(&b);
}

Test(eio_encode, sizes_match_what_is_appended)
{
    for (size_t n = 0; n < 40; n++) {
        unsigned char bytes[40];
        for (size_t i = 0; i < n; i++)
            bytes[i] = (unsigned char)(i * 37 + 11);
        buf b = BUF_INIT;
        eio_payload_add_text(&b, EIO_OPEN, "{}", 2);
        size_t before = b.len;
        eio_payload_add_binary(&b, bytes, n);
        cr_assert_eq(b.len - before, eio_payload_binary_size(n), "n=%zu", n);
        before = b.len;
        eio_payload_add_text(&b, EIO_MESSAGE, (const char *)bytes, n);
        cr_assert_eq(b.len - before, eio_payload_text_size(n), "n=%zu", n);
        buf_free(&b);
    }
}

typedef struct bytes_seen {
    int n;
    unsigned char data[64];
    size_t len;
} bytes_seen;

static int keep_binary(void *ud, eio_type type, const char *data, size_t len, bool binary)
{
    bytes_seen *s = ud;
    if (!binary || type != EIO_MESSAGE)
        return 0;
    cr_assert_leq(len, sizeof s->data);
    memcpy(s->data, data, len);
    s->len = len;
    s->n++;
    return 0;
}

Test(eio_encode, binary_round_trips_at_every_length)
{
    for (size_t n = 0; n <= 64; n++) {
        unsigned char bytes[64];
        for (size_t i = 0; i < n; i++)
            bytes[i] = (unsigned char)(255 - i * 7);
        buf b = BUF_INIT;
        eio_payload_add_text(&b, EIO_MESSAGE, "x", 1);
        eio_payload_add_binary(&b, bytes, n);
        cr_assert_not(b.failed);
        bytes_seen s = {0};
        cr_assert_eq(eio_payload_decode(b.data, b.len, keep_binary, &s), 0, "n=%zu", n);
        cr_assert_eq(s.n, 1);
        cr_assert_eq(s.len, n);
        cr_assert_arr_eq(s.data, bytes, n, "n=%zu", n);
        buf_free(&b);
    }
}

Test(eio_encode, text_round_trips)
{
    buf b = BUF_INIT;
    eio_payload_add_text(&b, EIO_MESSAGE, "2[\"hi\"]", 7);
    eio_payload_add_text(&b, EIO_CLOSE, NULL, 0);
    seen s = {0};
    cr_assert_eq(eio_payload_decode(b.data, b.len, collect, &s), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.type[0], EIO_MESSAGE);
    cr_assert_str_eq(s.data[0], "2[\"hi\"]");
    cr_assert_eq(s.type[1], EIO_CLOSE);
    buf_free(&b);
}

Test(eio_strerror, names_every_error)
{
    cr_assert_str_eq(eio_strerror(EIO_EMPTY), "empty packet");
    cr_assert_str_eq(eio_strerror(EIO_BADTYPE), "unknown packet type");
    cr_assert_str_eq(eio_strerror(EIO_BADBASE64), "invalid base64 in binary packet");
    cr_assert_str_eq(eio_strerror(EIO_NOMEM), "out of memory");
    cr_assert_str_eq(eio_strerror(-100), "unknown error");
}
