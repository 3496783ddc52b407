/*
 * http.h - the HTTP and WebSocket glue (see http.c): the libwebsockets
 * protocol serving serverOptions.path for both Engine.IO transports.
 */
#ifndef PIO_HTTP_H
#define PIO_HTTP_H

#include <libwebsockets.h>

struct config_server_options;

/* The options requests are checked against; set before serving. */
void http_set_options(const struct config_server_options *o);
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len);
/* The per-connection state lws allocates for the protocol. */
size_t http_conn_size(void);

#endif
