/*
 * sio_types.h - the Socket.IO layer's objects, as its modules share them:
 * a client (one per Engine.IO session), its sockets (one per namespace it
 * joined), and the acks a socket awaits.  Data only: each module's
 * functions are in its own header, and every module of the layer may read
 * these, so no two of them need each other's header for a field.
 */
#ifndef PIO_SIO_TYPES_H
#define PIO_SIO_TYPES_H

#include "base/timer.h"
#include "engineio/eio_session.h"
#include "engineio/limits.h"
#include "protocol/sio_packet.h"

#include <json-c/json.h>
#include <plugio/plugio.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sio_client sio_client;
typedef struct pending_ack pending_ack;
struct sio_nsp;
struct membership;

/* A server-to-client emit awaiting the client's ack: on its own (ctx, cb,
 * userdata, timeout), or one recipient of a broadcast's (settle). */
struct pending_ack {
    pending_ack *next;
    int64_t id;
    pio_socket *socket;
    /* How an answer (PIO_OK) or the socket's leaving (PIO_ECLOSED) settles
     * a broadcast's entry: its owner's function, with `owner` its state;
     * NULL for an ack of its own, which runs cb. */
    void (*settle)(pending_ack *a, int status, json_object *reply);
    void *owner;
    pio_ctx *ctx;          /* a reference: keeps the plugin version mapped */
    pio_ack_fn cb;
    void *userdata;
    timer timeout;
};

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
    struct membership *memb;           /* the rooms it is in */
    uint32_t n_memb, cap_memb;
    uint64_t mark;              /* selection pass marks (broadcast.c) */
    /* Connection state recovery (sio_recovery.c): owned, NULL unless
     * recovery was on when it connected. */
    struct sio_socket_csr *csr;
    char id_buf[21];
    bool recovered;             /* restored from a previous session */
    uint16_t n_later;           /* acks a handler sends later (sio_later.h) */
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
    uint16_t n_connecting;      /* CONNECTs a middleware answers later */
    limits_events events;       /* its share of security.rateLimit */
};

#endif
