/*
 * adapter.c - the test plugin of the adapter interface (SDK ABI 1.4) that
 * tests/e2e/adapter.test.js runs the host with.  It is an adapter that
 * joins no other server: it writes down what the host tells it, and
 * answers the host's requests as a second server would (from timers, so
 * the answers come later, as over a network), which lets the tests check
 * what the host does with them.  Its config block:
 *   answer: true (default) | false - whether requests get any answer
 *   fault: true | false (default) - fetch_sockets faults (a NULL write)
 *
 * The adapter (installed by the init hook `adapter_init`, and again by the
 * load hook of a next version):
 *   namespace_created / _deleted, broadcast, sockets_join/_leave,
 *   disconnect_sockets, server_emit without a request: a line each in the
 *   log (see `adapter_log`)
 *   fetch_sockets: one socket {id: "remote-1", rooms: ["remote-1", "r"],
 *   data: {from: "remote"}, handshake: {}} after 20 ms, then done
 *   all_rooms: "r" and "remote-room" after 20 ms, then done
 *   server_emit with a request: "remote-reply" after 20 ms, then done
 *   broadcast_with_ack: expects 2 clients, answers "remote-ack-1" at once
 *   and "remote-ack-2" after 20 ms, then done
 *
 * Client events (each acks its result):
 *   adapter_log          the log lines so far (and clears it)
 *   adapter_fetch        ({rooms, local, timeout}) [status, sockets]
 *   adapter_rooms        ({local, timeout}) [status, rooms]
 *   adapter_sse          ({event, args, ack, timeout}) [status, replies]
 *                        (without ack: [rc])
 *   adapter_emit_ack     ({rooms, event, timeout, each}) [status, answers];
 *                        with each: [answers, status]
 *   adapter_bcast        ({rooms, except, volatile, local, broadcast, args})
 *                        [delivered here]
 *   adapter_join_all     ({room, local}) [affected here]
 *   adapter_late         [status of answering the last request again]
 *   adapter_server_event ({packet, reply}) [rc, reply status, reply]
 * Server event (serverEvents): adapter_ping acks "pong:" + its argument
 * (nothing for "silent").
 */
#include <plugio/plugio.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *adapter_unload(pio_ctx *ctx, int final);
static const char *adapter_load(pio_ctx *ctx, void *state);
PIO_PLUGIN("adapter", "1.0.0", .load = adapter_load, .unload = adapter_unload);

PIO_INIT(adapter_init);
PIO_HANDLER(adapter_log);
PIO_HANDLER(adapter_fetch);
PIO_HANDLER(adapter_rooms);
PIO_HANDLER(adapter_sse);
PIO_HANDLER(adapter_emit_ack);
PIO_HANDLER(adapter_bcast);
PIO_HANDLER(adapter_join_all);
PIO_HANDLER(adapter_late);
PIO_HANDLER(adapter_server_event);
PIO_HANDLER(adapter_ping);

#define LOG_MAX 64
static char *lines[LOG_MAX];
static size_t n_lines;
static uint64_t last_request;
static int answering = 1;
static int faulting; /* config fault: fetch_sockets faults */

static void note(const char *fmt, ...) PIO_PRINTF(1, 2);
static void note(const char *fmt, ...)
{
    if (n_lines == LOG_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    lines[n_lines] = strdup(text);
    if (lines[n_lines])
        n_lines++;
}

static const char *json_of(const pio_value *v, char *buf, size_t cap)
{
    size_t len;
    if (!v || pio_value_json(v, buf, cap, &len) != PIO_OK)
        snprintf(buf, cap, "?");
    return buf;
}

/* "a,b" for a list of names. */
static const char *names(const char *const *list, size_t n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", i ? "," : "", list[i]);
    return buf;
}

/* ---- the adapter ---------------------------------------------------------- */

static void on_created(pio_ctx *ctx, void *state, const char *nsp)
{
    (void)ctx, (void)state;
    note("created %s", nsp);
}

static void on_deleted(pio_ctx *ctx, void *state, const char *nsp)
{
    (void)ctx, (void)state;
    note("deleted %s", nsp);
}

static void on_broadcast(pio_ctx *ctx, void *state, const pio_select *sel, const pio_value *packet)
{
    (void)ctx, (void)state;
    char json[1024], rooms[256], except[256];
    unsigned char mp[1024];
    size_t mp_len = 0;
    pio_value_msgpack(packet, mp, sizeof mp, &mp_len);
    note("broadcast %s rooms=%s except=%s volatile=%d %s msgpack=%zu", sel->nsp,
         names(sel->rooms, sel->n_rooms, rooms, sizeof rooms),
         names(sel->except, sel->n_except, except, sizeof except),
         (sel->flags & PIO_SELECT_VOLATILE) != 0, json_of(packet, json, sizeof json), mp_len);
}

static void on_join(pio_ctx *ctx, void *state, const pio_select *sel, const char *room)
{
    (void)ctx, (void)state;
    char rooms[256];
    note("join %s rooms=%s %s", sel->nsp, names(sel->rooms, sel->n_rooms, rooms, sizeof rooms), room);
}

static void on_leave(pio_ctx *ctx, void *state, const pio_select *sel, const char *room)
{
    (void)ctx, (void)state;
    char rooms[256];
    note("leave %s rooms=%s %s", sel->nsp, names(sel->rooms, sel->n_rooms, rooms, sizeof rooms), room);
}

static void on_disconnect(pio_ctx *ctx, void *state, const pio_select *sel, int close)
{
    (void)ctx, (void)state;
    char rooms[256];
    note("disconnect %s rooms=%s close=%d", sel->nsp, names(sel->rooms, sel->n_rooms, rooms, sizeof rooms),
         close);
}

/* A request answered from a timer, as if over a network. */
typedef struct reply_job {
    uint64_t request;
    const char *json;    /* the answers, as JSON values separated by commas */
    int done;
} reply_job;

static void answer_json(pio_ctx *ctx, uint64_t request, const char *json)
{
    pio_out *out = pio_out_new(ctx);
    char list[512];
    snprintf(list, sizeof list, "[%s]", json);
    const pio_value *v = pio_value_parse(list, strlen(list), PIO_FORMAT_JSON);
    for (size_t i = 0; v && i < pio_value_count(v); i++)
        pio_out_value(out, pio_value_index(v, i));
    pio_value_free(v);
    pio_adapter_answer(request, out);
}

static void reply_later(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer;
    reply_job *j = userdata;
    answer_json(ctx, j->request, j->json);
    if (j->done)
        pio_adapter_done(j->request, PIO_OK);
    free(j);
}

static void schedule(pio_ctx *ctx, uint64_t request, const char *json, int done)
{
    last_request = request;
    if (!answering)
        return;
    reply_job *j = malloc(sizeof *j);
    if (!j)
        return;
    *j = (reply_job){request, json, done};
    if (!pio_timer_start(ctx, 20, 0, reply_later, j))
        free(j);
}

/* Not the sanitizers' to report: the fault is the point (config fault). */
__attribute__((no_sanitize("undefined"))) static void on_fetch(pio_ctx *ctx, void *state, const pio_select *sel, uint32_t timeout_ms,
                     uint64_t request)
{
    (void)state, (void)timeout_ms;
    if (faulting) {
        volatile int *p = NULL;
        *p = 1;
    }
    char rooms[256];
    note("fetch %s rooms=%s", sel->nsp, names(sel->rooms, sel->n_rooms, rooms, sizeof rooms));
    schedule(ctx, request,
             "{\"id\":\"remote-1\",\"rooms\":[\"remote-1\",\"r\"],\"data\":{\"from\":\"remote\"},"
             "\"handshake\":{}}",
             1);
}

static void on_all_rooms(pio_ctx *ctx, void *state, const char *nsp, uint32_t timeout_ms,
                         uint64_t request)
{
    (void)state, (void)timeout_ms;
    note("all_rooms %s", nsp);
    schedule(ctx, request, "\"r\",\"remote-room\"", 1);
}

static void on_server_emit(pio_ctx *ctx, void *state, const char *nsp, const pio_value *packet,
                           uint32_t timeout_ms, uint64_t request)
{
    (void)state, (void)timeout_ms;
    char json[1024];
    note("server_emit %s %s request=%d", nsp, json_of(packet, json, sizeof json), request != 0);
    if (request)
        schedule(ctx, request, "\"remote-reply\"", 1);
}

static void on_broadcast_with_ack(pio_ctx *ctx, void *state, const pio_select *sel,
                                  const pio_value *packet, uint32_t timeout_ms, uint64_t request)
{
    (void)state, (void)timeout_ms;
    char json[1024];
    note("broadcast_with_ack %s %s", sel->nsp, json_of(packet, json, sizeof json));
    last_request = request;
    if (!answering)
        return;
    pio_adapter_expect(request, 2);
    answer_json(ctx, request, "\"remote-ack-1\"");
    schedule(ctx, request, "\"remote-ack-2\"", 1);
}

static const pio_adapter_ops ops = {
    .size = sizeof ops,
    .namespace_created = on_created,
    .namespace_deleted = on_deleted,
    .broadcast = on_broadcast,
    .broadcast_with_ack = on_broadcast_with_ack,
    .sockets_join = on_join,
    .sockets_leave = on_leave,
    .disconnect_sockets = on_disconnect,
    .fetch_sockets = on_fetch,
    .all_rooms = on_all_rooms,
    .server_emit = on_server_emit,
};

PIO_INIT(adapter_init)
{
    const pio_value *a = pio_value_member(pio_ctx_config(ctx), "answer");
    int b;
    if (a && pio_value_bool(a, &b) == PIO_OK)
        answering = b;
    const pio_value *f = pio_value_member(pio_ctx_config(ctx), "fault");
    if (f && pio_value_bool(f, &b) == PIO_OK)
        faulting = b;
    int rc = pio_adapter_install(ctx, NULL, &ops, NULL);
    return rc == PIO_OK ? NULL : pio_strerror(rc);
}

/* A next version takes the adapter over: what was noted goes with it. */
typedef struct handed {
    char *lines[LOG_MAX];
    size_t n_lines;
    int answering;
} handed;

static void *adapter_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    if (final) {
        for (size_t i = 0; i < n_lines; i++)
            free(lines[i]);
        n_lines = 0;
        return NULL;
    }
    handed *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    memcpy(h->lines, lines, sizeof lines);
    h->n_lines = n_lines;
    h->answering = answering;
    n_lines = 0;
    return h;
}

static const char *adapter_load(pio_ctx *ctx, void *state)
{
    handed *h = state;
    if (!h)
        return NULL; /* the first version: the init hook installs */
    memcpy(lines, h->lines, sizeof lines);
    n_lines = h->n_lines;
    answering = h->answering;
    free(h);
    note("loaded again");
    int rc = pio_adapter_install(ctx, NULL, &ops, NULL);
    return rc == PIO_OK ? NULL : pio_strerror(rc);
}

/* ---- client events ------------------------------------------------------------- */

static const pio_value *opt(pio_args *args, const char *key)
{
    return pio_value_member(pio_args_at(args, 0), key);
}

static int flag(pio_args *args, const char *key)
{
    int b = 0;
    pio_value_bool(opt(args, key), &b);
    return b;
}

static uint32_t timeout_of(pio_args *args)
{
    int64_t ms = 1000;
    pio_value_int64(opt(args, "timeout"), &ms);
    return (uint32_t)ms;
}

/* Up to 8 names from the array args[0][key]. */
static size_t list_of(pio_args *args, const char *key, const char **out)
{
    const pio_value *v = opt(args, key);
    size_t n = 0;
    for (size_t i = 0; i < pio_value_count(v) && n < 8; i++) {
        size_t len;
        if (pio_value_string(pio_value_index(v, i), &out[n], &len) == PIO_OK)
            n++;
    }
    return n;
}

PIO_HANDLER(adapter_log)
{
    (void)socket;
    pio_out *out = pio_out_new(ctx);
    pio_out_array_begin(out);
    for (size_t i = 0; i < n_lines; i++) {
        pio_out_cstr(out, lines[i]);
        free(lines[i]);
    }
    n_lines = 0;
    pio_out_array_end(out);
    return pio_ack(args, out);
}

/* The answer of an operation that ends later: [status, answers]. */
static void answered(pio_ctx *ctx, int status, pio_args *replies, void *userdata)
{
    uint64_t ack = (uint64_t)(uintptr_t)userdata;
    pio_out *out = pio_out_new(ctx);
    pio_out_cstr(out, pio_strerror(status));
    pio_out_array_begin(out);
    for (size_t i = 0; i < pio_args_count(replies); i++)
        pio_out_value(out, pio_args_at(replies, i));
    pio_out_array_end(out);
    pio_ack_later(ack, out);
}

PIO_HANDLER(adapter_fetch)
{
    const char *rooms[8];
    size_t n = list_of(args, "rooms", rooms);
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket), .rooms = rooms,
                      .n_rooms = n, .flags = flag(args, "local") ? PIO_SELECT_LOCAL : 0};
    uint64_t ack = pio_ack_defer(args);
    int rc = pio_fetch_sockets(ctx, &sel, timeout_of(args), answered, (void *)(uintptr_t)ack);
    if (rc < 0)
        pio_ack_drop(ack);
    return rc < 0 ? rc : PIO_OK;
}

PIO_HANDLER(adapter_rooms)
{
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket),
                      .flags = flag(args, "local") ? PIO_SELECT_LOCAL : 0};
    uint64_t ack = pio_ack_defer(args);
    int rc = pio_all_rooms(ctx, &sel, timeout_of(args), answered, (void *)(uintptr_t)ack);
    if (rc < 0)
        pio_ack_drop(ack);
    return rc < 0 ? rc : PIO_OK;
}

PIO_HANDLER(adapter_sse)
{
    const char *event = NULL;
    size_t len;
    pio_value_string(opt(args, "event"), &event, &len);
    const pio_value *list = opt(args, "args");
    pio_out *out = pio_out_new(ctx);
    for (size_t i = 0; i < pio_value_count(list); i++)
        pio_out_value(out, pio_value_index(list, i));
    if (!flag(args, "ack")) {
        int rc = pio_server_emit(ctx, pio_socket_namespace(socket), event, out, 0, NULL, NULL);
        pio_out *res = pio_out_new(ctx);
        pio_out_cstr(res, pio_strerror(rc));
        return pio_ack(args, res);
    }
    uint64_t ack = pio_ack_defer(args);
    int rc = pio_server_emit(ctx, pio_socket_namespace(socket), event, out, timeout_of(args),
                             answered, (void *)(uintptr_t)ack);
    if (rc < 0)
        pio_ack_drop(ack);
    return rc < 0 ? rc : PIO_OK;
}

/* pio_broadcast_ack_each: the answers are written as they come into the
 * ack's first argument (an array); the last call adds the status. */
typedef struct each_job {
    uint64_t ack;
    pio_out *out;
} each_job;

static void each_answer(pio_ctx *ctx, int status, const pio_value *answer, void *userdata)
{
    (void)ctx;
    each_job *j = userdata;
    if (answer) {
        pio_out_value(j->out, answer);
        return;
    }
    pio_out_array_end(j->out);
    pio_out_cstr(j->out, pio_strerror(status));
    pio_ack_later(j->ack, j->out);
    free(j);
}

PIO_HANDLER(adapter_emit_ack)
{
    const char *rooms[8];
    size_t n = list_of(args, "rooms", rooms);
    const char *event = "question";
    size_t len;
    pio_value_string(opt(args, "event"), &event, &len);
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket), .rooms = rooms,
                      .n_rooms = n, .except_socket = socket,
                      .flags = flag(args, "local") ? PIO_SELECT_LOCAL : 0};
    uint64_t ack = pio_ack_defer(args);
    int rc;
    if (flag(args, "each")) {
        each_job *j = malloc(sizeof *j);
        if (!j)
            return PIO_ENOMEM;
        j->ack = ack;
        j->out = pio_out_new(ctx);
        pio_out_array_begin(j->out);
        rc = pio_broadcast_ack_each(ctx, &sel, event, NULL, timeout_of(args), each_answer, j);
        if (rc < 0) {
            pio_out_free(j->out);
            free(j);
        }
    } else {
        rc = pio_broadcast_with_ack(ctx, &sel, event, NULL, timeout_of(args), answered,
                                    (void *)(uintptr_t)ack);
    }
    if (rc < 0)
        pio_ack_drop(ack);
    return rc < 0 ? rc : PIO_OK;
}

PIO_HANDLER(adapter_bcast)
{
    const char *rooms[8], *except[8];
    size_t n = list_of(args, "rooms", rooms), n_except = list_of(args, "except", except);
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket), .rooms = rooms,
                      .n_rooms = n, .except = except, .n_except = n_except,
                      .except_socket = flag(args, "broadcast") ? socket : NULL,
                      .flags = (flag(args, "local") ? PIO_SELECT_LOCAL : 0) |
                               (flag(args, "volatile") ? PIO_SELECT_VOLATILE : 0)};
    pio_out *out = pio_out_new(ctx);
    for (size_t i = 1; i < pio_args_count(args); i++)
        pio_out_value(out, pio_args_at(args, i));
    int sent = pio_broadcast(ctx, &sel, "news", out);
    pio_out *res = pio_out_new(ctx);
    pio_out_int64(res, sent);
    return pio_ack(args, res);
}

PIO_HANDLER(adapter_join_all)
{
    const char *room = "joined";
    size_t len;
    pio_value_string(opt(args, "room"), &room, &len);
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket),
                      .flags = flag(args, "local") ? PIO_SELECT_LOCAL : 0};
    int n = pio_select_join(ctx, &sel, room);
    pio_out *res = pio_out_new(ctx);
    pio_out_int64(res, n);
    return pio_ack(args, res);
}

PIO_HANDLER(adapter_late)
{
    (void)socket;
    int rc = pio_adapter_answer(last_request, NULL);
    int rc2 = pio_adapter_done(last_request, PIO_OK);
    pio_out *res = pio_out_new(ctx);
    pio_out_cstr(res, pio_strerror(rc));
    pio_out_cstr(res, pio_strerror(rc2));
    return pio_ack(args, res);
}

typedef struct captured {
    int status;
    char json[512];
    int calls;
} captured;

static void capture_reply(pio_ctx *ctx, int status, const pio_value *answer, void *userdata)
{
    (void)ctx;
    captured *c = userdata;
    c->calls++;
    c->status = status;
    json_of(answer, c->json, sizeof c->json);
}

PIO_HANDLER(adapter_server_event)
{
    captured c = {0, "", 0};
    int rc = pio_server_event(ctx, pio_socket_namespace(socket), opt(args, "packet"),
                              flag(args, "reply") ? capture_reply : NULL, &c);
    pio_out *res = pio_out_new(ctx);
    pio_out_cstr(res, pio_strerror(rc));
    pio_out_int64(res, c.calls);
    pio_out_cstr(res, c.calls ? pio_strerror(c.status) : "");
    pio_out_cstr(res, c.json);
    return pio_ack(args, res);
}

PIO_HANDLER(adapter_ping)
{
    if (socket)
        return PIO_EINVAL; /* only ever from another server */
    const char *s = "";
    size_t len;
    pio_value_string(pio_args_at(args, 0), &s, &len);
    if (strcmp(s, "silent") == 0)
        return PIO_OK; /* no answer */
    char text[256];
    snprintf(text, sizeof text, "pong:%s", s);
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *out = pio_out_new(ctx);
    pio_out_cstr(out, text);
    return pio_ack(args, out);
}
