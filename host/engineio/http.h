/*
 * http.h - the HTTP and WebSocket glue (see http.c): the libwebsockets
 * protocol serving serverOptions.path for both Engine.IO transports.
 */
#ifndef PIO_HTTP_H
#define PIO_HTTP_H

#include "base/buf.h"
#include "eio_session.h"

#include <libwebsockets.h>
#include <stdbool.h>

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

/* The Engine.IO arguments of a request's query, as read_query (http.c)
 * gathers them: EIO, transport and sid, each cut to its buffer. */
typedef struct http_request {
    char eio[8];
    char transport[16];
    char sid[64];
    bool has_sid;
} http_request;
/* One query argument as libwebsockets hands it over (URL-decoded,
 * NUL-terminated, "name=value" or "name"), cut in place at its '=': sets
 * r's member it names; with `pairs`, appends "name\0value\0" and counts
 * it in *n.  Part of read_query, the only caller but the fuzz target
 * tests/fuzz/http_query.c, which is why it is not static. */
void http_query_arg(http_request *r, char *arg, buf *pairs, unsigned *n);

#endif
