/*
 * sio_encode.h - Socket.IO packets from the server, encoded once whatever
 * the number of recipients, queued to clients in their wire format.
 */
#ifndef PIO_SIO_ENCODE_H
#define PIO_SIO_ENCODE_H

#include "sio_types.h"

/* A packet encoded once per parser: what to encode, and for each parser
 * its wire-ready messages (shared eio_msg), built when the first client
 * using that parser is sent it.  The default parser's is a text message
 * and its binary attachments; the msgpack parser's one binary message. */
typedef struct sio_encoded {
    sio_type type;              /* SIO_EVENT or SIO_ACK */
    const char *nsp;            /* borrowed, as event and out, until */
    int64_t id;                 /* sio_encoded_seal or sio_encoded_free */
    const char *event;
    const pio_out *out;
    uint64_t serial;            /* this packet's, unique in the process: what
                                   the observer hears per recipient is one */
    char offset[21];            /* recovery's offset, appended as the last
                                   argument; "" for none */
    bool sealed;                /* the inputs are gone: no new form */
    struct eio_msg *text;
    struct eio_msg **bins;
    size_t n_bins;
    struct eio_msg *msgpack;
} sio_encoded;

/* Prepare a packet: [event,] args.  nsp, event and out are borrowed (out
 * is not consumed) until sio_encoded_free.  PIO_EINVAL for an incomplete
 * out or an event name that is not UTF-8. */
int sio_encode(sio_encoded *e, sio_type type, const char *nsp, int64_t id, const char *event,
               const pio_out *out);
/* Queue it to a client, encoding it first for the client's parser if no
 * client before used that parser. */
int sio_encoded_send(sio_encoded *e, sio_client *c);
void sio_encoded_free(sio_encoded *e);
/* An EVENT with `offset` appended as its last argument (recovery's). */
int sio_encode_with_offset(sio_encoded *e, const char *nsp, const char *event, const pio_out *out,
                           const char *offset);
/* Keep it past its inputs' life (recovery's log): encode the form for
 * `parser` if not yet done and forget the borrowed inputs; a later send
 * to a client of a parser with no form fails with PIO_ESTATE. */
int sio_encoded_seal(sio_encoded *e, unsigned parser);
/* Whether it has the form of `parser`, and its bytes in every form. */
bool sio_encoded_has(const sio_encoded *e, unsigned parser);
size_t sio_encoded_bytes(const sio_encoded *e);
/* Encode and queue a packet to a socket's client (out consumed). */
int sio_send(sio_client *c, sio_type type, const char *nsp, int64_t id, const char *event,
             pio_out *out);
/* A fresh ack id, unique in the process. */
int64_t sio_next_ack_id(void);
bool sio_event_name_ok(const char *event);
/* Queue a packet whose payload is a json-c value (NULL: none) in the
 * client's wire format: CONNECT, CONNECT_ERROR, DISCONNECT. */
void sio_send_value(sio_client *c, sio_type type, const char *nsp, json_object *data);

#endif
