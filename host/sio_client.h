/*
 * sio_client.h - the Socket.IO layer of one Engine.IO session: decoding
 * packets, connecting namespaces, dispatching events to the handlers of
 * the current binding, acks in both directions.
 */
#ifndef PIO_SIO_CLIENT_H
#define PIO_SIO_CLIENT_H

#include "args.h"
#include "binding.h"
#include "rooms.h"
#include "sio_packet.h"
#include "timer.h"

typedef struct eio_session eio_session;
typedef struct sio_client sio_client;
typedef struct pending_ack pending_ack;

/* A server-to-client emit awaiting the client's ack: on its own (ctx, cb,
 * userdata, timeout), or one recipient of a broadcast's (multi). */
struct pending_ack {
    pending_ack *next;
    int64_t id;
    pio_socket *socket;
    struct broadcast_ack *multi; /* the broadcast it belongs to, or NULL */
    pio_ctx *ctx;          /* a reference: keeps the plugin version mapped */
    pio_ack_fn cb;
    void *userdata;
    timer timeout;
};

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
    char offset[21];            /* recovery's offset, appended as the last
                                   argument; "" for none */
    bool sealed;                /* the inputs are gone: no new form */
    struct eio_msg *text;
    struct eio_msg **bins;
    size_t n_bins;
    struct eio_msg *msgpack;
} sio_encoded;

struct pio_socket {
    /* Laid out small, as eio_session: one per connected namespace. */
    unsigned refs;
    uint32_t all_idx;           /* its index in ns->all once accepted */
    char *id;                   /* id_buf, or (a v2 client's "nsp#sid") owned */
    sio_client *client;         /* NULL until accepted, and once disconnected */
    eio_session *session;       /* a reference, for the handshake data */
    json_object *auth;          /* owned; the CONNECT payload, or NULL */
    json_object *data;          /* owned; pio_socket_data_set's values, or NULL */
    pending_ack *acks;
    /* The adapter's bookkeeping (rooms.c). */
    struct sio_nsp *ns;         /* its namespace */
    membership *memb;           /* the rooms it is in */
    uint32_t n_memb, cap_memb;
    uint64_t mark;              /* selection pass marks (broadcast.c) */
    /* Connection state recovery (sio_recovery.c): owned, NULL unless
     * recovery was on when it connected. */
    struct sio_socket_csr *csr;
    char id_buf[21];
    bool recovered;             /* restored from a previous session */
};

typedef struct sio_socket_csr {
    char pid[21];               /* its private session id */
    uint64_t last_offset;       /* the last logged packet sent to it, or 0 */
} sio_socket_csr;

struct sio_client {
    eio_session *session;       /* the session that owns this client */
    sio_decoder decoder;
    /* One socket per connected namespace: most clients have one, kept in
     * `first` (sockets == &first) with no allocation of its own. */
    pio_socket **sockets;
    pio_socket *first;
    timer connect_timer;        /* connectTimeout: no namespace joined yet */
    uint32_t n_sockets;
    unsigned char parser;       /* CONFIG_PARSER_*, fixed when it connected */
    bool closed;
};

/* The binding events are dispatched through (set at start and reload). */
void sio_set_binding(binding *b);
binding *sio_binding(void);

sio_client *sio_client_create(eio_session *s);
/* A Socket.IO v2 client (Engine.IO protocol 3) joins "/" as soon as its
 * session opens, without asking. */
void sio_client_connect_main(sio_client *c);
/* A message from the client. False when the session closed because of it. */
bool sio_client_receive(sio_client *c, const void *data, size_t len, bool binary);
/* The session closed: every socket disconnects with `reason`. */
void sio_client_closed(sio_client *c, const char *reason);
void sio_client_free(sio_client *c);

/* Internal to the Socket.IO layer. */

/* A socket for a CONNECT, not yet accepted (middleware runs on it). */
pio_socket *sio_socket_new(sio_client *c, sio_nsp *ns, json_object *auth);
/* Accept it: attached to its client, indexed in its namespace. */
bool sio_socket_accept(sio_client *c, pio_socket *s);
void sio_socket_closed(pio_socket *s, const char *reason);
void sio_socket_unref(pio_socket *s);
void sio_socket_ack_received(pio_socket *s, sio_packet *p);
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
void sio_socket_add_ack(pio_socket *s, pending_ack *a);
void sio_socket_unlink_ack(pio_socket *s, pending_ack *a);
/* Queue a packet whose payload is a json-c value (NULL: none) in the
 * client's wire format: CONNECT, CONNECT_ERROR, DISCONNECT. */
void sio_send_value(sio_client *c, sio_type type, const char *nsp, json_object *data);
/* Call the handler bound to (socket's namespace, event), if any. */
void sio_dispatch(pio_socket *s, const char *event, pio_args *args);

#endif
