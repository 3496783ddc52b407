/*
 * http.h - the HTTP and WebSocket glue (see http.c): the libwebsockets
 * protocol serving serverOptions.path for both Engine.IO transports.
 */
#ifndef PIO_HTTP_H
#define PIO_HTTP_H

#include "eio_session.h"

#include <libwebsockets.h>

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
/* The per-connection state lws allocates for the protocol. */
size_t http_conn_size(void);
/* What Engine.IO sessions ask of the connections they hold. */
const eio_transport_ops *http_transport(void);

/* The configuration in force: server.maxHeaderSize, maxConnections and
 * headers (reload.c sets it at start and at each reload). */
struct config;
void http_set_config(const struct config *c);
/* The most connections the descriptor limit leaves room for (server.c
 * sets it at start): server.maxConnections is capped to it. */
void http_set_connection_ceiling(size_t n);
/* Drop held polls whose peer has gone (server.c, every few seconds). */
void http_check_held_polls(void);
/* Write the output queued for WebSockets in this loop turn: once per
 * turn, after every callback (server.c). */
void http_flush_deferred(void);


#endif
