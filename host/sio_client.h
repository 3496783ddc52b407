/*
 * sio_client.h - the Socket.IO layer of one Engine.IO session: decoding
 * packets, connecting namespaces, dispatching events to the handlers of
 * the current binding, acks in both directions.
 */
#ifndef PIO_SIO_CLIENT_H
#define PIO_SIO_CLIENT_H

#include "args.h"
#include "binding.h"
#include "sio_packet.h"
#include "timer.h"

typedef struct eio_session eio_session;
typedef struct sio_client sio_client;
typedef struct pending_ack pending_ack;

/* A server-to-client emit awaiting the client's ack. */
struct pending_ack {
    pending_ack *next;
    int64_t id;
    pio_ctx *ctx;          /* a reference: keeps the plugin version mapped */
    pio_ack_fn cb;
    void *userdata;
    pio_socket *socket;
    timer timeout;
};

struct pio_socket {
    unsigned refs;
    char id[21];
    char *nsp;                  /* owned */
    sio_client *client;         /* NULL once disconnected */
    eio_session *session;       /* a reference, for the handshake data */
    json_object *auth;          /* owned; the CONNECT payload, or NULL */
    int64_t next_ack_id;
    pending_ack *acks;
};

struct sio_client {
    eio_session *session;       /* the session that owns this client */
    sio_decoder decoder;
    pio_socket **sockets;       /* one per connected namespace */
    size_t n_sockets;
    timer connect_timer;        /* connectTimeout: no namespace joined yet */
    bool closed;
};

/* The binding events are dispatched through (set at start and reload). */
void sio_set_binding(binding *b);
binding *sio_binding(void);

sio_client *sio_client_create(eio_session *s);
/* A message from the client. False when the session closed because of it. */
bool sio_client_receive(sio_client *c, const void *data, size_t len, bool binary);
/* The session closed: every socket disconnects with `reason`. */
void sio_client_closed(sio_client *c, const char *reason);
void sio_client_free(sio_client *c);

/* Internal to the Socket.IO layer (sio_client.c and sio_socket.c). */
pio_socket *sio_socket_create(sio_client *c, const char *nsp, json_object *auth);
void sio_socket_closed(pio_socket *s, const char *reason);
void sio_socket_unref(pio_socket *s);
void sio_socket_ack_received(pio_socket *s, sio_packet *p);
/* Encode and queue a packet to a socket's client: [event,] args. */
int sio_send(sio_client *c, sio_type type, const char *nsp, int64_t id, const char *event,
             pio_out *out);
/* Call the handler bound to (socket's namespace, event), if any. */
void sio_dispatch(pio_socket *s, const char *event, pio_args *args);

#endif
