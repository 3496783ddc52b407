/*
 * eio3_packet.h - Engine.IO protocol 3 framing, for Socket.IO v2 clients
 * (serverOptions.allowEIO3): its packets over WebSocket and its two kinds
 * of long-polling payload.  Pure functions over buffers; no I/O.  The
 * packets themselves ("<type digit><data>") are those of eio_packet.h.
 *
 * What differs from protocol 4:
 * - a binary message carries its packet type: over WebSocket a binary
 *   frame is the type byte (4) and the bytes; as text it is
 *   "b<type digit><base64>", legal in a payload and over WebSocket alike;
 * - a text payload is a run of "<length>:<packet>" records whose length
 *   counts UTF-16 code units (JavaScript's String length), so a character
 *   outside the BMP counts 2;
 * - a binary payload (sent as application/octet-stream, to clients that
 *   did not ask for b64) is a run of <0 text | 1 binary> <decimal digits,
 *   one byte each> <255> <record> - a text record as UTF-8 bytes, a binary
 *   one as its type byte and the bytes - whose lengths count bytes.
 */
#ifndef PIO_EIO3_PACKET_H
#define PIO_EIO3_PACKET_H

#include "base/buf.h"
#include "eio_packet.h"

#include <stdbool.h>
#include <stddef.h>

/* One packet received over WebSocket: a text message, or a binary one.
 * fn is called once (binary: true for a binary packet, data decoded); the
 * return is an EIO_* error or what fn returned. */
int eio3_packet_decode_text(const char *s, size_t len, eio_payload_fn fn, void *ud);
int eio3_packet_decode_binary(const void *data, size_t len, eio_payload_fn fn, void *ud);

/* Split a polling POST body into packets, in order: a text payload, or a
 * binary one.  Returns 0, the first EIO_* error (a malformed record:
 * nothing from it on is delivered), or what the callback returned.
 * An empty record ("0:") carries no packet and is skipped. */
int eio3_payload_decode(const char *body, size_t len, eio_payload_fn fn, void *ud);
int eio3_payload_decode_binary(const void *body, size_t len, eio_payload_fn fn, void *ud);

/* Append to a text payload: a text packet (data valid UTF-8), and a
 * binary message as "b4<base64>". */
void eio3_payload_add_text(buf *payload, eio_type type, const char *data, size_t len);
void eio3_payload_add_base64(buf *payload, const void *data, size_t len);
/* Append to a binary payload: a text packet, and a binary message. */
void eio3_binpayload_add_text(buf *payload, eio_type type, const char *data, size_t len);
void eio3_binpayload_add_binary(buf *payload, const void *data, size_t len);

/* The length of UTF-8 text in UTF-16 code units. The text must be valid
 * UTF-8 (the caller checked it, or wrote it). */
size_t eio3_utf16_len(const char *s, size_t len);

#endif
