/*
 * plugin_http.c - the HTTP routes plugins make (pio_http_route), served
 * on the server's port after the health check and the metrics, before
 * static files.
 *
 * A request is looked up by its path when its head arrives (to know how
 * much body to take: http_read_body) and again once the body is whole:
 * a reload in between reaches the version that routes the path then, or
 * none (404), under its max_body (413 past it).  Nothing of a plugin - no function pointer, no userdata -
 * is kept across turns of the loop; plugin/routes.c holds the table.
 *
 * The route's function runs under the guard, as a timer's does: a fault
 * or an overrun costs its version (quarantined as for any call) and the
 * client gets 500; a function that returns without answering gets 500
 * too, and a warning in the log.  What the request lends the plugin
 * (header copies, the query object) lives in the request, freed after
 * the call.
 */
#include "plugin_http.h"

#include "base/array.h"
#include "base/log.h"
#include "base/value.h"
#include "config/config.h"
#include "engineio/eio_session.h"
#include "engineio/http.h"
#include "plugin/guard.h"
#include "plugin/routes.h"
#include "reply.h"
#include "site.h"

#include <stdlib.h>
#include <string.h>

struct pio_http_request {
    struct lws *wsi;
    const char *method;     /* static */
    const char *path;       /* borrowed from http.c */
    const void *body;       /* borrowed from http.c */
    size_t len;
    json_object *query;     /* owned; built on first use */
    char **headers;         /* owned: the values handed out */
    size_t n_headers, cap_headers;
    bool answered;
    int rc;                 /* what http_send returned for the answer */
    char address[46];
};

int plugin_http_route(struct lws *wsi, const char *path, const config *c)
{
    /* Engine.IO's own, whatever a route said before a reload moved it. */
    if (routes_path_under(path, c->opts.path))
        return HTTP_SITE_DECLINED;
    const plugin_route *r = routes_find(path);
    return r ? http_read_body(wsi, path, r->max_body) : HTTP_SITE_DECLINED;
}

typedef struct route_call {
    pio_http_fn fn;
    pio_ctx *ctx;
    void *userdata;
    pio_http_request *req;
} route_call;

static void call_route(void *arg)
{
    route_call *c = arg;
    c->fn(c->ctx, c->req, c->userdata);
}

static void request_free(pio_http_request *req)
{
    json_object_put(req->query);
    for (size_t i = 0; i < req->n_headers; i++)
        free(req->headers[i]);
    free(req->headers);
}

static int answer_500(pio_http_request *req)
{
    return reply_plain(req->wsi, 500, "Internal Server Error");
}

int plugin_http_serve(struct lws *wsi, const char *path, const void *body, size_t len)
{
    const plugin_route *r = routes_find(path);
    if (!r)
        return reply_plain(wsi, 404, "Not Found");
    /* Read under the limit in place at the head: a reload since may have
     * lowered it, and no route gets more than it asked for. */
    if (len > r->max_body)
        return reply_plain(wsi, 413, "Payload Too Large");
    pio_http_request req = {.wsi = wsi, .method = http_method_name(wsi), .path = path,
                            .body = len ? body : "", .len = len};
    http_peer_address(wsi, req.address, sizeof req.address);
    /* The route may go during the call (the plugin unroutes it). */
    route_call call = {r->fn, ctx_ref(r->owner), r->userdata, &req};
    guard_result g = guard_call(call.ctx, "HTTP route", NULL, call_route, &call);
    int rc = req.rc;
    if (!req.answered) {
        if (g == GUARD_RETURNED)
            log_msg(PIO_LOG_WARN, call.ctx->name, "its route %s returned without answering %s: 500",
                    path, req.method);
        else
            log_msg(PIO_LOG_WARN, call.ctx->name, "its route %s %s: 500", path,
                    g == GUARD_FAULTED ? "faulted" : "is quarantined");
        rc = answer_500(&req);
    }
    ctx_unref(call.ctx);
    request_free(&req);
    return rc;
}

/* ---- the SDK's accessors ------------------------------------------------ */

const char *plugin_http_method(const pio_http_request *req) { return req ? req->method : NULL; }

const char *plugin_http_path(const pio_http_request *req) { return req ? req->path : NULL; }

const char *plugin_http_address(const pio_http_request *req) { return req ? req->address : NULL; }

const pio_value *plugin_http_query(const pio_http_request *req)
{
    if (!req)
        return NULL;
    pio_http_request *r = (pio_http_request *)req; /* built once, on first use */
    if (!r->query) {
        buf pairs = BUF_INIT;
        unsigned n;
        if (http_query_pairs(r->wsi, &pairs, &n))
            r->query = eio_query_object(n ? pairs.data : "", n);
        buf_free(&pairs);
    }
    return r->query ? value_wrap(r->query) : NULL;
}

const char *plugin_http_header(const pio_http_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    pio_http_request *r = (pio_http_request *)req; /* keeps what it lends */
    if (!ARRAY_RESERVE(r->headers, r->n_headers + 1, r->cap_headers, 4))
        return NULL;
    char *value = http_header_copy(r->wsi, name);
    if (value)
        r->headers[r->n_headers++] = value;
    return value;
}

int plugin_http_body(const pio_http_request *req, const void **data, size_t *len)
{
    if (!req || !data || !len)
        return PIO_EINVAL;
    *data = req->body;
    *len = req->len;
    return PIO_OK;
}

/* A Content-Type goes into the head as it is: no control characters
 * (a line break would start a header of the plugin's making). */
static bool type_ok(const char *type)
{
    for (const char *p = type; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int plugin_http_respond(pio_http_request *req, unsigned status, const char *content_type,
                        const void *body, size_t len)
{
    if (!req || status < 200 || status > 599 || (len && !body) || !type_ok(content_type))
        return PIO_EINVAL;
    if (req->answered)
        return PIO_ESTATE;
    http_reply r = {.status = status, .type = content_type, .body = body, .len = len,
                    .head_only = strcmp(req->method, "HEAD") == 0};
    req->answered = true;
    req->rc = http_send(req->wsi, &r);
    return PIO_OK;
}
