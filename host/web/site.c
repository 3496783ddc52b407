/*
 * site.c - the HTTP requests that are not Engine.IO's: each is offered,
 * in order, to the routes below; the first that takes it answers.  A
 * request no route takes and outside serverOptions.path is 404.
 *
 * The host's routes only answer GET and HEAD (405 otherwise, with Allow:
 * reply.c); a plugin's (plugin_http.c) takes any method and a body.  All
 * read their configuration from the config in force, and write whole
 * responses through http_send.
 */
#include "site.h"

#include "config/config.h"
#include "engineio/http.h"
#include "static.h"

static const config *cfg;

void site_set_config(const config *c)
{
    cfg = c;
    static_configure(c);
}

/* A route: returns HTTP_SITE_DECLINED when the path is not its. */
typedef int (*route_fn)(struct lws *wsi, const char *path, const config *c);

static const route_fn routes[] = {
    health_route,
    metrics_route,
    plugin_http_route,
    static_route, /* last: it declines what it has no file for */
    NULL,
};

int site_serve(struct lws *wsi, const char *path)
{
    if (!cfg)
        return HTTP_SITE_DECLINED;
    for (size_t i = 0; routes[i]; i++) {
        int rc = routes[i](wsi, path, cfg);
        if (rc != HTTP_SITE_DECLINED)
            return rc;
    }
    return HTTP_SITE_DECLINED;
}
