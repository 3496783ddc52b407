/*
 * routes.c - the HTTP routes plugins make (pio_http_route).
 *
 * A route belongs to the plugin version that made it, as its timers do:
 * services_release removes it before that version's unload hook runs, or
 * when the version faults or retires, so no request can reach code that
 * is gone.  The table holds no request: web/plugin_http.c looks a path
 * up when a request's head arrives and again when its body is whole, so
 * a reload in between reaches the version that routes it then (or none).
 *
 * A list, searched in order: a server has a handful of routes, and the
 * search costs nothing next to the HTTP request it serves.
 */
#include "routes.h"

#include <stdlib.h>
#include <string.h>

static plugin_route *routes;
static const config *cfg;

void routes_set_config(const config *c) { cfg = c; }

bool routes_path_under(const char *path, const char *prefix)
{
    size_t plen = strlen(prefix);
    return strncmp(path, prefix, plen) == 0 && (path[plen] == '/' || path[plen] == '\0');
}

static plugin_route *find(const char *path)
{
    for (plugin_route *r = routes; r; r = r->next)
        if (strcmp(r->path, path) == 0)
            return r;
    return NULL;
}

/* What the host serves itself at `path`, before any plugin route. */
static bool host_serves(const char *path)
{
    if (strcmp(path, CONFIG_HEALTH_PATH) == 0)
        return true;
    return cfg && cfg->metrics.enabled && cfg->metrics.path && strcmp(path, cfg->metrics.path) == 0;
}

int routes_add(pio_ctx *ctx, const char *path, size_t max_body, pio_http_fn fn, void *userdata)
{
    if (!ctx || !path || path[0] != '/' || !fn ||
        (cfg && routes_path_under(path, cfg->opts.path)))
        return PIO_EINVAL;
    if (ctx->retired || ctx->faulted || host_serves(path))
        return PIO_ESTATE;
    plugin_route *r = find(path);
    if (r && r->owner != ctx)
        return PIO_ESTATE;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r || !(r->path = strdup(path))) {
            free(r);
            return PIO_ENOMEM;
        }
        r->owner = ctx;
        r->next = routes;
        routes = r;
    }
    r->max_body = max_body;
    r->fn = fn;
    r->userdata = userdata;
    return PIO_OK;
}

static void route_free(plugin_route *r)
{
    free(r->path);
    free(r);
}

int routes_remove(pio_ctx *ctx, const char *path)
{
    for (plugin_route **pp = &routes; path && *pp; pp = &(*pp)->next) {
        plugin_route *r = *pp;
        if (r->owner == ctx && strcmp(r->path, path) == 0) {
            *pp = r->next;
            route_free(r);
            return PIO_OK;
        }
    }
    return PIO_EINVAL;
}

const plugin_route *routes_find(const char *path) { return path ? find(path) : NULL; }

void routes_release(pio_ctx *ctx)
{
    for (plugin_route **pp = &routes; *pp;) {
        plugin_route *r = *pp;
        if (r->owner == ctx) {
            *pp = r->next;
            route_free(r);
        } else {
            pp = &r->next;
        }
    }
}

void routes_clear(void)
{
    while (routes) {
        plugin_route *r = routes;
        routes = r->next;
        route_free(r);
    }
    cfg = NULL;
}
