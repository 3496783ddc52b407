/*
 * broadcast.c - emits and operations on selections of sockets (see
 * broadcast.h): socket.io's io.to(...).except(...).emit(), its acks from
 * many clients, strapi-plugin-io's raw(), and the server operations.
 *
 * A selection is resolved the way socket.io's in-memory adapter does it:
 * the union of the rooms asked for (or the whole namespace), minus every
 * socket in an excluded room and the excluded socket.  Marks instead of
 * sets: each pass takes two fresh numbers, one marking the excluded and
 * one the already chosen, so a socket in several rooms is chosen once.
 * The chosen sockets are collected (and referenced) before anything is
 * done to them, since what is done can change the rooms.
 *
 * A broadcast is encoded once per parser in use among its recipients (the
 * parser is a server option, so normally once); each recipient's queue
 * takes a reference to the same messages.
 */
#include "broadcast.h"

#include "adapter.h"
#include "base/args.h"
#include "base/array.h"
#include "base/log.h"
#include "base/out.h"
#include "engineio/eio_session.h"
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "rooms.h"
#include "sio_encode.h"
#include "sio_recovery.h"
#include "sio_socket.h"
#include "sio_stats.h"

#include <stdlib.h>
#include <string.h>

/* The local part of a broadcast with acks: this server's recipients. */
struct broadcast_ack {
    cluster_op *op;          /* what the answers go to */
    size_t waiting;          /* recipients yet to answer */
    bool someone_left;       /* a recipient disconnected before answering */
    pending_ack **entries;   /* one per recipient, NULL once settled */
    size_t n_entries;
    timer timeout;
};

static uint64_t last_mark;

/* The fields of sel the plugin's build knows; later ones read as zero. */
static bool read_select(const pio_select *sel, pio_select *out)
{
    memset(out, 0, sizeof *out);
    if (!sel)
        return true; /* no selection: every socket of "/" */
    if (sel->size < offsetof(pio_select, except_socket) + sizeof sel->except_socket)
        return false;
    memcpy(out, sel, sel->size < sizeof *out ? sel->size : sizeof *out);
    if ((out->n_rooms && !out->rooms) || (out->n_except && !out->except))
        return false;
    return true;
}

static void mark_room(sio_nsp *n, const char *name, uint64_t mark)
{
    sio_room *r = name ? room_get(n, name) : NULL;
    for (size_t i = 0; r && i < r->n; i++)
        r->members[i]->mark = mark;
    pio_socket *own = room_id_socket(n, name); /* the implicit id room */
    if (own)
        own->mark = mark;
}

static bool push(pio_socket ***list, size_t *n, size_t *cap, pio_socket *s)
{
    if (!ARRAY_RESERVE(*list, *n + 1, *cap, 16))
        return false;
    s->refs++;
    (*list)[(*n)++] = s;
    return true;
}

static bool choose(pio_socket *s, uint64_t excluded, uint64_t chosen)
{
    if (s->mark == excluded || s->mark == chosen)
        return false;
    s->mark = chosen;
    return true;
}

int broadcast_select(const pio_select *selection, pio_socket ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    pio_select sel;
    if (!read_select(selection, &sel))
        return PIO_EINVAL;
    sio_nsp *n = nsp_get(sel.nsp ? sel.nsp : "/", false);
    if (!n)
        return PIO_OK; /* no socket ever joined it */
    uint64_t excluded = ++last_mark, chosen = ++last_mark;
    for (size_t i = 0; i < sel.n_except; i++)
        mark_room(n, sel.except[i], excluded);
    if (sel.except_socket)
        ((pio_socket *)sel.except_socket)->mark = excluded;
    pio_socket **list = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    if (!sel.n_rooms) {
        for (size_t i = 0; ok && i < n->n_all; i++)
            if (choose(n->all[i], excluded, chosen))
                ok = push(&list, &len, &cap, n->all[i]);
    }
    for (size_t k = 0; ok && k < sel.n_rooms; k++) {
        sio_room *r = sel.rooms[k] ? room_get(n, sel.rooms[k]) : NULL;
        for (size_t i = 0; ok && r && i < r->n; i++)
            if (r->members[i]->client && choose(r->members[i], excluded, chosen))
                ok = push(&list, &len, &cap, r->members[i]);
        pio_socket *own = room_id_socket(n, sel.rooms[k]);
        if (ok && own && choose(own, excluded, chosen))
            ok = push(&list, &len, &cap, own);
    }
    if (!ok) {
        broadcast_release(list, len);
        return PIO_ENOMEM;
    }
    *out = list;
    *count = len;
    return PIO_OK;
}

void broadcast_release(pio_socket **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sio_socket_unref(list[i]);
    free(list);
}

/* socket.io's volatile: only to a transport that can take it right now. */
static bool can_take_now(const pio_socket *s) { return eio_session_can_take_now(s->session); }

static int emit_to(pio_socket **list, size_t n, bool volatile_, const char *nsp, int64_t id,
                   const char *event, const pio_out *out, size_t *sent)
{
    sio_encoded e;
    int rc = sio_encode(&e, SIO_EVENT, nsp, id, event, out);
    if (rc != PIO_OK)
        return rc;
    *sent = 0;
    for (size_t i = 0; i < n; i++) {
        if (!list[i]->client)
            continue;
        if (volatile_ && !can_take_now(list[i])) {
            sio_counters.volatile_dropped++;
            continue;
        }
        if (sio_encoded_send(&e, list[i]->client) == PIO_OK)
            (*sent)++;
    }
    sio_encoded_free(&e);
    return PIO_OK;
}

/* An emit to sel's sockets, counted in sio_stats when a plugin made it. */
static int emit_selected(const pio_select *sel, const char *event, pio_out *out, bool counted)
{
    pio_socket **list;
    size_t n, sent = 0;
    pio_select norm;
    int rc = !sio_event_name_ok(event) ? PIO_EINVAL
             : !read_select(sel, &norm) ? PIO_EINVAL
                                        : broadcast_select(sel, &list, &n);
    if (rc != PIO_OK) {
        out_free(out);
        return rc;
    }
    if (counted)
        sio_stats_emitted(event);
    if (!(norm.flags & PIO_SELECT_VOLATILE) && sio_recovery_on())
        rc = sio_recovery_emit(list, n, norm.nsp ? norm.nsp : "/", norm.rooms, norm.n_rooms,
                               norm.except, norm.n_except, sio_socket_id(norm.except_socket),
                               event, out, &sent);
    else
        rc = emit_to(list, n, norm.flags & PIO_SELECT_VOLATILE, norm.nsp ? norm.nsp : "/", -1,
                     event, out, &sent);
    if (rc == PIO_OK && counted)
        sio_counters.broadcast_deliveries += sent;
    /* Before the release: the recipients' references keep their namespace
     * (and the name sel may point at) alive while the adapter reads it. */
    if (rc == PIO_OK && adapter_installed())
        adapter_broadcast(&norm, event, out);
    broadcast_release(list, n);
    out_free(out);
    return rc == PIO_OK ? (int)sent : rc;
}

int broadcast_emit(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out)
{
    (void)ctx;
    return emit_selected(sel, event, out, true);
}

int broadcast_emit_host(const pio_select *sel, const char *event, pio_out *out)
{
    return emit_selected(sel, event, out, false);
}

/* ---- acks from many clients ------------------------------------------- */

static void finish(struct broadcast_ack *m, int status)
{
    timer_stop(&m->timeout);
    for (size_t i = 0; i < m->n_entries; i++) {
        pending_ack *a = m->entries[i];
        if (a) {
            sio_socket_unlink_ack(a->socket, a);
            free(a);
        }
    }
    free(m->entries);
    cluster_op *op = m->op;
    free(m);
    cluster_op_local_end(op, status);
}

static void broadcast_ack_overdue(timer *t)
{
    finish((struct broadcast_ack *)((char *)t - offsetof(struct broadcast_ack, timeout)),
           PIO_ETIMEDOUT);
}

/* One recipient answered (PIO_OK) or left (PIO_ECLOSED): a pending_ack's
 * settle. */
static void entry_settled(pending_ack *a, int status, json_object *reply)
{
    struct broadcast_ack *m = a->owner;
    for (size_t i = 0; i < m->n_entries; i++)
        if (m->entries[i] == a)
            m->entries[i] = NULL;
    sio_socket_unlink_ack(a->socket, a);
    free(a);
    if (status == PIO_OK) {
        /* socket.io collects each client's first ack argument. */
        cluster_op_add(m->op, json_object_get(json_object_array_get_idx(reply, 0)));
    } else {
        m->someone_left = true;
    }
    if (--m->waiting == 0)
        finish(m, m->someone_left ? PIO_ECLOSED : PIO_OK);
}

/* Send to this server's recipients, their answers going to op (which
 * this part ends, at once or when they have answered).  Returns the
 * number of sockets it went to, or a negative PIO_E* (op untouched). */
static int ack_local(cluster_op *op, const pio_select *sel, const char *event, const pio_out *out,
                     uint32_t timeout_ms)
{
    pio_socket **list = NULL;
    size_t n = 0;
    struct broadcast_ack *m = NULL;
    int rc = broadcast_select(sel, &list, &n);
    if (rc != PIO_OK)
        return rc;
    rc = PIO_ENOMEM;
    if (!(m = calloc(1, sizeof *m)) || (n && !(m->entries = calloc(n, sizeof *m->entries))))
        goto fail;
    int64_t id = sio_next_ack_id();
    size_t sent = 0;
    /* Register first: a recipient cannot answer before the loop turns. */
    for (size_t i = 0; i < n; i++) {
        if (!list[i]->client)
            continue;
        pending_ack *a = calloc(1, sizeof *a);
        if (!a)
            goto fail;
        a->id = id;
        a->settle = entry_settled;
        a->owner = m;
        sio_socket_add_ack(list[i], a);
        m->entries[m->n_entries++] = a;
    }
    sio_encoded e;
    if ((rc = sio_encode(&e, SIO_EVENT, sel && sel->nsp ? sel->nsp : "/", id, event, out)) != PIO_OK)
        goto fail;
    m->op = op;
    /* One more than the recipients while sending: a recipient closed by a
     * failed send settles at once, and must not finish (and free) m under
     * this loop. */
    m->waiting = m->n_entries + 1;
    for (size_t i = 0; i < m->n_entries; i++) {
        pending_ack *a = m->entries[i];
        if (a && a->socket->client && sio_encoded_send(&e, a->socket->client) == PIO_OK)
            sent++;
    }
    sio_encoded_free(&e);
    broadcast_release(list, n);
    sio_stats_emitted(event);
    sio_counters.broadcast_deliveries += sent;
    if (--m->waiting == 0)
        finish(m, m->someone_left ? PIO_ECLOSED : PIO_OK);
    else
        timer_start(&m->timeout, timeout_ms, broadcast_ack_overdue);
    return (int)sent;
fail:
    if (m) {
        for (size_t i = 0; i < m->n_entries; i++) {
            sio_socket_unlink_ack(m->entries[i]->socket, m->entries[i]);
            free(m->entries[i]);
        }
        free(m->entries);
        free(m);
    }
    broadcast_release(list, n);
    return rc;
}

/* sel's namespace copied, and sel pointed at the copy: what is done to
 * the local part can free a child namespace, name and all, before the
 * adapter is asked. */
static char *own_nsp(pio_select *sel)
{
    char *copy = strdup(sel->nsp ? sel->nsp : "/");
    sel->nsp = copy;
    return copy;
}

/* A broadcast with acks on every server: the answers as cb or each wants
 * them. */
static int ack_everywhere(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out,
                          uint32_t timeout_ms, pio_broadcast_ack_fn cb, pio_answer_fn each,
                          void *userdata)
{
    pio_select norm;
    cluster_op *op = NULL;
    char *nsp = NULL;
    int rc = PIO_EINVAL;
    if (ctx && (cb || each) && timeout_ms && sio_event_name_ok(event) && read_select(sel, &norm)) {
        rc = PIO_ENOMEM;
        if ((nsp = own_nsp(&norm)) &&
            (op = cluster_op_new(ctx, CLUSTER_ACKS, timeout_ms, cb, each, userdata)) &&
            (rc = ack_local(op, &norm, event, out, timeout_ms)) >= 0)
            cluster_op_ask(op, &norm, event, out);
        else if (op)
            cluster_op_drop(op);
    }
    free(nsp);
    out_free(out);
    return rc;
}

int broadcast_emit_with_ack(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out,
                            uint32_t timeout_ms, pio_broadcast_ack_fn cb, void *userdata)
{
    return ack_everywhere(ctx, sel, event, out, timeout_ms, cb, NULL, userdata);
}

int broadcast_ack_each(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out,
                       uint32_t timeout_ms, pio_answer_fn each, void *userdata)
{
    return ack_everywhere(ctx, sel, event, out, timeout_ms, NULL, each, userdata);
}

/* ---- raw ---------------------------------------------------------------- */

int broadcast_raw(pio_ctx *ctx, const char *event, const char *const *rooms, size_t n_rooms,
                  pio_out *data)
{
    if (!data || !out_is_complete(data) || data->count != 1) {
        out_free(data);
        return PIO_EINVAL;
    }
    /* {"data": <the value>}: the placeholders keep their numbers. */
    buf wrapped = BUF_INIT;
    buf_append_str(&wrapped, "{\"data\":");
    buf_append(&wrapped, data->text.data, data->text.len);
    buf_append_char(&wrapped, '}');
    if (wrapped.failed) {
        buf_free(&wrapped);
        out_free(data);
        return PIO_ENOMEM;
    }
    buf_free(&data->text);
    data->text = wrapped;
    pio_select sel = {.size = sizeof sel, .rooms = rooms, .n_rooms = n_rooms};
    return broadcast_emit(ctx, &sel, event, data);
}

/* ---- server operations ------------------------------------------------- */

/* The callbacks of broadcast_sockets and broadcast_rooms: plugin code
 * too, guarded as its own call (a fault there ends the walk). */
typedef struct visit_call {
    pio_ctx *ctx;
    pio_socket_fn socket_fn;
    pio_room_fn room_fn;
    pio_socket *socket;
    const char *room;
    size_t members;
    void *userdata;
    int stop;
} visit_call;

static void call_visit(void *arg)
{
    visit_call *v = arg;
    v->stop = v->socket_fn ? v->socket_fn(v->ctx, v->socket, v->userdata)
                           : v->room_fn(v->ctx, v->room, v->members, v->userdata);
}

static bool visit(visit_call *v)
{
    return guard_call(v->ctx, v->socket_fn ? "socket callback" : "room callback", NULL, call_visit,
                      v) == GUARD_RETURNED &&
           !v->stop;
}

int broadcast_sockets(pio_ctx *ctx, const pio_select *sel, pio_socket_fn fn, void *userdata)
{
    pio_socket **list;
    size_t n;
    int rc = fn ? broadcast_select(sel, &list, &n) : PIO_EINVAL;
    if (rc != PIO_OK)
        return rc;
    int visited = 0;
    for (size_t i = 0; i < n; i++) {
        if (!list[i]->client)
            continue;
        visited++;
        visit_call v = {.ctx = ctx, .socket_fn = fn, .socket = list[i], .userdata = userdata};
        if (!visit(&v))
            break;
    }
    broadcast_release(list, n);
    return visited;
}

int broadcast_rooms(pio_ctx *ctx, const char *nsp, pio_room_fn fn, void *userdata)
{
    sio_nsp *n = fn ? nsp_get(nsp ? nsp : "/", false) : NULL;
    if (!fn)
        return PIO_EINVAL;
    if (!n)
        return 0;
    /* Copy the names: the callback may make sockets join or leave. The
     * implicit id rooms are listed too (one member each), unless a room
     * of that name exists, which then counts its socket in. */
    size_t count = n->rooms.count + n->n_all, i = 0, k = 0;
    char **names = calloc(count ? count : 1, sizeof *names);
    size_t *sizes = calloc(count ? count : 1, sizeof *sizes);
    void *v;
    while (names && sizes && strmap_next(&n->rooms, &i, NULL, &v)) {
        sio_room *r = v;
        pio_socket *own = room_id_socket(n, r->name);
        if (!(names[k] = strdup(r->name)))
            break;
        sizes[k++] = r->n + (own && !room_has_real(own, r) ? 1 : 0);
    }
    for (size_t j = 0; names && sizes && j < n->n_all; j++) {
        if (room_get(n, n->all[j]->id))
            continue;
        if (!(names[k] = strdup(n->all[j]->id)))
            break;
        sizes[k++] = 1;
    }
    int visited = 0;
    for (size_t j = 0; j < k; j++) {
        visited++;
        visit_call vc = {.ctx = ctx, .room_fn = fn, .room = names[j], .members = sizes[j],
                         .userdata = userdata};
        if (!visit(&vc))
            break;
    }
    for (size_t j = 0; j < k; j++)
        free(names[j]);
    free(names);
    free(sizes);
    return (names && sizes) ? visited : PIO_ENOMEM;
}

/* socketsJoin, socketsLeave, disconnectSockets: here, then on the other
 * servers. */
static int apply(const pio_select *sel, adapter_op op, const char *room, int close)
{
    pio_select norm;
    if ((op != ADAPTER_DISCONNECT && !room) || !read_select(sel, &norm))
        return PIO_EINVAL;
    pio_socket **list;
    size_t n;
    int rc = broadcast_select(sel, &list, &n);
    if (rc != PIO_OK)
        return rc;
    int done = 0;
    for (size_t i = 0; i < n; i++) {
        pio_socket *s = list[i];
        if (!s->client)
            continue;
        if (op == ADAPTER_JOIN)
            rc = sio_socket_join(s, room);
        else if (op == ADAPTER_LEAVE)
            rc = sio_socket_leave(s, room);
        else
            rc = sio_socket_disconnect(s, close);
        done += rc == PIO_OK;
    }
    if (adapter_installed())
        adapter_select_op(&norm, op, room, close);
    broadcast_release(list, n);
    return done;
}

int broadcast_join(pio_ctx *ctx, const pio_select *sel, const char *room)
{
    (void)ctx;
    return apply(sel, ADAPTER_JOIN, room, 0);
}

int broadcast_leave(pio_ctx *ctx, const pio_select *sel, const char *room)
{
    (void)ctx;
    return apply(sel, ADAPTER_LEAVE, room, 0);
}

int broadcast_disconnect(pio_ctx *ctx, const pio_select *sel, int close)
{
    (void)ctx;
    return apply(sel, ADAPTER_DISCONNECT, NULL, close);
}

static void unref_lent_socket(void *s) { sio_socket_unref(s); }

pio_socket *broadcast_find(pio_ctx *ctx, const char *nsp, const char *id)
{
    (void)ctx;
    sio_nsp *n = id ? nsp_get(nsp ? nsp : "/", false) : NULL;
    pio_socket *s = n ? strmap_get(&n->by_id, id) : NULL;
    /* Borrowed for the current call: even if it disconnects meanwhile. */
    if (s && ctx_running()) {
        s->refs++;
        ctx_lend(s, unref_lent_socket);
    }
    return s;
}

/* ---- server operations across servers ----------------------------------- */

int broadcast_fetch(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                    pio_broadcast_ack_fn cb, void *userdata)
{
    pio_select norm;
    if (!ctx || !cb || !timeout_ms || !read_select(sel, &norm))
        return PIO_EINVAL;
    char *nsp = own_nsp(&norm);
    pio_socket **list;
    size_t n;
    int rc = nsp ? broadcast_select(&norm, &list, &n) : PIO_ENOMEM;
    if (rc != PIO_OK) {
        free(nsp);
        return rc;
    }
    cluster_op *op = cluster_op_new(ctx, CLUSTER_SOCKETS, timeout_ms, cb, NULL, userdata);
    if (!op) {
        broadcast_release(list, n);
        free(nsp);
        return PIO_ENOMEM;
    }
    int here = 0, status = PIO_OK;
    for (size_t i = 0; i < n; i++) {
        if (!list[i]->client)
            continue;
        json_object *d = sio_socket_describe(list[i]);
        if (!d) {
            status = PIO_ENOMEM;
            continue;
        }
        cluster_op_add(op, d);
        here++;
    }
    broadcast_release(list, n);
    cluster_op_local_end(op, status);
    cluster_op_ask(op, &norm, NULL, NULL);
    free(nsp);
    return here;
}

static int add_room(pio_ctx *ctx, const char *room, size_t members, void *op)
{
    (void)ctx;
    (void)members;
    json_object *name = json_object_new_string(room);
    if (name)
        cluster_op_add(op, name);
    return 0;
}

int broadcast_all_rooms(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                        pio_broadcast_ack_fn cb, void *userdata)
{
    pio_select norm;
    if (!ctx || !cb || !timeout_ms || !read_select(sel, &norm))
        return PIO_EINVAL;
    cluster_op *op = cluster_op_new(ctx, CLUSTER_ROOMS, timeout_ms, cb, NULL, userdata);
    if (!op)
        return PIO_ENOMEM;
    int here = broadcast_rooms(ctx, norm.nsp, add_room, op);
    cluster_op_local_end(op, here < 0 ? here : PIO_OK);
    cluster_op_ask(op, &norm, NULL, NULL);
    return here < 0 ? 0 : here; /* cb has run or will: no error return */
}

int broadcast_server_emit(pio_ctx *ctx, const char *nsp, const char *event, pio_out *out,
                          uint32_t timeout_ms, pio_broadcast_ack_fn cb, void *userdata)
{
    int rc = PIO_EINVAL;
    if (!ctx || (cb && !timeout_ms) || !sio_event_name_ok(event) || (out && !out_is_complete(out)))
        goto done;
    pio_select sel = {.size = sizeof sel, .nsp = nsp ? nsp : "/"};
    if (!cb) {
        /* Nobody to tell is no error: socket.io emits to no one too. */
        if (adapter_installed())
            adapter_server_emit(sel.nsp, event, out);
        rc = PIO_OK;
        goto done;
    }
    cluster_op *op = cluster_op_new(ctx, CLUSTER_REPLIES, timeout_ms, cb, NULL, userdata);
    rc = PIO_ENOMEM;
    if (op) {
        cluster_op_local_end(op, PIO_OK); /* not to this server */
        cluster_op_ask(op, &sel, event, out);
        rc = PIO_OK;
    }
done:
    out_free(out);
    return rc;
}
