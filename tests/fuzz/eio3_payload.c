/*
 * eio3_payload.c - libFuzzer target: Engine.IO protocol 3 framing, for
 * Socket.IO v2 clients: the text payload ("<length>:<packet>", lengths in
 * UTF-16 units), the binary payload (<kind><digits><255><record>), and a
 * WebSocket frame as text ("b<type><base64>" too) or binary.  The first
 * input byte picks which (mod 4); the rest is the body.
 *
 * Invariants: a payload that decodes to packets, encoded again with the
 * server's encoder, decodes to the same packets (when its binary ones are
 * messages: the encoders write type 4, the only one the server sends);
 * text packets are valid UTF-8 (eio3_utf16_len needs it).
 */
#include "fuzz.h"

#include "base/utf8.h"
#include "protocol/eio3_packet.h"

enum { TEXT_PAYLOAD, BINARY_PAYLOAD, TEXT_FRAME, BINARY_FRAME };

/* Encode the packets again; false when one cannot be (a binary packet of
 * a type other than message). */
static bool encode(const fuzz_packets *l, bool binary_payload, buf *out)
{
    for (size_t i = 0; i < l->n; i++) {
        const fuzz_packet *p = &l->items[i];
        if (p->binary && p->type != EIO_MESSAGE)
            return false;
        if (binary_payload && p->binary)
            eio3_binpayload_add_binary(out, p->data, p->len);
        else if (binary_payload)
            eio3_binpayload_add_text(out, p->type, p->data, p->len);
        else if (p->binary)
            eio3_payload_add_base64(out, p->data, p->len);
        else
            eio3_payload_add_text(out, p->type, p->data, p->len);
    }
    FUZZ_CHECK(!out->failed);
    return true;
}

static void round_trip(const fuzz_packets *first, bool binary_payload)
{
    buf again = BUF_INIT;
    if (encode(first, binary_payload, &again)) {
        fuzz_packets second = {0};
        int rc = binary_payload
                     ? eio3_payload_decode_binary(again.data, again.len, fuzz_collect, &second)
                     : eio3_payload_decode(again.data, again.len, fuzz_collect, &second);
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(fuzz_packets_equal(first, &second));
        fuzz_packets_free(&second);
    }
    buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0] % 4;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    fuzz_packets first = {0};
    int rc;
    switch (mode) {
    case TEXT_PAYLOAD:
        rc = eio3_payload_decode(body, len, fuzz_collect, &first);
        break;
    case BINARY_PAYLOAD:
        rc = eio3_payload_decode_binary(body, len, fuzz_collect, &first);
        break;
    case TEXT_FRAME:
        rc = eio3_packet_decode_text(body, len, fuzz_collect, &first);
        break;
    default:
        rc = eio3_packet_decode_binary(body, len, fuzz_collect, &first);
        break;
    }
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(eio_strerror(rc) != NULL);
    for (size_t i = 0; i < first.n; i++) {
        const fuzz_packet *p = &first.items[i];
        FUZZ_CHECK(p->type <= EIO_NOOP);
        if (!p->binary && mode != TEXT_FRAME) {
            FUZZ_CHECK(utf8_valid(p->data, p->len));
            FUZZ_CHECK(eio3_utf16_len(p->data, p->len) <= p->len);
        }
    }
    /* A payload of empty records ("0:") holds no packet, and nothing
     * encodes to an empty body, which is malformed (as in engine.io). */
    if (rc == 0 && first.n > 0 && (mode == TEXT_PAYLOAD || mode == BINARY_PAYLOAD))
        round_trip(&first, mode == BINARY_PAYLOAD);
    fuzz_packets_free(&first);
    return 0;
}
