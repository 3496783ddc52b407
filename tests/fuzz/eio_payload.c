/*
 * eio_payload.c - libFuzzer target: the Engine.IO v4 long-polling payload
 * decoder (eio_payload_decode) and the single-packet parser a WebSocket
 * text frame goes through (eio_deliver_text), on the bytes a client
 * POSTs or sends.
 *
 * Invariants: a payload that decodes, encoded again with the encoder the
 * server uses, decodes to the same packets, and its size as
 * eio_payload_*_size counts it is exact but for the first separator.
 * Base64 is compared as decoded bytes, since non-canonical padding bits
 * decode too.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    fuzz_packets first = {0};
    int rc = eio_payload_decode(body, size, fuzz_collect, &first);
    FUZZ_CHECK(rc <= 0);
    FUZZ_CHECK(eio_strerror(rc) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(first.n > 0);
        buf again = BUF_INIT;
        size_t budget = 0;
        for (size_t i = 0; i < first.n; i++) {
            const fuzz_packet *p = &first.items[i];
            if (p->binary) {
                FUZZ_CHECK(p->type == EIO_MESSAGE);
                eio_payload_add_binary(&again, p->data, p->len);
                budget += eio_payload_binary_size(p->len);
            } else {
                FUZZ_CHECK(!memchr(p->data, '\x1e', p->len));
                eio_payload_add_text(&again, p->type, p->data, p->len);
                budget += eio_payload_text_size(p->len);
            }
        }
        FUZZ_CHECK(!again.failed);
        FUZZ_CHECK(budget == again.len + 1);
        fuzz_packets second = {0};
        FUZZ_CHECK(eio_payload_decode(again.data, again.len, fuzz_collect, &second) == 0);
        FUZZ_CHECK(fuzz_packets_equal(&first, &second));
        fuzz_packets_free(&second);
        buf_free(&again);
    }
    fuzz_packets_free(&first);

    fuzz_packets ws = {0};
    rc = eio_deliver_text(body, size, fuzz_collect, &ws);
    FUZZ_CHECK(rc <= 0 && ws.n == (rc == 0));
    if (rc == 0)
        FUZZ_CHECK(!ws.items[0].binary && ws.items[0].len == size - 1 &&
                   ws.items[0].type <= EIO_NOOP);
    fuzz_packets_free(&ws);
    return 0;
}
