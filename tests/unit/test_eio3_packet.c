/* Engine.IO protocol 3 framing (Socket.IO v2 clients): packets over
 * WebSocket, text payloads with UTF-16 lengths, binary payloads. */
#include "eio_seen.h"
#include "protocol/eio3_packet.h"

#include <criterion/criterion.h>
#include <string.h>

static int decode(const char *body, seen *s)
{
    return eio3_payload_decode(body, strlen(body), collect, s);
}

static int decode_bin(const void *body, size_t len, seen *s)
{
    return eio3_payload_decode_binary(body, len, collect, s);
}

#define expect_packet(s, i, t, bin, bytes, n)                                  \
    do {                                                                       \
        cr_assert_eq((s).type[i], (t));                                        \
        cr_assert_eq((s).binary[i], (bin));                                    \
        cr_assert_eq((s).len[i], (size_t)(n));                                 \
        cr_assert_eq(memcmp((s).data[i], (bytes), (n)), 0);                    \
    } while (0)

/* ---- text payloads --------------------------------------------------- */

Test(eio3_packet, splits_a_text_payload_by_lengths)
{
    seen s = {0};
    cr_assert_eq(decode("7:42[\"a\"]1:2", &s), 0);
    cr_assert_eq(s.n, 2);
    expect_packet(s, 0, EIO_MESSAGE, false, "2[\"a\"]", 6);
    expect_packet(s, 1, EIO_PING, false, "", 0);
}

Test(eio3_packet, counts_lengths_in_utf16_units)
{
    /* "é" is 2 bytes and 1 unit; "€" 3 bytes, 1 unit; U+1F600 4 bytes, 2 units. */
    seen s = {0};
    const char *body = "5:4\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "1:6";
    cr_assert_eq(decode(body, &s), 0);
    cr_assert_eq(s.n, 2);
    expect_packet(s, 0, EIO_MESSAGE, false, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    cr_assert_eq(s.type[1], EIO_NOOP);
}

Test(eio3_packet, refuses_a_length_that_ends_inside_a_surrogate_pair)
{
    seen s = {0};
    /* 2 units: the type digit and half of U+1F600. */
    cr_assert_eq(decode("2:4\xf0\x9f\x98\x80", &s), EIO_BADLENGTH);
    cr_assert_eq(s.n, 0);
}

Test(eio3_packet, refuses_a_length_in_bytes_for_non_ascii_text)
{
    seen s = {0};
    /* A byte count (3) where the units are 2: the record runs past the end. */
    cr_assert_eq(decode("3:4\xc3\xa9", &s), EIO_BADLENGTH);
    cr_assert_eq(s.n, 0);
}

Test(eio3_packet, decodes_base64_binary_records)
{
    seen s = {0};
    cr_assert_eq(decode("10:b4AQID/w==4:4abc", &s), 0);
    cr_assert_eq(s.n, 2);
    expect_packet(s, 0, EIO_MESSAGE, true, "\x01\x02\x03\xff", 4);
    expect_packet(s, 1, EIO_MESSAGE, false, "abc", 3);
}

Test(eio3_packet, skips_empty_records)
{
    seen s = {0};
    cr_assert_eq(decode("0:1:2", &s), 0);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.type[0], EIO_PING);
}

Test(eio3_packet, refuses_malformed_text_payloads)
{
    static const struct {
        const char *body;
        int rc;
    } cases[] = {
        {"", EIO_EMPTY},
        {"2", EIO_BADLENGTH},          /* no colon */
        {":2", EIO_BADLENGTH},         /* no length */
        {"x:2", EIO_BADLENGTH},        /* not a number */
        {"-1:2", EIO_BADLENGTH},
        {"5:2", EIO_BADLENGTH},        /* longer than what follows */
        {"1:21:", EIO_BADLENGTH},      /* a cut second record */
        {"1:9", EIO_BADTYPE},
        {"3:b4!", EIO_BADBASE64},
        {"2:b9", EIO_BADTYPE},
        {"99999999999999999999:2", EIO_BADLENGTH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        seen s = {0};
        cr_assert_eq(decode(cases[i].body, &s), cases[i].rc, "\"%s\"", cases[i].body);
    }
}

Test(eio3_packet, refuses_text_that_is_not_utf8)
{
    seen s = {0};
    cr_assert_eq(eio3_payload_decode("2:4\xff", 4, collect, &s), EIO_BADUTF8);
    cr_assert_eq(s.n, 0);
}

Test(eio3_packet, delivers_records_before_a_malformed_one_and_none_after)
{
    seen s = {0};
    cr_assert_eq(decode("1:21:9", &s), EIO_BADTYPE);
    cr_assert_eq(s.n, 1);
}

Test(eio3_packet, stops_when_the_callback_says_so)
{
    seen s = {.stop_after = 1};
    cr_assert_eq(decode("1:21:2", &s), 99);
    cr_assert_eq(s.n, 1);
}

Test(eio3_packet, encodes_text_payloads_with_utf16_lengths)
{
    buf b = BUF_INIT;
    eio3_payload_add_text(&b, EIO_OPEN, "{}", 2);
    eio3_payload_add_text(&b, EIO_MESSAGE, "\xf0\x9f\x98\x80\xc3\xa9", 6);
    eio3_payload_add_base64(&b, "\x01\x02\x03\xff", 4);
    cr_assert_str_eq(b.data, "3:0{}4:4\xf0\x9f\x98\x80\xc3\xa9" "10:b4AQID/w==");
    seen s = {0};
    cr_assert_eq(decode(b.data, &s), 0);
    cr_assert_eq(s.n, 3);
    expect_packet(s, 1, EIO_MESSAGE, false, "\xf0\x9f\x98\x80\xc3\xa9", 6);
    expect_packet(s, 2, EIO_MESSAGE, true, "\x01\x02\x03\xff", 4);
    buf_free(&b);
}

Test(eio3_packet, counts_utf16_units)
{
    cr_assert_eq(eio3_utf16_len("", 0), 0);
    cr_assert_eq(eio3_utf16_len("abc", 3), 3);
    cr_assert_eq(eio3_utf16_len("\xc3\xa9\xe2\x82\xac", 5), 2);
    cr_assert_eq(eio3_utf16_len("\xf0\x9f\x98\x80x", 5), 3);
}

/* ---- binary payloads ------------------------------------------------- */

Test(eio3_packet, encodes_and_decodes_binary_payloads)
{
    buf b = BUF_INIT;
    eio3_binpayload_add_text(&b, EIO_MESSAGE, "h\xc3\xa9", 3);
    eio3_binpayload_add_binary(&b, "\x00\xff\x10", 3);
    static const unsigned char want[] = {0, 4, 0xff, '4', 'h', 0xc3, 0xa9,
                                         1, 4, 0xff, 4, 0x00, 0xff, 0x10};
    cr_assert_eq(b.len, sizeof want);
    cr_assert_eq(memcmp(b.data, want, sizeof want), 0);
    seen s = {0};
    cr_assert_eq(decode_bin(b.data, b.len, &s), 0);
    cr_assert_eq(s.n, 2);
    expect_packet(s, 0, EIO_MESSAGE, false, "h\xc3\xa9", 3);
    expect_packet(s, 1, EIO_MESSAGE, true, "\x00\xff\x10", 3);
    buf_free(&b);
}

Test(eio3_packet, writes_multi_digit_lengths_one_byte_per_digit)
{
    char text[120];
    memset(text, 'x', sizeof text);
    buf b = BUF_INIT;
    eio3_binpayload_add_text(&b, EIO_MESSAGE, text, sizeof text);
    static const unsigned char head[] = {0, 1, 2, 1, 0xff, '4'};
    cr_assert_eq(memcmp(b.data, head, sizeof head), 0);
    cr_assert_eq(b.len, sizeof head + sizeof text);
    buf_free(&b);
}

Test(eio3_packet, refuses_malformed_binary_payloads)
{
    static const struct {
        unsigned char bytes[8];
        size_t len;
        int rc;
    } cases[] = {
        {{0}, 0, EIO_EMPTY},
        {{2, 1, 0xff, '2'}, 4, EIO_BADTYPE},      /* kind neither text nor binary */
        {{0, 0xff, '2'}, 3, EIO_BADLENGTH},       /* no digits */
        {{0, 1, '2'}, 3, EIO_BADLENGTH},          /* no 255 */
        {{0, 10, 0xff, '2'}, 4, EIO_BADLENGTH},   /* a "digit" over 9 */
        {{0, 5, 0xff, '2'}, 4, EIO_BADLENGTH},    /* longer than what follows */
        {{0, 2, 0xff, '4', 0xff}, 5, EIO_BADUTF8},
        {{1, 0, 0xff}, 3, EIO_EMPTY},             /* a binary record without its type */
        {{1, 1, 0xff, 9}, 4, EIO_BADTYPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        seen s = {0};
        cr_assert_eq(decode_bin(cases[i].bytes, cases[i].len, &s), cases[i].rc, "case %zu", i);
        cr_assert_eq(s.n, 0, "case %zu", i);
    }
}

/* ---- packets over WebSocket ----------------------------------------- */

Test(eio3_packet, decodes_websocket_packets)
{
    seen s = {0};
    cr_assert_eq(eio3_packet_decode_text("2probe", 6, collect, &s), 0);
    cr_assert_eq(eio3_packet_decode_text("b4AQI=", 6, collect, &s), 0);
    cr_assert_eq(eio3_packet_decode_binary("\x04\x01\x02", 3, collect, &s), 0);
    cr_assert_eq(s.n, 3);
    expect_packet(s, 0, EIO_PING, false, "probe", 5);
    expect_packet(s, 1, EIO_MESSAGE, true, "\x01\x02", 2);
    expect_packet(s, 2, EIO_MESSAGE, true, "\x01\x02", 2);
    cr_assert_eq(eio3_packet_decode_binary("", 0, collect, &s), EIO_EMPTY);
    cr_assert_eq(eio3_packet_decode_binary("\x07", 1, collect, &s), EIO_BADTYPE);
    cr_assert_eq(eio3_packet_decode_text("b", 1, collect, &s), EIO_BADTYPE);
    cr_assert_eq(s.n, 3);
}
