/*
 * publish.c - what this server tells the others: the pio_adapter_ops the
 * host calls after it did the same to its own sockets, and the requests
 * it then waits on (§3, §4 of design/REDIS-ADAPTER.md, asker's side).
 *
 * A request is asked as Node's adapter asks it: PUBSUB NUMSUB on the
 * request channel says how many servers listen (this one included), and
 * the request is published only when some other one does; each other
 * server answers once.  A broadcast with acks is published first and
 * counted after, as socket.io does: every other server answers with its
 * number of clients (type 8), then with each client's ack (type 9).
 *
 * "This one included" holds only once Redis has counted this server, that
 * is once it confirmed the SUBSCRIBE to the namespace's request channel
 * (ra_nsp_ready): NUMSUB goes out on the other connection, in no order
 * with the subscriber's commands, and asked earlier - the first moments
 * after connecting or reconnecting, a child namespace just created - it
 * would count one server too few, and with one other server none at all:
 * the request would complete with this server's part only, as if it were
 * alone.  So a request asked before is held, entry, timer and body ready,
 * and asked (published, counted) when the confirmation comes; its time
 * limit runs meanwhile.
 *
 * The host owns the time limit of every request; the entry here lives
 * until the request completed or its time is up, whichever is first, so
 * a late answer finds nothing and nothing leaks.  requestsTimeout, the
 * operator's limit, shortens the host's for fetchSockets, allRooms and
 * serverSideEmit, as it bounds those calls in Node's adapter.
 */
#include "adapter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- selections ------------------------------------------------------- */

/* sel's rooms and except as they go on the wire: each name once. */
typedef struct target {
    ra_target t;
    const char **names; /* rooms, then except (malloc'ed pointers, borrowed names) */
} target;

static int target_init(target *x, const pio_select *sel, uint32_t timeout_ms)
{
    size_t n = sel->n_rooms + sel->n_except;
    x->names = NULL;
    if (n && !(x->names = malloc(n * sizeof *x->names)))
        return -1;
    for (size_t i = 0; i < sel->n_rooms; i++)
        x->names[i] = sel->rooms[i];
    for (size_t i = 0; i < sel->n_except; i++)
        x->names[sel->n_rooms + i] = sel->except[i];
    x->t.rooms = x->names;
    x->t.n_rooms = ra_unique(x->names, sel->n_rooms);
    x->t.except = x->names ? x->names + sel->n_rooms : NULL;
    x->t.n_except = ra_unique(x->names + sel->n_rooms, sel->n_except);
    x->t.is_volatile = (sel->flags & PIO_SELECT_VOLATILE) != 0;
    x->t.timeout_ms = timeout_ms;
    return 0;
}

static void target_free(target *x)
{
    free(x->names);
    x->names = NULL;
}

static ra_nsp *nsp_of(ra_adapter *a, const char *nsp)
{
    return ra_nsp_find(a, nsp ? nsp : "/");
}

/* The namespace a request of the host is for, or NULL when the request
 * is answered already: at once with nothing to add for a selection kept
 * on this server (the host does not ask then; kept for safety), or with
 * PIO_EUNREACHABLE while Redis is away. */
static ra_nsp *asked_nsp(ra_adapter *a, const char *nsp, unsigned flags, uint64_t request)
{
    if (flags & PIO_SELECT_LOCAL) {
        pio_adapter_done(request, PIO_OK);
        return NULL;
    }
    ra_nsp *ns = nsp_of(a, nsp);
    if (!ns || !ra_online(a)) {
        pio_adapter_done(request, PIO_EUNREACHABLE);
        return NULL;
    }
    return ns;
}

/* ---- requests in flight -------------------------------------------------- */

static void drop(ra_adapter *a, ra_pending *p)
{
    if (p->timer)
        pio_timer_cancel(a->ctx, p->timer);
    ra_pending_remove(&a->pending, p);
}

/* Tells the host the others are done (PIO_OK) or what went wrong.  A
 * broadcast with acks stays, to pass on the client acks still to come;
 * anything else goes.  p is not touched after the host's call: its
 * callbacks may run code that changes the table. */
static void finish(ra_adapter *a, ra_pending *p, int status)
{
    uint64_t request = p->request;
    p->done = 1;
    if (p->type != RA_BROADCAST || status != PIO_OK) {
        drop(a, p);
        pio_adapter_done(request, status);
        return;
    }
    char id[RA_UID_LEN + 1];
    memcpy(id, p->id, sizeof id);
    if (pio_adapter_done(request, status) != PIO_OK &&
        (p = ra_pending_find(&a->pending, id, RA_UID_LEN)))
        drop(a, p);
}

static void check_complete(ra_adapter *a, ra_pending *p)
{
    if (!p->done && p->expected >= 0 && p->answered >= p->expected)
        finish(a, p, PIO_OK);
}

void ra_requests_fail(ra_adapter *a, const char *nsp, int status)
{
    ra_pending *list = ra_pending_detach(&a->pending, nsp);
    while (list) {
        ra_pending *p = list;
        list = p->next;
        if (p->timer)
            pio_timer_cancel(a->ctx, p->timer);
        uint64_t request = p->request;
        int done = p->done;
        ra_pending_free(p);
        if (!done)
            pio_adapter_done(request, status);
    }
}

static void on_request_time_up(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)ctx;
    (void)timer;
    ra_pending *p = userdata;
    ra_adapter *a = p->owner;
    p->timer = 0;
    if (p->done) {
        drop(a, p);
        return;
    }
    finish(a, p, PIO_ETIMEDOUT);
}

/* A new entry for `request` with its timer; NULL (and the request
 * completed) when that cannot be. */
static ra_pending *pending_new(ra_adapter *a, int type, const ra_nsp *ns, uint64_t request,
                               uint32_t timeout_ms)
{
    ra_pending *p = ra_pending_add(&a->pending, type, ns->name, request);
    if (!p) {
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a request to the other servers fails");
        pio_adapter_done(request, PIO_ENOMEM);
        return NULL;
    }
    p->owner = a;
    p->timer = pio_timer_start(a->ctx, timeout_ms ? timeout_ms : a->cfg.requests_timeout, 0,
                               on_request_time_up, p);
    if (!p->timer) {
        finish(a, p, PIO_ENOMEM);
        return NULL;
    }
    return p;
}

/* PUBSUB NUMSUB's answer for one request (found by id: it may have gone
 * meanwhile). */
typedef struct numsub_ask {
    ra_adapter *a;
    char id[RA_UID_LEN + 1];
} numsub_ask;

static int numsub_count(const redisReply *r, long long *n)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    *n = r->element[1]->integer;
    return 0;
}

static void on_numsub(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    numsub_ask *q = privdata;
    ra_adapter *a = q->a;
    ra_pending *p = ra_pending_find(&a->pending, q->id, RA_UID_LEN);
    free(q);
    if (!p)
        return;
    long long n;
    if (numsub_count(reply, &n) != 0) {
        if (reply)
            pio_log(a->ctx, PIO_LOG_DEBUG, "PUBSUB NUMSUB: unexpected reply");
        finish(a, p, PIO_EUNREACHABLE);
        return;
    }
    p->expected = n > 1 ? n - 1 : 0; /* the others: this server listens too */
    if (p->payload) {
        if (p->expected > 0) {
            ra_nsp *ns = ra_nsp_find(a, p->nsp);
            if (!ns || ra_publish(a, ns->ch.request, strlen(ns->ch.request), p->payload,
                                  p->payload_len) != 0) {
                finish(a, p, PIO_EUNREACHABLE);
                return;
            }
        }
        free(p->payload);
        p->payload = NULL;
    }
    check_complete(a, p);
}

/* Asks how many servers listen on ns's request channel, for p. */
static void ask_count(ra_adapter *a, const ra_nsp *ns, ra_pending *p)
{
    numsub_ask *q = malloc(sizeof *q);
    if (q) {
        q->a = a;
        memcpy(q->id, p->id, sizeof q->id);
        if (ra_conn_command(&a->pub, on_numsub, q, "PUBSUB NUMSUB %b", ns->ch.request,
                            strlen(ns->ch.request)) == 0)
            return;
        free(q);
    }
    finish(a, p, PIO_EUNREACHABLE);
}

/* Holds p, whose body is in p->payload, until ns is ready. */
static void hold(ra_adapter *a, const ra_nsp *ns, ra_pending *p)
{
    ra_pending_hold(&a->pending, p);
    pio_log(a->ctx, PIO_LOG_DEBUG,
            "%s: a request waits for redis to confirm this server's subscription", ns->name);
}

/* Asks the request in `body` (taken) of the others: after NUMSUB, and
 * that once ns is ready. */
static void ask(ra_adapter *a, const ra_nsp *ns, ra_pending *p, ra_buf *body)
{
    if (body->failed) {
        ra_buf_free(body);
        finish(a, p, PIO_ENOMEM);
        return;
    }
    p->payload = body->data;
    p->payload_len = body->len;
    *body = (ra_buf)RA_BUF_INIT;
    if (!ra_nsp_ready(a, ns))
        hold(a, ns, p);
    else
        ask_count(a, ns, p);
}

/* Asks a held request now: as it would have been asked at first. */
static void release(ra_adapter *a, const ra_nsp *ns, ra_pending *p)
{
    if (p->type == RA_BROADCAST) { /* published first, counted after */
        int rc = ra_publish(a, ns->ch.request, strlen(ns->ch.request), p->payload,
                            p->payload_len);
        free(p->payload);
        p->payload = NULL;
        if (rc != 0) {
            finish(a, p, PIO_EUNREACHABLE);
            return;
        }
    }
    ask_count(a, ns, p);
}

void ra_requests_release(ra_adapter *a, const char *channel, size_t len)
{
    /* One at a time, the namespace found again each time: a request that
     * fails completes in the host, whose callbacks may ask new requests,
     * or delete the namespace, meanwhile. */
    for (;;) {
        ra_nsp *ns = a->nsps;
        while (ns && (strlen(ns->ch.request) != len || memcmp(ns->ch.request, channel, len) != 0))
            ns = ns->next;
        if (!ns || !ra_nsp_ready(a, ns))
            return;
        ra_pending *p = ra_pending_first_held(&a->pending, ns->name);
        if (!p)
            return;
        p->held = 0;
        release(a, ns, p);
    }
}

static uint32_t requests_timeout(const ra_adapter *a, uint32_t timeout_ms)
{
    return timeout_ms && timeout_ms < a->cfg.requests_timeout ? timeout_ms
                                                              : a->cfg.requests_timeout;
}

/* ---- the responses -------------------------------------------------------- */

/* Appends to out the room name v: a string, or an integer (a JavaScript
 * number used as a room) as its decimal text.  0, or -1 for anything
 * else. */
static int out_room(pio_out *out, const pio_value *v)
{
    const char *s;
    size_t len;
    int64_t n;
    if (pio_value_string(v, &s, &len) == PIO_OK)
        return pio_out_string(out, s, len) == PIO_OK ? 0 : -1;
    if (pio_value_int64(v, &n) == PIO_OK) {
        char text[24];
        int tl = snprintf(text, sizeof text, "%" PRId64, n);
        return pio_out_string(out, text, (size_t)tl) == PIO_OK ? 0 : -1;
    }
    return -1;
}

/* The answers one server's response carries, as the host takes them: one
 * top-level value per answer.  NULL when there are none to pass on. */
static pio_out *answers_of(ra_adapter *a, const ra_pending *p, const pio_value *body)
{
    pio_out *out = NULL;
    const pio_value *list;
    switch (p->type) {
    case RA_REMOTE_FETCH:
    case RA_ALL_ROOMS:
        list = pio_value_member(body, p->type == RA_ALL_ROOMS ? "rooms" : "sockets");
        if (pio_value_type(list) != PIO_TYPE_ARRAY)
            return NULL; /* the server counts as answered, with nothing */
        if (!(out = pio_out_new(a->ctx)))
            return NULL;
        for (size_t i = 0, n = pio_value_count(list); i < n; i++) {
            const pio_value *v = pio_value_index(list, i);
            if (p->type == RA_ALL_ROOMS)
                out_room(out, v); /* a room no one can name is left out */
            else if (pio_value_type(v) == PIO_TYPE_OBJECT)
                pio_out_value(out, v);
        }
        return out;
    case RA_SERVER_SIDE_EMIT:
    case RA_BROADCAST: {
        /* the answer itself; JSON.stringify leaves out an undefined one */
        const pio_value *v = pio_value_member(body, p->type == RA_BROADCAST ? "packet" : "data");
        if (!(out = pio_out_new(a->ctx)))
            return NULL;
        if (v)
            pio_out_value(out, v);
        else
            pio_out_null(out);
        return out;
    }
    }
    return NULL;
}

void ra_on_response(ra_adapter *a, ra_nsp *ns, const char *payload, size_t len)
{
    if (a->pending.count == 0)
        return; /* every server hears every response: most are not ours */
    const pio_value *body = ra_parse_body(a, payload, len);
    if (!body)
        return;
    const char *id;
    size_t id_len;
    ra_pending *p = NULL;
    if (ra_member_string(body, "requestId", &id, &id_len) == 0)
        p = ra_pending_find(&a->pending, id, id_len);
    if (!p || strcmp(p->nsp, ns->name) != 0)
        goto out;
    char key[RA_UID_LEN + 1];
    memcpy(key, p->id, sizeof key);
    uint64_t request = p->request;

    int64_t type = -1;
    pio_value_int64(pio_value_member(body, "type"), &type);
    int rc;
    int counts; /* this response is one server's answer to the request */
    if (p->type == RA_BROADCAST && type == RA_BROADCAST_CLIENT_COUNT) {
        int64_t clients;
        if (pio_value_int64(pio_value_member(body, "clientCount"), &clients) != PIO_OK ||
            clients < 0 || clients > UINT32_MAX) {
            a->stats.malformed++;
            goto out;
        }
        rc = pio_adapter_expect(request, (uint32_t)clients);
        counts = 1;
    } else if (p->type == RA_BROADCAST && type != RA_BROADCAST_ACK) {
        goto out;
    } else if (p->type == RA_SERVER_SIDE_EMIT && type != RA_SERVER_SIDE_EMIT) {
        goto out;
    } else {
        pio_out *answers = answers_of(a, p, body);
        rc = answers ? pio_adapter_answer(request, answers) : PIO_OK;
        counts = p->type != RA_BROADCAST; /* a type 9 is a client's, not a server's */
    }
    /* The host's call may have run code that changed the table. */
    if (!(p = ra_pending_find(&a->pending, key, RA_UID_LEN)))
        goto out;
    if (rc == PIO_ECLOSED) { /* completed, or its time ran out */
        drop(a, p);
        goto out;
    }
    if (counts) {
        p->answered++;
        check_complete(a, p);
    }
out:
    pio_value_free(body);
}

/* ---- the operations ---------------------------------------------------------- */

void ra_op_broadcast(pio_ctx *ctx, void *state, const pio_select *sel, const pio_value *packet)
{
    (void)ctx;
    ra_adapter *a = state;
    ra_nsp *ns = nsp_of(a, sel->nsp);
    if (!ns || (sel->flags & PIO_SELECT_LOCAL))
        return;
    if (!a->pub.up) { /* dropped before any encoding */
        a->stats.dropped++;
        return;
    }
    target x;
    ra_buf data = RA_BUF_INIT, msg = RA_BUF_INIT, channel = RA_BUF_INIT;
    if (target_init(&x, sel, 0) != 0 || ra_value_msgpack(&data, packet) != 0 ||
        ra_pack_broadcast(&msg, ns->uid, ns->name, data.data, data.len, &x.t) != 0)
        goto fail;
    /* The room channel only for exactly one room: a receiver reads the
     * channel's room and drops the message if it has no such room. */
    ra_channel_broadcast(&channel, &ns->ch, x.t.n_rooms == 1 ? x.t.rooms[0] : NULL);
    if (channel.failed)
        goto fail;
    ra_publish(a, channel.data, channel.len, msg.data, msg.len);
    goto out;
fail:
    a->stats.dropped++;
    pio_log(a->ctx, PIO_LOG_ERROR, "a broadcast on %s is not published: out of memory", ns->name);
out:
    target_free(&x);
    ra_buf_free(&data);
    ra_buf_free(&msg);
    ra_buf_free(&channel);
}

void ra_op_broadcast_with_ack(pio_ctx *ctx, void *state, const pio_select *sel,
                              const pio_value *packet, uint32_t timeout_ms, uint64_t request)
{
    (void)ctx;
    ra_adapter *a = state;
    ra_nsp *ns = asked_nsp(a, sel->nsp, sel->flags, request);
    if (!ns)
        return;
    ra_pending *p = pending_new(a, RA_BROADCAST, ns, request, timeout_ms);
    if (!p)
        return;
    target x;
    ra_buf data = RA_BUF_INIT, msg = RA_BUF_INIT;
    if (target_init(&x, sel, timeout_ms ? timeout_ms : a->cfg.requests_timeout) != 0 ||
        ra_value_msgpack(&data, packet) != 0 ||
        ra_pack_ack_request(&msg, ns->uid, p->id, ns->name, data.data, data.len, &x.t) != 0) {
        finish(a, p, PIO_ENOMEM);
    } else if (!ra_nsp_ready(a, ns)) {
        /* Held: published, then counted, once Redis counts this server.
         * Published now, the others' counts would come to an asker that
         * expects one server too few and completes before the last. */
        p->payload = msg.data;
        p->payload_len = msg.len;
        msg = (ra_buf)RA_BUF_INIT;
        hold(a, ns, p);
    } else {
        /* Published first, counted after: the answers may come before the
         * count, and are tallied until it does. */
        if (ra_publish(a, ns->ch.request, strlen(ns->ch.request), msg.data, msg.len) == 0)
            ask_count(a, ns, p);
        else
            finish(a, p, PIO_EUNREACHABLE);
    }
    target_free(&x);
    ra_buf_free(&data);
    ra_buf_free(&msg);
}

/* socketsJoin / socketsLeave / disconnectSockets: published, no answer. */
static void publish_operation(ra_adapter *a, const pio_select *sel, int type, const char *room,
                              int close)
{
    ra_nsp *ns = nsp_of(a, sel->nsp);
    if (!ns || (sel->flags & PIO_SELECT_LOCAL))
        return;
    if (!a->pub.up) {
        a->stats.dropped++;
        return;
    }
    target x;
    ra_buf body = RA_BUF_INIT;
    if (target_init(&x, sel, 0) == 0) {
        if (type == RA_REMOTE_DISCONNECT)
            ra_json_disconnect(&body, ns->uid, &x.t, close);
        else
            ra_json_sockets_room(&body, ns->uid, type, &x.t, room);
        target_free(&x);
    } else {
        body.failed = 1;
    }
    if (!body.failed)
        ra_publish(a, ns->ch.request, strlen(ns->ch.request), body.data, body.len);
    else
        a->stats.dropped++;
    ra_buf_free(&body);
}

void ra_op_sockets_join(pio_ctx *ctx, void *state, const pio_select *sel, const char *room)
{
    (void)ctx;
    publish_operation(state, sel, RA_REMOTE_JOIN, room, 0);
}

void ra_op_sockets_leave(pio_ctx *ctx, void *state, const pio_select *sel, const char *room)
{
    (void)ctx;
    publish_operation(state, sel, RA_REMOTE_LEAVE, room, 0);
}

void ra_op_disconnect_sockets(pio_ctx *ctx, void *state, const pio_select *sel, int close)
{
    (void)ctx;
    publish_operation(state, sel, RA_REMOTE_DISCONNECT, NULL, close);
}

void ra_op_fetch_sockets(pio_ctx *ctx, void *state, const pio_select *sel, uint32_t timeout_ms,
                         uint64_t request)
{
    (void)ctx;
    ra_adapter *a = state;
    ra_nsp *ns = asked_nsp(a, sel->nsp, sel->flags, request);
    if (!ns)
        return;
    ra_pending *p =
        pending_new(a, RA_REMOTE_FETCH, ns, request, requests_timeout(a, timeout_ms));
    if (!p)
        return;
    target x;
    ra_buf body = RA_BUF_INIT;
    if (target_init(&x, sel, 0) == 0) {
        ra_json_fetch(&body, ns->uid, p->id, &x.t);
        target_free(&x);
    } else {
        body.failed = 1;
    }
    ask(a, ns, p, &body);
}

void ra_op_all_rooms(pio_ctx *ctx, void *state, const char *nsp, uint32_t timeout_ms,
                     uint64_t request)
{
    (void)ctx;
    ra_adapter *a = state;
    ra_nsp *ns = asked_nsp(a, nsp, 0, request);
    if (!ns)
        return;
    ra_pending *p = pending_new(a, RA_ALL_ROOMS, ns, request, requests_timeout(a, timeout_ms));
    if (!p)
        return;
    ra_buf body = RA_BUF_INIT;
    ra_json_all_rooms(&body, ns->uid, p->id);
    ask(a, ns, p, &body);
}

void ra_op_server_emit(pio_ctx *ctx, void *state, const char *nsp, const pio_value *packet,
                       uint32_t timeout_ms, uint64_t request)
{
    (void)ctx;
    ra_adapter *a = state;
    ra_nsp *ns = nsp_of(a, nsp);
    ra_buf body = RA_BUF_INIT;
    if (!request) { /* nothing awaited: publish and forget */
        if (!ns)
            return;
        if (!a->pub.up) {
            a->stats.dropped++;
            return;
        }
        ra_json_server_emit_head(&body, ns->uid, NULL);
        if (ra_value_json(&body, packet) == 0)
            ra_buf_puts(&body, "}");
        else
            body.failed = 1;
        if (!body.failed)
            ra_publish(a, ns->ch.request, strlen(ns->ch.request), body.data, body.len);
        else
            a->stats.dropped++;
        ra_buf_free(&body);
        return;
    }
    if (!ns || !ra_online(a)) {
        pio_adapter_done(request, PIO_EUNREACHABLE);
        return;
    }
    ra_pending *p =
        pending_new(a, RA_SERVER_SIDE_EMIT, ns, request, requests_timeout(a, timeout_ms));
    if (!p)
        return;
    ra_json_server_emit_head(&body, ns->uid, p->id);
    if (ra_value_json(&body, packet) == 0)
        ra_buf_puts(&body, "}");
    else
        body.failed = 1;
    ask(a, ns, p, &body);
}
