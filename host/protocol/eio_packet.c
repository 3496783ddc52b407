/*
 * eio_packet.c - Engine.IO v4 packets and long-polling payloads (see
 * eio_packet.h).
 *
 * A payload is split in place: records are delimited by 0x1e and handed
 * to the callback as pointers into the body, so a text packet costs no
 * copy.  Only a "b<base64>" record needs memory, a scratch buffer for its
 * decoded bytes that lives for the duration of the callback.
 *
 * Base64 goes through libwebsockets, with two guards around it, because
 * lws_b64_decode_string_len() is lenient where a protocol parser must not
 * be: it skips characters outside the alphabet, accepts the URL-safe
 * alphabet, missing or misplaced padding, and when the output buffer is
 * a little short it silently returns fewer bytes instead of failing.  So
 * b64_decoded_len() checks the text strictly first (standard alphabet,
 * length a multiple of four, at most two '=' and only at the end) and
 * computes the exact decoded length; the output buffer gets slack, and a
 * result of any other length is treated as an error.  The encoder also
 * wants slack past the text it writes (a terminator and then some); the
 * sizes here were measured against lws 4.1 and are checked, not trusted.
 */
#include "eio_packet.h"

#include <libwebsockets.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_SEP '\x1e'

/* What lws needs beyond the exact output length (see the top comment). */
#define B64_SLACK 4

int eio_packet_parse(const char *s, size_t len, eio_type *type, const char **data, size_t *dlen)
{
    if (len == 0)
        return EIO_EMPTY;
    if (s[0] < '0' || s[0] > '6')
        return EIO_BADTYPE;
    *type = (eio_type)(s[0] - '0');
    *data = s + 1;
    *dlen = len - 1;
    return 0;
}

static bool b64_in_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* The number of bytes s decodes to, or -1 when s is not canonical
 * padded base64. */
static ptrdiff_t b64_decoded_len(const char *s, size_t len)
{
    if (len % 4 != 0 || len > PTRDIFF_MAX)
        return -1;
    size_t pad = 0;
    if (len > 0 && s[len - 1] == '=')
        pad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++) {
        if (!b64_in_alphabet((unsigned char)s[i]))
            return -1;
    }
    return (ptrdiff_t)(len / 4 * 3 - pad);
}

/* Decode strictly into a fresh allocation the caller frees (EIO_BADBASE64,
 * EIO_NOMEM). */
static int base64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
    ptrdiff_t want = b64_decoded_len(s, len);
    if (want < 0)
        return EIO_BADBASE64;
    if (len > INT_MAX - B64_SLACK)
        return EIO_NOMEM; /* beyond what lws takes; no sane body is this big */
    size_t cap = len / 4 * 3 + B64_SLACK;
    unsigned char *bytes = malloc(cap);
    if (!bytes)
        return EIO_NOMEM;
    int n = 0;
    if (len > 0)
        n = lws_b64_decode_string_len(s, (int)len, (char *)bytes, (int)cap);
    if (n != want) {
        free(bytes);
        return EIO_BADBASE64;
    }
    *out = bytes;
    *outlen = (size_t)n;
    return 0;
}

int eio_deliver_base64(eio_type type, const char *b64, size_t len, eio_payload_fn fn, void *ud)
{
    unsigned char *bytes;
    size_t n;
    int rc = base64_decode(b64, len, &bytes, &n);
    if (rc != 0)
        return rc;
    rc = fn(ud, type, (const char *)bytes, n, true);
    free(bytes);
    return rc;
}

int eio_deliver_text(const char *packet, size_t len, eio_payload_fn fn, void *ud)
{
    eio_type type;
    const char *data;
    size_t dlen;
    int rc = eio_packet_parse(packet, len, &type, &data, &dlen);
    return rc != 0 ? rc : fn(ud, type, data, dlen, false);
}

/* Deliver one record of a payload. */
static int deliver_record(const char *rec, size_t len, eio_payload_fn fn, void *ud)
{
    if (len == 0)
        return EIO_EMPTY;
    if (rec[0] == 'b')
        return eio_deliver_base64(EIO_MESSAGE, rec + 1, len - 1, fn, ud);
    return eio_deliver_text(rec, len, fn, ud);
}

int eio_payload_decode(const char *body, size_t len, eio_payload_fn fn, void *ud)
{
    /* An empty body is one empty record, malformed like any other. */
    size_t start = 0;
    for (;;) {
        const char *sep = memchr(body + start, RECORD_SEP, len - start);
        size_t end = sep ? (size_t)(sep - body) : len;
        int rc = deliver_record(body + start, end - start, fn, ud);
        if (rc != 0 || !sep)
            return rc;
        start = end + 1;
    }
}

static void add_separator(buf *payload)
{
    if (payload->len > 0)
        buf_append_char(payload, RECORD_SEP);
}

void eio_payload_add_text(buf *payload, eio_type type, const char *data, size_t len)
{
    add_separator(payload);
    buf_append_char(payload, (char)('0' + type));
    buf_append(payload, data, len);
}

/* Length of the base64 text for n bytes; SIZE_MAX when it would not fit. */
static size_t b64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    return groups > SIZE_MAX / 4 ? SIZE_MAX : groups * 4;
}

void eio_base64_append(buf *b, const void *data, size_t len)
{
    size_t enc = b64_encoded_len(len);
    if (enc > (size_t)INT_MAX - B64_SLACK) {
        b->failed = true; /* lws takes int sizes */
        return;
    }
    if (len == 0 || !buf_reserve(b, enc + B64_SLACK))
        return;
    int n = lws_b64_encode_string(data, (int)len, b->data + b->len, (int)(enc + B64_SLACK));
    if (n < 0 || (size_t)n != enc) {
        b->failed = true;
        return;
    }
    b->len += enc;
    b->data[b->len] = '\0';
}

size_t eio_base64_len(size_t n) { return b64_encoded_len(n); }

void eio_payload_add_binary(buf *payload, const void *data, size_t len)
{
    add_separator(payload);
    buf_append_char(payload, 'b');
    eio_base64_append(payload, data, len);
}

/* Both sizes count the separator, which every packet but a payload's first
 * is preceded by: a sum over packets is exact or one byte over, never
 * under, which is the safe side of a budget. */
size_t eio_payload_text_size(size_t data_len)
{
    return data_len > SIZE_MAX - 2 ? SIZE_MAX : data_len + 2;
}

size_t eio_payload_binary_size(size_t data_len)
{
    size_t enc = b64_encoded_len(data_len);
    return enc > SIZE_MAX - 2 ? SIZE_MAX : enc + 2;
}

const char *eio_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case EIO_EMPTY:
        return "empty packet";
    case EIO_BADTYPE:
        return "unknown packet type";
    case EIO_BADBASE64:
        return "invalid base64 in binary packet";
    case EIO_NOMEM:
        return "out of memory";
    case EIO_BADLENGTH:
        return "bad record length in payload";
    case EIO_BADUTF8:
        return "payload text is not UTF-8";
    }
    return "unknown error";
}
