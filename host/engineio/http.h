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

/* ---- the site: requests that are not Engine.IO's ----------------------
 * Every HTTP request (not a WebSocket upgrade) is offered to the site
 * first (web/site.c: metrics, health, static files, the client script):
 * it answers and returns what an lws HTTP callback returns (0 to keep the
 * connection, -1 to close it), or HTTP_SITE_DECLINED to leave the request
 * to Engine.IO under serverOptions.path (anything else there is 404).
 * `path` is the URL path as libwebsockets decoded it, without the query. */
#define HTTP_SITE_DECLINED 1
typedef int (*http_site_fn)(struct lws *wsi, const char *path);
/* A request the site took with http_read_body, its body whole (body NULL
 * and len 0 for none): answers it (http_send), returns as site_fn does.
 * The request's head (headers, query) can still be read. */
typedef int (*http_site_body_fn)(struct lws *wsi, const char *path, const void *body,
                                 size_t len);
void http_set_site(http_site_fn fn, http_site_body_fn body);
/* Called by the site for a request it serves once its body has come, of
 * any method: returns what the site returns.  A body needs a
 * Content-Length of at most max_body: 411 (the connection closed: lws
 * cannot find the end of a body without one) for a Transfer-Encoding, or
 * a POST, PUT or PATCH without it, 413 over max_body (lws discards the
 * body, the connection stays).  Without a body, the site's body fn runs
 * now; else it is read under server.requestTimeout, as a polling POST's,
 * and the body fn runs when it is whole. */
int http_read_body(struct lws *wsi, const char *path, size_t max_body);

/* What a site route may read of the request's head, which http.c owns.
 * The method as a name ("GET", ...; "" when lws knows none). */
const char *http_method_name(struct lws *wsi);
/* The peer's address (an IPv4 peer without its ::ffff: prefix). */
void http_peer_address(struct lws *wsi, char *out, size_t len);
/* A request header (name case-insensitive, standard or not), whole, in
 * memory the caller frees; NULL when the request has none (or out of
 * memory). */
char *http_header_copy(struct lws *wsi, const char *name);
/* The query as n "name\0value\0" pairs (URL-decoded); false when out
 * of memory. */
bool http_query_pairs(struct lws *wsi, buf *pairs, unsigned *n);

/* One extra response header: `name` as lws writes it, with its colon
 * ("etag:"). */
typedef struct http_header {
    const char *name;
    const char *value;
} http_header;
/* A whole response, written at once with an exact Content-Length; the
 * connection stays open for the next request unless `close` or the
 * request asked for `Connection: close`. */
typedef struct http_reply {
    unsigned status;
    const char *type;           /* Content-Type, or NULL */
    const void *body;
    size_t len;
    const char *encoding;       /* Content-Encoding, or NULL */
    const http_header *headers; /* n_headers extra headers */
    size_t n_headers;
    bool head_only;             /* a HEAD request: Content-Length of `len`, no body */
    bool close;
    bool cors;                  /* with serverOptions.cors' headers, as Engine.IO's answers */
    bool preflight;             /* an OPTIONS preflight's (with cors) */
} http_reply;
int http_send(struct lws *wsi, const http_reply *r);

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
