/*
 * sio_decoder.c - libFuzzer target: the Socket.IO v5 packet decoder fed
 * as the host feeds it (sio_client.c): text messages and binary frames in
 * the order a client sends them, a binary packet's header first and then
 * its attachments.
 *
 * The input is a run of frames separated by the byte 0xff (which no JSON
 * text holds: it is not UTF-8); a frame's first byte says whether it is a
 * text message (even) or a binary frame (odd), the rest is the message.
 * After an error the decoder is reset, as a closed connection's would be,
 * and the next frame goes to it afresh.
 *
 * Invariant: a decoded packet, encoded as the server encodes one (header,
 * JSON text with its placeholders, then the attachments by number),
 * decodes to a packet that encodes to the same bytes.
 */
#include "fuzz.h"

#include "base/value.h"
#include "protocol/sio_packet.h"

#define FRAME_SEP 0xff

typedef struct encoded {
    buf text;
    const value_bin *bins[SIO_MAX_ATTACHMENTS];
    size_t n_bins;
} encoded;

/* Record the bytes of every binary placeholder under its num. */
static void find_bins(json_object *j, encoded *e)
{
    if (json_object_is_type(j, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(j); i++)
            find_bins(json_object_array_get_idx(j, i), e);
    } else if (json_object_is_type(j, json_type_object)) {
        const value_bin *b = value_get_binary(j);
        json_object *num;
        if (b && json_object_object_get_ex(j, "num", &num)) {
            int64_t n = (int64_t)json_object_get_double(num);
            FUZZ_CHECK(n >= 0 && (size_t)n < e->n_bins);
            FUZZ_CHECK(!e->bins[n] || (e->bins[n]->len == b->len &&
                                       memcmp(e->bins[n]->data, b->data, b->len) == 0));
            e->bins[n] = b;
        }
        json_object_object_foreach(j, key, member)
        {
            (void)key;
            find_bins(member, e);
        }
    }
}

static void encode(const sio_packet *p, encoded *e)
{
    *e = (encoded){.text = BUF_INIT, .n_bins = p->attachments};
    FUZZ_CHECK(p->attachments <= SIO_MAX_ATTACHMENTS);
    sio_encode_header(&e->text, p->type, p->nsp, p->id, p->attachments);
    if (p->has_data) {
        const char *json = p->data ? json_object_to_json_string_ext(
                                         p->data, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE)
                                   : "null";
        FUZZ_CHECK(json);
        buf_append_str(&e->text, json);
        find_bins(p->data, e);
    }
    FUZZ_CHECK(!e->text.failed);
}

static bool encoded_equal(const encoded *a, const encoded *b)
{
    if (a->text.len != b->text.len || memcmp(a->text.data, b->text.data, a->text.len) != 0 ||
        a->n_bins != b->n_bins)
        return false;
    for (size_t i = 0; i < a->n_bins; i++) {
        const value_bin *x = a->bins[i], *y = b->bins[i];
        if (!x != !y || (x && (x->len != y->len || memcmp(x->data, y->data, x->len) != 0)))
            return false;
    }
    return true;
}

/* Decode e's frames with a fresh decoder: exactly one packet. */
static void decode(const encoded *e, sio_packet *out)
{
    sio_decoder d = {0};
    int rc = sio_decoder_text(&d, e->text.data, e->text.len, out);
    for (size_t i = 0; i < e->n_bins && rc == SIO_NEED_BINARY; i++) {
        const value_bin *b = e->bins[i];
        rc = sio_decoder_binary(&d, b ? b->data : (const unsigned char *)"", b ? b->len : 0, out);
    }
    if (rc != SIO_DONE)
        fprintf(stderr, "re-decoding '%.*s': %s\n", (int)e->text.len, e->text.data,
                sio_strerror(rc));
    FUZZ_CHECK(rc == SIO_DONE);
    FUZZ_CHECK(!d.pending);
}

static void round_trip(const sio_packet *p)
{
    encoded first, second;
    encode(p, &first);
    sio_packet again;
    decode(&first, &again);
    encode(&again, &second);
    FUZZ_CHECK(encoded_equal(&first, &second));
    buf_free(&first.text);
    buf_free(&second.text);
    sio_packet_free(&again);
}

static void check_packet(const sio_packet *p)
{
    FUZZ_CHECK(p->type <= SIO_BINARY_ACK);
    FUZZ_CHECK(p->nsp && p->nsp[0] == '/');
    FUZZ_CHECK(p->id >= -1);
    FUZZ_CHECK(p->has_data || !p->data);
    if (p->type == SIO_EVENT || p->type == SIO_BINARY_EVENT) {
        FUZZ_CHECK(json_object_is_type(p->data, json_type_array));
        FUZZ_CHECK(json_object_array_length(p->data) > 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sio_decoder d = {0};
    size_t start = 0;
    while (start < size) {
        const uint8_t *sep = memchr(data + start, FRAME_SEP, size - start);
        size_t end = sep ? (size_t)(sep - data) : size;
        if (end > start) {
            const uint8_t *msg = data + start + 1;
            size_t len = end - start - 1;
            sio_packet p;
            int rc = data[start] % 2 == 0 ? sio_decoder_text(&d, (const char *)msg, len, &p)
                                          : sio_decoder_binary(&d, msg, len, &p);
            FUZZ_CHECK(rc <= SIO_DONE && sio_strerror(rc) != NULL);
            if (rc == SIO_DONE) {
                check_packet(&p);
                round_trip(&p);
                sio_packet_free(&p);
            } else {
                FUZZ_CHECK(!p.nsp && !p.data && p.id == -1);
                if (rc < 0)
                    sio_decoder_reset(&d);
            }
        }
        start = end + 1;
    }
    sio_decoder_reset(&d);
    return 0;
}
