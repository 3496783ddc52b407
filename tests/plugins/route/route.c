/*
 * route.c - the test plugin of HTTP routes and a deferred middleware's
 * socket (SDK ABI 1.5) that tests/e2e/routes.test.js runs the host with.
 * Built twice (BUILD_ID "a" and "b"), so that a reload changes who answers.
 *
 * Its load hook routes (unless its config says `second: true`: then it
 * tries /hook, which the first instance holds, logs the result, and
 * routes /second to the same function as /hook):
 *   /hook     answers JSON {build, method, path, query, event (the
 *             x-test-event header), type (content-type), host, body,
 *             address}, with the status ?status= asks (default 200)
 *   /silent   returns without answering
 *   /crash    faults (a write through NULL)
 *   /unroute  unroutes /gone, answers "<first rc> <second rc>" (after
 *             answers the host must refuse: status 99, a Content-Type
 *             with a line break)
 *   /gone     answers "gone"
 * and logs what the host says to paths it must refuse:
 *   "route /socket.io/x: <rc>", "route /healthz: <rc>", "route nope: <rc>".
 *
 *   route_gate     middleware: defers; after auth.ms (default 20) a timer
 *                  takes the socket back with pio_middleware_socket, joins
 *                  "r:<auth.token>", sets data "token", and resolves: a
 *                  token beginning with "ok" lets it through, any other is
 *                  refused with "refused: <token>".  Logs "socket after
 *                  resolve: <pointer or null>" (must be null).
 *   route_rooms    acks the socket's rooms (an array) and its data "token"
 *   route_members  (room) acks the number of sockets in that room of "/gated"
 */
#include <plugio/plugio.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BUILD_ID
#define BUILD_ID "a"
#endif

static const char *route_load(pio_ctx *ctx, void *state);

PIO_PLUGIN("route", BUILD_ID, .load = route_load);

PIO_HANDLER(route_rooms);
PIO_HANDLER(route_members);
PIO_MIDDLEWARE(route_gate);

/* ---- JSON out, by hand (the test reads it back) -------------------------- */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *d = realloc(t->data, cap);
        if (!d)
            abort();
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void put_cstr(text *t, const char *s) { put(t, s, strlen(s)); }

static void put_string(text *t, const char *s, size_t n)
{
    if (!s) {
        put_cstr(t, "null");
        return;
    }
    put_cstr(t, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(t, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put_cstr(t, esc);
        } else {
            put(t, (const char *)&c, 1);
        }
    }
    put_cstr(t, "\"");
}

static void put_member(text *t, const char *key, const char *value)
{
    put_string(t, key, strlen(key));
    put_cstr(t, ":");
    put_string(t, value, value ? strlen(value) : 0);
    put_cstr(t, ",");
}

/* ---- routes ----------------------------------------------------------------- */

static void hook(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)userdata;
    text t = {0};
    put_cstr(&t, "{");
    put_member(&t, "build", BUILD_ID);
    put_member(&t, "method", pio_http_method(req));
    put_member(&t, "path", pio_http_path(req));
    put_member(&t, "event", pio_http_header(req, "X-Test-Event"));
    put_member(&t, "type", pio_http_header(req, "content-type"));
    put_member(&t, "host", pio_http_header(req, "Host"));
    put_member(&t, "missing", pio_http_header(req, "x-not-sent"));
    put_member(&t, "address", pio_http_address(req));
    const void *body;
    size_t len;
    if (pio_http_body(req, &body, &len) == PIO_OK) {
        put_cstr(&t, "\"body\":");
        put_string(&t, body, len);
        put_cstr(&t, ",");
    }
    const pio_value *query = pio_http_query(req);
    char json[1024];
    size_t jlen = 0;
    put_cstr(&t, "\"query\":");
    if (query && pio_value_json(query, json, sizeof json, &jlen) == PIO_OK)
        put(&t, json, jlen);
    else
        put_cstr(&t, "null");
    put_cstr(&t, "}");
    const char *status = NULL;
    size_t slen;
    unsigned code = 200;
    if (pio_value_string(pio_value_member(query, "status"), &status, &slen) == PIO_OK)
        code = (unsigned)strtoul(status, NULL, 10);
    int rc = pio_http_respond(req, code, "application/json", t.data, t.len);
    if (rc != PIO_OK)
        pio_log(ctx, PIO_LOG_WARN, "respond: %d", rc);
    else if (pio_http_respond(req, 200, NULL, NULL, 0) != PIO_ESTATE)
        pio_log(ctx, PIO_LOG_ERROR, "a second answer was taken");
    free(t.data);
}

static void silent(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)ctx, (void)req, (void)userdata;
}

static void crash(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)ctx, (void)req;
    volatile int *nowhere = userdata;
    *nowhere = 1;
}

static void gone(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)ctx, (void)userdata;
    pio_http_respond(req, 200, "text/plain", "gone", 4);
}

static void unroute(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)userdata;
    int first = pio_http_unroute(ctx, "/gone");
    int second = pio_http_unroute(ctx, "/gone");
    char out[32];
    int n = snprintf(out, sizeof out, "%d %d", first, second);
    /* A status out of range is refused, and the request still waits. */
    if (pio_http_respond(req, 99, NULL, NULL, 0) != PIO_EINVAL)
        pio_log(ctx, PIO_LOG_ERROR, "status 99 was taken");
    /* An interim status is no answer: the client would wait for another. */
    if (pio_http_respond(req, 103, NULL, NULL, 0) != PIO_EINVAL)
        pio_log(ctx, PIO_LOG_ERROR, "status 103 was taken");
    if (pio_http_respond(req, 200, "text/plain\r\nx-evil: 1", NULL, 0) != PIO_EINVAL)
        pio_log(ctx, PIO_LOG_ERROR, "a content type with a line break was taken");
    pio_http_respond(req, 200, "text/plain", out, (size_t)n);
}

static int get_bool(const pio_value *v)
{
    int b = 0;
    return v && pio_value_bool(v, &b) == PIO_OK && b;
}

static const char *route_load(pio_ctx *ctx, void *state)
{
    (void)state;
    if (get_bool(pio_value_member(pio_ctx_config(ctx), "second"))) {
        pio_log(ctx, PIO_LOG_INFO, "second route /hook: %d",
                pio_http_route(ctx, "/hook", 16, hook, NULL));
        return pio_http_route(ctx, "/second", 16, hook, NULL) == PIO_OK ? NULL : "cannot route";
    }
    static const struct {
        const char *path;
        size_t max_body;
        pio_http_fn fn;
    } routes[] = {
        {"/hook", 1024, hook}, {"/silent", 0, silent}, {"/crash", 0, crash},
        {"/unroute", 0, unroute}, {"/gone", 0, gone},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        int rc = pio_http_route(ctx, routes[i].path, routes[i].max_body, routes[i].fn, NULL);
        if (rc != PIO_OK)
            return "cannot route";
    }
    /* Its own path again: replaced. */
    if (pio_http_route(ctx, "/hook", 1024, hook, NULL) != PIO_OK)
        return "cannot route /hook again";
    pio_log(ctx, PIO_LOG_INFO, "route /socket.io/x: %d",
            pio_http_route(ctx, "/socket.io/x", 0, hook, NULL));
    pio_log(ctx, PIO_LOG_INFO, "route /healthz: %d",
            pio_http_route(ctx, "/healthz", 0, hook, NULL));
    pio_log(ctx, PIO_LOG_INFO, "route nope: %d", pio_http_route(ctx, "nope", 0, hook, NULL));
    pio_log(ctx, PIO_LOG_INFO, "build %s routes", BUILD_ID);
    return NULL;
}

/* ---- a deferred middleware's socket --------------------------------------- */

typedef struct gate {
    uint64_t pending;
    char token[64];
} gate;

static void decide(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer;
    gate *g = userdata;
    pio_socket *s = pio_middleware_socket(g->pending);
    if (!s) {
        pio_log(ctx, PIO_LOG_ERROR, "no socket for a waiting middleware");
        pio_middleware_resolve(g->pending, "no socket");
        free(g);
        return;
    }
    char room[80];
    snprintf(room, sizeof room, "r:%s", g->token);
    pio_socket_join(s, room);
    pio_out *out = pio_out_new(ctx);
    if (out && pio_out_cstr(out, g->token) == PIO_OK)
        pio_socket_data_set(s, "token", out);
    else
        pio_out_free(out);
    char why[128];
    snprintf(why, sizeof why, "refused: %s", g->token);
    int rc = pio_middleware_resolve(g->pending, strncmp(g->token, "ok", 2) == 0 ? NULL : why);
    if (rc != PIO_OK)
        pio_log(ctx, PIO_LOG_ERROR, "middleware_resolve: %d", rc);
    /* Lent for this call, it is still readable; but no longer waiting. */
    pio_log(ctx, PIO_LOG_INFO, "socket after resolve: %s",
            pio_middleware_socket(g->pending) ? "still there" : "null");
    free(g);
}

PIO_MIDDLEWARE(route_gate)
{
    const pio_value *auth = pio_socket_auth(socket);
    const char *token = NULL;
    size_t len;
    if (pio_value_string(pio_value_member(auth, "token"), &token, &len) != PIO_OK)
        return "no token";
    if (pio_middleware_socket(0) != NULL)
        return "a socket for handle 0";
    uint64_t pending = pio_middleware_defer(socket);
    if (!pending)
        return "cannot defer";
    if (pio_middleware_socket(pending) != socket)
        pio_log(ctx, PIO_LOG_ERROR, "middleware_socket is not the socket deferred");
    gate *g = calloc(1, sizeof *g);
    if (!g)
        return "out of memory";
    g->pending = pending;
    snprintf(g->token, sizeof g->token, "%s", token);
    int64_t ms = 20;
    pio_value_int64(pio_value_member(auth, "ms"), &ms);
    if (!pio_timer_start(ctx, (uint32_t)ms, 0, decide, g)) {
        free(g);
        return "out of memory";
    }
    return NULL;
}

PIO_HANDLER(route_rooms)
{
    (void)args;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_array_begin(out));
    void *cursor = NULL;
    const char *room;
    while ((room = pio_socket_room_next(socket, &cursor)))
        PIO_TRY(pio_out_cstr(out, room));
    PIO_TRY(pio_out_array_end(out));
    const char *token = NULL;
    size_t len;
    if (pio_value_string(pio_socket_data_get(socket, "token"), &token, &len) == PIO_OK)
        PIO_TRY(pio_out_string(out, token, len));
    else
        PIO_TRY(pio_out_null(out));
    return pio_ack(args, out);
}

typedef struct count {
    const char *room;
    int64_t members;
} count;

static int visit(pio_ctx *ctx, const char *room, size_t members, void *userdata)
{
    (void)ctx;
    count *c = userdata;
    if (strcmp(room, c->room) == 0)
        c->members = (int64_t)members;
    return 0;
}

PIO_HANDLER(route_members)
{
    (void)socket;
    count c = {NULL, 0};
    size_t len;
    if (pio_value_string(pio_args_at(args, 0), &c.room, &len) != PIO_OK)
        return PIO_EINVAL;
    pio_rooms(ctx, "/gated", visit, &c);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_int64(out, c.members));
    return pio_ack(args, out);
}
