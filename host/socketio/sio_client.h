/*
 * sio_client.h - the Socket.IO layer of one Engine.IO session: decoding
 * packets, connecting namespaces, dispatching events to the handlers of
 * the current binding, acks in both directions.
 */
#ifndef PIO_SIO_CLIENT_H
#define PIO_SIO_CLIENT_H

#include "engineio/eio_session.h"

#include <plugio/plugio.h>

/* What the Engine.IO layer calls (eio_set_events): a client per session,
 * fed its messages; when the session closes every socket disconnects with
 * its reason. */
const eio_events *sio_client_events(void);

/* The SDK's answers that wait (sio_later.h): an event's ack sent later,
 * and a connection middleware that decides later. */
uint64_t sio_ack_defer(pio_args *args);
int sio_ack_later(uint64_t ack, pio_out *out);
void sio_ack_drop(uint64_t ack);
uint64_t sio_middleware_defer(pio_socket *s);
int sio_middleware_resolve(uint64_t pending, const char *refusal);
/* pio_middleware_socket: the socket a deferred middleware decides on,
 * while it waits (lent for the current plugin call), or NULL. */
pio_socket *sio_middleware_socket(uint64_t pending);
/* A plugin version faulted: the acks it deferred are answered with an
 * error ack, the connections its middleware was deciding are refused. */
void sio_version_faulted(const pio_ctx *ctx);

#endif
