/*
 * site.h - what plugio serves over HTTP besides Socket.IO (see site.c).
 */
#ifndef PIO_SITE_H
#define PIO_SITE_H

#include <libwebsockets.h>

struct config;

/* http.c's site (http_set_site): answers a request, or declines it
 * (HTTP_SITE_DECLINED) to leave it to Engine.IO. */
int site_serve(struct lws *wsi, const char *path);
/* The configuration in force (reload.c, at start and at each reload). */
void site_set_config(const struct config *c);

/* ---- the routes (site.c's routes[]), each defined in its own module -----
 * Declared here, not in their modules' headers, so that a route may read
 * any layer (reload.h, server.h) without site.c depending on it: reload.c
 * and server.c include this header. */

/* metrics.c: GET /healthz, always; GET server.metrics.path when enabled. */
int health_route(struct lws *wsi, const char *path, const struct config *c);
int metrics_route(struct lws *wsi, const char *path, const struct config *c);
/* plugin_http.c: a plugin's route (pio_http_route), any method; its body
 * read first (http_read_body), then plugin_http_serve (http.c's site body
 * fn) answers through the plugin. */
int plugin_http_route(struct lws *wsi, const char *path, const struct config *c);
int plugin_http_serve(struct lws *wsi, const char *path, const void *body, size_t len);

#endif
