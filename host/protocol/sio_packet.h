/*
 * sio_packet.h - Socket.IO protocol v5 packets: the decoder for what
 * clients send (including binary packets reassembled from the attachment
 * frames that follow them) and the encoder for what the server sends.
 * Pure functions over buffers; no I/O.
 *
 * Wire form: <type>[<attachments>-][<namespace>,][<ack id>][<JSON>]
 */
#ifndef PIO_SIO_PACKET_H
#define PIO_SIO_PACKET_H

#include "base/buf.h"
#include "base/value.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sio_type {
    SIO_CONNECT = 0,
    SIO_DISCONNECT = 1,
    SIO_EVENT = 2,
    SIO_ACK = 3,
    SIO_CONNECT_ERROR = 4,
    SIO_BINARY_EVENT = 5,
    SIO_BINARY_ACK = 6,
} sio_type;

typedef struct sio_packet {
    sio_type type;
    char *nsp;            /* owned; "/" when the packet names none */
    int64_t id;           /* ack id, -1 when absent */
    size_t attachments;   /* binary types: the number of binary frames */
    bool has_data;        /* a JSON payload was present */
    json_object *data;    /* owned (json_object_put); binary placeholders
                             carry their bytes (see value.h) */
} sio_packet;

/* Results of the decoder functions. Errors are negative. */
enum {
    SIO_DONE = 1,          /* *out holds a complete packet (caller owns it) */
    SIO_NEED_BINARY = 0,   /* waiting for more attachment frames */
    SIO_EBADTYPE = -1,     /* unknown packet type */
    SIO_EBADNSP = -2,      /* malformed namespace */
    SIO_EBADID = -3,       /* malformed or out-of-range ack id */
    SIO_EBADJSON = -4,     /* payload is not valid JSON */
    SIO_EBADPAYLOAD = -5,  /* payload of the wrong shape for the type */
    SIO_EBADATTACH = -6,   /* attachment count malformed or inconsistent */
    SIO_EUNEXPECTED = -7,  /* binary frame when none is expected, or a text
                              packet while attachments are awaited */
    SIO_ENOMEM = -8,
    SIO_EBADMSGPACK = -9,  /* not one MessagePack map (msgpack parser) */
};

/* The most attachments a binary packet may announce: socket.io-parser's
 * default maxAttachments.  More is refused (SIO_EBADATTACH). */
#define SIO_MAX_ATTACHMENTS 10

/* The state of one connection's decoder. Zero-initialise it. */
/* The state of one connection's decoder. Zero-initialise it. What a
 * binary packet needs while its attachments arrive is allocated only then,
 * so an idle connection's decoder is one pointer. */
typedef struct sio_decoder {
    struct sio_pending *pending; /* a binary packet awaiting attachments, or NULL */
} sio_decoder;

/* Feed one text message. Returns SIO_DONE (out filled), SIO_NEED_BINARY
 * (a binary packet's header; feed its frames next), or an error.
 * In every case but SIO_DONE *out is left empty (id -1, nothing owned).
 * A binary packet keeps its type (SIO_BINARY_EVENT/ACK) once complete;
 * one announcing 0 attachments is complete at once.  Placeholders are
 * checked against the count here, before any frame is awaited.  After an
 * error the connection is to be closed; sio_decoder_reset frees what the
 * decoder still holds. */
int sio_decoder_text(sio_decoder *d, const char *s, size_t len, sio_packet *out);
/* Feed one binary frame (copied; data is only read during the call).
 * Returns SIO_DONE with the completed packet, SIO_NEED_BINARY while more
 * are due, or an error; *out as for sio_decoder_text. */
int sio_decoder_binary(sio_decoder *d, const void *data, size_t len, sio_packet *out);
/* Drop any partial packet. The decoder can be reused afterwards. */
void sio_decoder_reset(sio_decoder *d);

void sio_packet_free(sio_packet *p);

/* Append a packet's header: type, "<n>-" when attachments > 0 (the type
 * must then be a binary one), "<nsp>," unless nsp is "/", and the id when
 * id >= 0. The caller appends the JSON payload, if any, right after.
 * (A binary type always gets its "<n>-", even "0-", as socket.io-parser
 * writes and expects; a NULL nsp means "/".) */
void sio_encode_header(buf *out, sio_type type, const char *nsp, int64_t id, size_t attachments);

/* socket.io-msgpack-parser's wire format: each packet is one binary
 * Engine.IO message holding a MessagePack map {type, data, nsp, id?};
 * binary values are inline bin (no attachments), so the binary types never
 * occur.  The decoder applies the checks of the text decoder to what the map
 * holds (type 0-4, a clean namespace, a non-negative integer id, the payload
 * shapes), and the payload nests at most as deep as a JSON one.  Returns
 * SIO_DONE (out filled, the caller owns it) or an error (out empty). */
int sio_decode_msgpack(const void *data, size_t len, sio_packet *out);
/* Append a packet as socket.io-msgpack-parser encodes it: the map {type,
 * data (when has_data), nsp (NULL means "/"), id (when >= 0)}.  data's
 * binary values, and its bare placeholders numbered below n_bins (pio_out's
 * text), are written as bin.  False on allocation failure. */
bool sio_encode_msgpack(buf *out, sio_type type, const char *nsp, int64_t id, json_object *data,
                        bool has_data, value_bin *const *bins, size_t n_bins);

/* True when the len bytes at name are one of the event names socket.io
 * reserves for itself ("connect", "disconnect", "newListener", ...): an
 * EVENT packet from a client may not carry one, and the server sends none. */
bool sio_event_reserved(const char *name, size_t len);
/* What a reserved name is for (a sentence), or NULL when it is not one. */
const char *sio_event_reserved_why(const char *name, size_t len);

const char *sio_strerror(int code);

#endif
