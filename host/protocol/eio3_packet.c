/*
 * eio3_packet.c - Engine.IO protocol 3 framing (see eio3_packet.h).
 *
 * Written by hand: no C library speaks this framing.  The decoders follow
 * engine.io's parser for protocol 3 (decodePacket, decodePayload,
 * decodePayloadAsBinary) and are stricter where the JavaScript leans on
 * Number() coercion or on slicing past the end: a length is ASCII digits
 * (one byte per digit in a binary payload) and must fit in what is left,
 * a text length must not end inside a surrogate pair, and text must be
 * UTF-8.  Text is validated once, with the host's one validator
 * (utf8_valid), and then stepped through by lead bytes.
 *
 * As with protocol 4, a text record is handed over as a pointer into the
 * body; only a binary record written as base64 needs a scratch buffer.
 */
#include "eio3_packet.h"

#include "base/utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_MAX '6'
#define LENGTH_END 0xff /* ends the length digits of a binary payload record */
#define MAX_DIGITS 19   /* fits size_t: no real record comes near it */

/* ---- packets --------------------------------------------------------- */

int eio3_packet_decode_text(const char *s, size_t len, eio_payload_fn fn, void *ud)
{
    if (len > 0 && s[0] == 'b') {
        if (len < 2 || s[1] < '0' || s[1] > TYPE_MAX)
            return EIO_BADTYPE;
        return eio_deliver_base64((eio_type)(s[1] - '0'), s + 2, len - 2, fn, ud);
    }
    return eio_deliver_text(s, len, fn, ud);
}

int eio3_packet_decode_binary(const void *data, size_t len, eio_payload_fn fn, void *ud)
{
    const unsigned char *b = data;
    if (len == 0)
        return EIO_EMPTY;
    if (b[0] > TYPE_MAX - '0')
        return EIO_BADTYPE;
    return fn(ud, (eio_type)b[0], (const char *)b + 1, len - 1, true);
}

/* ---- UTF-16 lengths -------------------------------------------------- */

size_t eio3_utf16_len(const char *s, size_t len)
{
    /* Every character is one unit, except the four-byte ones: two. */
    size_t units = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        units += (c & 0xc0) != 0x80;
        units += c >= 0xf0;
    }
    return units;
}

/* How many bytes of valid UTF-8 text s make `units` UTF-16 units; false
 * when the text is shorter, or the last unit is half a surrogate pair. */
static bool bytes_for_units(const char *s, size_t len, size_t units, size_t *bytes)
{
    size_t i = 0;
    while (units > 0) {
        if (i == len)
            return false;
        unsigned char c = (unsigned char)s[i];
        size_t seq = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        size_t u = seq == 4 ? 2 : 1;
        if (u > units)
            return false;
        units -= u;
        i += seq;
    }
    *bytes = i;
    return true;
}

/* ---- payloads -------------------------------------------------------- */

int eio3_payload_decode(const char *body, size_t len, eio_payload_fn fn, void *ud)
{
    if (len == 0)
        return EIO_EMPTY;
    if (!utf8_valid(body, len))
        return EIO_BADUTF8;
    size_t pos = 0;
    while (pos < len) {
        size_t units = 0, digits = 0;
        for (; pos < len && body[pos] >= '0' && body[pos] <= '9'; pos++, digits++) {
            if (digits == MAX_DIGITS)
                return EIO_BADLENGTH;
            units = units * 10 + (size_t)(body[pos] - '0');
        }
        if (digits == 0 || pos == len || body[pos] != ':')
            return EIO_BADLENGTH;
        pos++;
        size_t n;
        if (!bytes_for_units(body + pos, len - pos, units, &n))
            return EIO_BADLENGTH;
        if (n > 0) {
            int rc = eio3_packet_decode_text(body + pos, n, fn, ud);
            if (rc != 0)
                return rc;
        }
        pos += n;
    }
    return 0;
}

int eio3_payload_decode_binary(const void *body, size_t len, eio_payload_fn fn, void *ud)
{
    const unsigned char *b = body;
    if (len == 0)
        return EIO_EMPTY;
    size_t pos = 0;
    while (pos < len) {
        unsigned char kind = b[pos++];
        if (kind > 1)
            return EIO_BADTYPE;
        size_t n = 0, digits = 0;
        for (; pos < len && b[pos] != LENGTH_END; pos++, digits++) {
            if (b[pos] > 9 || digits == MAX_DIGITS)
                return EIO_BADLENGTH;
            n = n * 10 + b[pos];
        }
        if (digits == 0 || pos == len || n > len - pos - 1)
            return EIO_BADLENGTH;
        pos++;
        const char *rec = (const char *)b + pos;
        int rc;
        if (kind == 0) {
            rc = utf8_valid(rec, n) ? eio3_packet_decode_text(rec, n, fn, ud) : EIO_BADUTF8;
        } else {
            rc = eio3_packet_decode_binary(rec, n, fn, ud);
        }
        if (rc != 0)
            return rc;
        pos += n;
    }
    return 0;
}

void eio3_payload_add_text(buf *payload, eio_type type, const char *data, size_t len)
{
    buf_printf(payload, "%zu:%c", 1 + eio3_utf16_len(data, len), (char)('0' + type));
    buf_append(payload, data, len);
}

void eio3_payload_add_base64(buf *payload, const void *data, size_t len)
{
    size_t enc = eio_base64_len(len);
    if (enc > SIZE_MAX - 2) {
        payload->failed = true;
        return;
    }
    buf_printf(payload, "%zu:b%c", enc + 2, '0' + EIO_MESSAGE);
    eio_base64_append(payload, data, len);
}

/* <kind> <the decimal digits of n, one byte each> <255> */
static void add_record_head(buf *payload, unsigned char kind, size_t n)
{
    char digits[24];
    int k = snprintf(digits, sizeof digits, "%zu", n);
    buf_append_char(payload, (char)kind);
    for (int i = 0; i < k; i++)
        buf_append_char(payload, (char)(digits[i] - '0'));
    buf_append_char(payload, (char)LENGTH_END);
}

void eio3_binpayload_add_text(buf *payload, eio_type type, const char *data, size_t len)
{
    if (len == SIZE_MAX) {
        payload->failed = true;
        return;
    }
    add_record_head(payload, 0, len + 1);
    buf_append_char(payload, (char)('0' + type));
    buf_append(payload, data, len);
}

void eio3_binpayload_add_binary(buf *payload, const void *data, size_t len)
{
    if (len == SIZE_MAX) {
        payload->failed = true;
        return;
    }
    add_record_head(payload, 1, len + 1);
    buf_append_char(payload, (char)EIO_MESSAGE);
    buf_append(payload, data, len);
}
