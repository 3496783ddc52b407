/*
 * routes.h - the HTTP routes plugins make (pio_http_route): which plugin
 * version serves which URL path (see routes.c).
 */
#ifndef PIO_ROUTES_H
#define PIO_ROUTES_H

#include "config/config.h"
#include "ctx.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct plugin_route {
    struct plugin_route *next;
    char *path;        /* owned: the exact URL path served */
    pio_ctx *owner;    /* borrowed: its routes go before it does (routes_release) */
    size_t max_body;
    pio_http_fn fn;
    void *userdata;
} plugin_route;

/* The configuration new routes are checked against: the one whose
 * plugins' load hooks run now (handoff.c sets it before it calls them),
 * NULL for none (only the health path and the leading '/' are checked). */
void routes_set_config(const config *c);
/* pio_http_route: PIO_OK (the path copied; routing a path it routes
 * already replaces that route), PIO_EINVAL for a path that does not begin
 * with '/' or lies under serverOptions.path (or NULL fn), PIO_ESTATE when
 * the path is the health check's, the metrics', another version's route,
 * or ctx is retired or faulted; PIO_ENOMEM. */
int routes_add(pio_ctx *ctx, const char *path, size_t max_body, pio_http_fn fn, void *userdata);
/* pio_http_unroute: PIO_EINVAL when ctx routes no such path. */
int routes_remove(pio_ctx *ctx, const char *path);
/* The route of `path` now, or NULL.  Valid until the next call into a
 * plugin or a reload: look it up again rather than keep it. */
const plugin_route *routes_find(const char *path);
/* A version leaves (services_release): its routes go. */
void routes_release(pio_ctx *ctx);
/* Every route goes (at shutdown). */
void routes_clear(void);
/* Whether `path` lies under the URL prefix `prefix` (serverOptions.path:
 * no trailing slash, "" for "/"): the prefix itself or below it. */
bool routes_path_under(const char *path, const char *prefix);

#endif
