/*
 * eio_packet.h - Engine.IO protocol v4 packets and HTTP long-polling
 * payloads: parsing what clients send and encoding what the server sends.
 * Pure functions over buffers; no I/O.
 *
 * Text packets are "<type digit><data>".  A polling payload joins packets
 * with the record separator 0x1e; a binary message inside a payload is
 * "b<base64>".  Over WebSocket a binary frame is the message bytes as is.
 */
#ifndef PIO_EIO_PACKET_H
#define PIO_EIO_PACKET_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum eio_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6,
} eio_type;

/* Error codes (negative) of this module. */
enum {
    EIO_EMPTY = -1,       /* empty packet */
    EIO_BADTYPE = -2,     /* type digit not 0..6 */
    EIO_BADBASE64 = -3,   /* "b" packet whose base64 does not decode */
    EIO_NOMEM = -4,
    EIO_BADLENGTH = -5,   /* v3 payload: a record's length is missing, wrong or cut */
    EIO_BADUTF8 = -6,     /* v3 payload: text that is not UTF-8 */
};

/* Parse one text packet. On success returns 0 with *type set and
 * data/len pointing into s (after the type digit).  A "b" record is not a
 * text packet here (EIO_BADTYPE): only a polling payload carries one. */
int eio_packet_parse(const char *s, size_t len, eio_type *type, const char **data, size_t *dlen);

/* Called for each packet of a payload. For binary messages type is
 * EIO_MESSAGE, binary is true and data holds the decoded bytes (valid for
 * the call only). Return non-zero to stop: eio_payload_decode returns it. */
typedef int (*eio_payload_fn)(void *ud, eio_type type, const char *data, size_t len, bool binary);

/* Split a polling POST body into packets, in order. Returns 0, the first
 * EIO_* error (malformed record, nothing after it is delivered), or what
 * the callback returned. */
int eio_payload_decode(const char *body, size_t len, eio_payload_fn fn, void *ud);
/* One packet to fn: a text one ("<type><data>"), or a binary one sent as
 * base64 (its type given); both protocols' decoders share these. */
int eio_deliver_text(const char *packet, size_t len, eio_payload_fn fn, void *ud);
int eio_deliver_base64(eio_type type, const char *b64, size_t len, eio_payload_fn fn, void *ud);

/* Append a packet to a polling payload (adds the separator first when the
 * payload is not empty). */
void eio_payload_add_text(buf *payload, eio_type type, const char *data, size_t len);
void eio_payload_add_binary(buf *payload, const void *data, size_t len);

/* Encoded length of a packet in a payload, to respect a size budget.
 * Counted as appended to a non-empty payload, separator included: the sum
 * over a payload's packets is exact or one byte over, never under. */
size_t eio_payload_text_size(size_t data_len);
size_t eio_payload_binary_size(size_t data_len);

/* Base64 (standard alphabet, padded), shared with the v3 codec (which
 * decodes through eio_deliver_base64): append the encoding of data to b
 * (b->failed on error); the encoded length of n bytes (SIZE_MAX when it
 * does not fit). */
void eio_base64_append(buf *b, const void *data, size_t len);
size_t eio_base64_len(size_t n);

const char *eio_strerror(int code);

#endif
