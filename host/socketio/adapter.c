/*
 * adapter.c - installed adapters and operations across servers (see
 * adapter.h).
 *
 * Adapters are few (normally one, for every namespace), so they sit in a
 * small array searched in order: an adapter for the namespace itself
 * wins over the one for every namespace.  Each remembers the namespaces
 * it was told exist, so a namespace is announced to it once, whichever
 * way it came to exist (the configuration, a reload, a client creating a
 * child), and a freed child is taken back only from an adapter that knew
 * it.
 *
 * A cluster operation waits with a handle in the table of things that
 * wait (sio_later.h): the adapter answers through the handle, never a
 * pointer, so an answer after the operation ended (its time ran out)
 * finds nothing.  The operation is referenced by its table entry and by
 * its local part; whichever ends last frees it.
 */
#include "adapter.h"

#include "base/array.h"
#include "base/log.h"
#include "base/strmap.h"
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "plugin/services.h"
#include "rooms.h"
#include "sio_dispatch.h"
#include "sio_later.h"
#include "sio_socket.h"

#include <stdlib.h>
#include <string.h>

typedef struct installed {
    char *nsp;               /* owned; NULL: every namespace without its own */
    pio_ctx *ctx;            /* a reference */
    pio_adapter_ops ops;     /* the plugin's table, zero past its size */
    void *state;
    strmap told;             /* namespaces announced to it (values unused) */
} installed;

static installed **adapters;
static size_t cap_adapters;
size_t adapter_n_installed;

/* ---- finding and telling -------------------------------------------------- */

static installed *adapter_for(const char *nsp)
{
    installed *any = NULL;
    for (size_t i = 0; i < adapter_n_installed; i++) {
        installed *a = adapters[i];
        if (!a->nsp)
            any = a;
        else if (strcmp(a->nsp, nsp) == 0)
            return a;
    }
    return any;
}

/* Every call into the adapter's version, through the fault guard: the
 * entry and its arguments (each entry reads its own). */
typedef enum adapter_entry {
    A_NAMESPACE_CREATED, A_NAMESPACE_DELETED, A_BROADCAST, A_BROADCAST_WITH_ACK, A_SOCKETS_JOIN,
    A_SOCKETS_LEAVE, A_DISCONNECT_SOCKETS, A_FETCH_SOCKETS, A_ALL_ROOMS, A_SERVER_EMIT,
} adapter_entry;

static const char *const entry_names[] = {
    "namespace_created", "namespace_deleted", "broadcast", "broadcast_with_ack", "sockets_join",
    "sockets_leave", "disconnect_sockets", "fetch_sockets", "all_rooms", "server_emit",
};

typedef struct adapter_call {
    installed *a;
    adapter_entry entry;
    const char *nsp;
    const pio_select *sel;
    const pio_value *packet;
    const char *room;
    int close;
    uint32_t timeout_ms;
    uint64_t request;
} adapter_call;

static void run_entry(void *arg)
{
    const adapter_call *c = arg;
    const pio_adapter_ops *o = &c->a->ops;
    pio_ctx *ctx = c->a->ctx;
    void *st = c->a->state;
    switch (c->entry) {
    case A_NAMESPACE_CREATED: o->namespace_created(ctx, st, c->nsp); break;
    case A_NAMESPACE_DELETED: o->namespace_deleted(ctx, st, c->nsp); break;
    case A_BROADCAST: o->broadcast(ctx, st, c->sel, c->packet); break;
    case A_BROADCAST_WITH_ACK:
        o->broadcast_with_ack(ctx, st, c->sel, c->packet, c->timeout_ms, c->request);
        break;
    case A_SOCKETS_JOIN: o->sockets_join(ctx, st, c->sel, c->room); break;
    case A_SOCKETS_LEAVE: o->sockets_leave(ctx, st, c->sel, c->room); break;
    case A_DISCONNECT_SOCKETS: o->disconnect_sockets(ctx, st, c->sel, c->close); break;
    case A_FETCH_SOCKETS: o->fetch_sockets(ctx, st, c->sel, c->timeout_ms, c->request); break;
    case A_ALL_ROOMS: o->all_rooms(ctx, st, c->nsp, c->timeout_ms, c->request); break;
    case A_SERVER_EMIT:
        o->server_emit(ctx, st, c->nsp, c->packet, c->timeout_ms, c->request);
        break;
    }
}

/* False when the adapter did not run to its end: it faulted, or its
 * version is refused (guard.h). */
static bool call_entry(adapter_call c)
{
    return guard_call(c.a->ctx, "adapter", entry_names[c.entry], run_entry, &c) == GUARD_RETURNED;
}

static void announce(const char *nsp)
{
    installed *a = adapter_for(nsp);
    if (!a || strmap_get(&a->told, nsp))
        return;
    char *key = strdup(nsp);
    if (!key || !strmap_put(&a->told, key, key)) {
        free(key);
        log_error("adapter of plugin '%s': out of memory announcing namespace %s", a->ctx->name, nsp);
        return;
    }
    if (a->ops.namespace_created)
        call_entry((adapter_call){a, A_NAMESPACE_CREATED, .nsp = nsp});
}

static void take_back(const char *nsp)
{
    installed *a = adapter_for(nsp);
    char *key = a ? strmap_del(&a->told, nsp) : NULL;
    if (!key)
        return;
    free(key);
    if (a->ops.namespace_deleted)
        call_entry((adapter_call){a, A_NAMESPACE_DELETED, .nsp = nsp});
}

/* Every namespace there is: the configuration's, and the live ones. */
static void announce_all(void)
{
    const binding *b = sio_binding();
    for (size_t i = 0; b && i < b->n_namespaces; i++)
        announce(b->namespaces[i]);
    announce("/");
    size_t i = 0;
    for (sio_nsp *n; (n = nsp_next(&i));)
        announce(n->name);
}

void adapter_binding_changed(void)
{
    if (adapter_installed())
        announce_all();
}

static void child_changed(const char *name, bool created)
{
    if (!adapter_installed())
        return;
    if (created)
        announce(name);
    else
        take_back(name);
}

/* ---- installing --------------------------------------------------------------- */

static void installed_free(installed *a)
{
    size_t i = 0;
    void *key;
    while (strmap_next(&a->told, &i, NULL, &key))
        free(key);
    strmap_free(&a->told);
    ctx_unref(a->ctx);
    free(a->nsp);
    free(a);
}

static void remove_at(size_t i)
{
    installed *a = adapters[i];
    memmove(&adapters[i], &adapters[i + 1], (adapter_n_installed - i - 1) * sizeof *adapters);
    adapter_n_installed--;
    installed_free(a);
}

static bool same_nsp(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int adapter_install(pio_ctx *ctx, const char *nsp, const pio_adapter_ops *ops, void *state)
{
    if (!ctx || (ops && ops->size < offsetof(pio_adapter_ops, namespace_created) +
                                        sizeof ops->namespace_created) ||
        (nsp && nsp[0] != '/'))
        return PIO_EINVAL;
    if (ctx->retired)
        return PIO_ESTATE;
    size_t at = adapter_n_installed;
    for (size_t i = 0; i < adapter_n_installed; i++) {
        if (!same_nsp(adapters[i]->nsp, nsp))
            continue;
        /* Another version of the same plugin takes over; another plugin
         * does not. */
        if (strcmp(adapters[i]->ctx->name, ctx->name) != 0)
            return PIO_ESTATE;
        at = i;
    }
    if (!ops) {
        if (at < adapter_n_installed)
            remove_at(at);
        return PIO_OK;
    }
    installed *a = calloc(1, sizeof *a);
    if (!a || (nsp && !(a->nsp = strdup(nsp)))) {
        free(a);
        return PIO_ENOMEM;
    }
    memcpy(&a->ops, ops, ops->size < sizeof a->ops ? ops->size : sizeof a->ops);
    a->ops.size = sizeof a->ops;
    a->ctx = ctx_ref(ctx);
    a->state = state;
    if (at < adapter_n_installed) {
        installed_free(adapters[at]);
        adapters[at] = a;
    } else {
        if (!ARRAY_RESERVE(adapters, adapter_n_installed + 1, cap_adapters, 2)) {
            installed_free(a);
            return PIO_ENOMEM;
        }
        adapters[adapter_n_installed++] = a;
    }
    announce_all();
    return PIO_OK;
}

/* A version is unloaded: its adapters go with it. */
static void version_released(pio_ctx *ctx)
{
    for (size_t i = adapter_n_installed; i-- > 0;)
        if (adapters[i]->ctx == ctx)
            remove_at(i);
}

void adapter_init(void)
{
    nsp_on_child(child_changed);
    services_on_release(version_released);
}

void adapter_shutdown(void)
{
    nsp_on_child(NULL);
    services_on_release(NULL);
    while (adapter_n_installed)
        remove_at(adapter_n_installed - 1);
    free(adapters);
    adapters = NULL;
    cap_adapters = 0;
}

/* ---- telling what was done ----------------------------------------------------- */

/* sel as an adapter sees it: a namespace always, the excluded socket as
 * its id among the excluded rooms.  *except_buf is the caller's to free. */
static bool for_adapter(const pio_select *sel, pio_select *out, const char ***except_buf)
{
    *out = *sel;
    *except_buf = NULL;
    out->size = sizeof *out;
    if (!out->nsp)
        out->nsp = "/";
    if (!sel->except_socket)
        return true;
    const char **except = malloc((sel->n_except + 1) * sizeof *except);
    if (!except)
        return false;
    for (size_t i = 0; i < sel->n_except; i++)
        except[i] = sel->except[i];
    except[sel->n_except] = sio_socket_id(sel->except_socket);
    out->except = except;
    out->n_except = sel->n_except + 1;
    out->except_socket = NULL;
    *except_buf = except;
    return true;
}

void adapter_broadcast(const pio_select *sel, const char *event, const pio_out *out)
{
    if (sel->flags & PIO_SELECT_LOCAL)
        return;
    installed *a = adapter_for(sel->nsp ? sel->nsp : "/");
    if (!a || !a->ops.broadcast)
        return;
    pio_select norm;
    const char **except = NULL;
    json_object *packet = out_tree(out, event);
    if (packet && for_adapter(sel, &norm, &except))
        call_entry((adapter_call){a, A_BROADCAST, .sel = &norm, .packet = value_wrap(packet)});
    else
        log_error("adapter of plugin '%s': out of memory, a broadcast stays on this server",
                  a->ctx->name);
    free(except);
    json_object_put(packet);
}

void adapter_select_op(const pio_select *sel, adapter_op op, const char *room, int close)
{
    if (sel->flags & PIO_SELECT_LOCAL)
        return;
    installed *a = adapter_for(sel->nsp ? sel->nsp : "/");
    if (!a)
        return;
    pio_select norm;
    const char **except;
    if (!for_adapter(sel, &norm, &except)) {
        log_error("adapter of plugin '%s': out of memory, an operation stays on this server",
                  a->ctx->name);
        return;
    }
    if (op == ADAPTER_JOIN && a->ops.sockets_join)
        call_entry((adapter_call){a, A_SOCKETS_JOIN, .sel = &norm, .room = room});
    else if (op == ADAPTER_LEAVE && a->ops.sockets_leave)
        call_entry((adapter_call){a, A_SOCKETS_LEAVE, .sel = &norm, .room = room});
    else if (op == ADAPTER_DISCONNECT && a->ops.disconnect_sockets)
        call_entry((adapter_call){a, A_DISCONNECT_SOCKETS, .sel = &norm, .close = close});
    free(except);
}

void adapter_server_emit(const char *nsp, const char *event, const pio_out *out)
{
    installed *a = adapter_for(nsp);
    if (!a || !a->ops.server_emit)
        return; /* no other server to tell: socket.io emits to no one too */
    json_object *packet = out_tree(out, event);
    if (packet)
        call_entry((adapter_call){a, A_SERVER_EMIT, .nsp = nsp, .packet = value_wrap(packet)});
    else
        log_error("adapter of plugin '%s': out of memory, a server event is not sent",
                  a->ctx->name);
    json_object_put(packet);
}

/* ---- operations across servers -------------------------------------------------- */

struct cluster_op {
    later l;                  /* the handle the adapter answers */
    unsigned refs;            /* the table entry's, the local part's */
    cluster_kind kind;
    uint32_t timeout_ms;
    pio_ctx *ctx;             /* a reference: the caller's version */
    pio_broadcast_ack_fn cb;
    pio_answer_fn each;
    void *userdata;
    json_object *answers;     /* array (not kept when `each` has them) */
    strmap seen;              /* CLUSTER_ROOMS: names given already */
    uint32_t expected, got;   /* CLUSTER_ACKS: remote client answers */
    int status;               /* the first trouble, or PIO_OK */
    bool local_over, remote_over, finished;
};

static void op_unref(cluster_op *op)
{
    if (--op->refs)
        return;
    json_object_put(op->answers);
    size_t i = 0;
    void *v;
    while (strmap_next(&op->seen, &i, NULL, &v))
        free(v);
    strmap_free(&op->seen);
    ctx_unref(op->ctx);
    free(op);
}

static void note_status(cluster_op *op, int status)
{
    if (status == PIO_ETIMEDOUT || (status != PIO_OK && op->status == PIO_OK))
        op->status = status;
}

static void call_done(void *arg)
{
    cluster_op *op = arg;
    if (op->each) {
        op->each(op->ctx, op->status, NULL, op->userdata);
    } else {
        pio_args args = {.list = op->answers, .first = 0};
        op->cb(op->ctx, op->status, &args, op->userdata);
    }
}

typedef struct answer_call {
    cluster_op *op;
    json_object *answer;
} answer_call;

static void call_each(void *arg)
{
    answer_call *c = arg;
    c->op->each(c->op->ctx, PIO_OK, value_wrap(c->answer), c->op->userdata);
}

/* Call the plugin, once. */
static void finish(cluster_op *op, int status)
{
    if (op->finished)
        return;
    op->finished = true;
    note_status(op, status);
    guard_call(op->ctx, op->each ? "answer callback" : "broadcast ack callback", NULL, call_done, op);
}

/* The table entry ends: answered in full, or out of time. */
static void op_ended(later *l, int status, void *arg)
{
    (void)arg;
    cluster_op *op = (cluster_op *)((char *)l - offsetof(cluster_op, l));
    finish(op, status);
    op_unref(op);
}

static void maybe_complete(cluster_op *op)
{
    if (op->finished || !op->local_over || !op->remote_over ||
        (op->kind == CLUSTER_ACKS && op->got < op->expected))
        return;
    later_finish(&op->l, op->status, NULL);
}

cluster_op *cluster_op_new(pio_ctx *ctx, cluster_kind kind, uint32_t timeout_ms,
                           pio_broadcast_ack_fn cb, pio_answer_fn each, void *userdata)
{
    cluster_op *op = calloc(1, sizeof *op);
    if (!op || (!each && !(op->answers = json_object_new_array()))) {
        free(op);
        return NULL;
    }
    op->kind = kind;
    op->timeout_ms = timeout_ms;
    op->cb = cb;
    op->each = each;
    op->userdata = userdata;
    op->ctx = ctx_ref(ctx);
    op->refs = 2;
    /* The group is the operation itself: nothing else ends it early. */
    if (!later_add(&op->l, op, op_ended, timeout_ms)) {
        ctx_unref(op->ctx);
        json_object_put(op->answers);
        free(op);
        return NULL;
    }
    return op;
}

/* One answer, from either part (taken over). */
void cluster_op_add(cluster_op *op, json_object *answer)
{
    if (op->finished) {
        json_object_put(answer);
        return;
    }
    if (op->kind == CLUSTER_ROOMS) {
        const char *name = json_object_get_string(answer);
        char *key = name ? strdup(name) : NULL;
        if (!key || strmap_get(&op->seen, key) || !strmap_put(&op->seen, key, key)) {
            free(key);
            json_object_put(answer);
            return;
        }
    }
    if (op->each) {
        answer_call c = {op, answer};
        guard_call(op->ctx, "answer callback", NULL, call_each, &c);
        json_object_put(answer);
    } else if (json_object_array_add(op->answers, answer) != 0) {
        json_object_put(answer);
        note_status(op, PIO_ENOMEM);
    }
}

void cluster_op_drop(cluster_op *op)
{
    op->finished = true; /* no call */
    later_finish(&op->l, PIO_ECLOSED, NULL);
    op_unref(op);
}

void cluster_op_local_end(cluster_op *op, int status)
{
    note_status(op, status);
    op->local_over = true;
    /* The table entry may finish op here; this part's reference keeps it
     * readable until released below. */
    maybe_complete(op);
    op_unref(op);
}

void cluster_op_ask(cluster_op *op, const pio_select *sel, const char *event, const pio_out *out)
{
    const char *nsp = sel && sel->nsp ? sel->nsp : "/";
    installed *a = sel && (sel->flags & PIO_SELECT_LOCAL) ? NULL : adapter_for(nsp);
    uint64_t request = op->l.handle;
    bool asked = false, returned = true;
    if (a) {
        pio_select norm;
        const char **except = NULL;
        json_object *packet = NULL;
        bool ok = for_adapter(sel, &norm, &except);
        if (ok && (op->kind == CLUSTER_ACKS || op->kind == CLUSTER_REPLIES))
            ok = (packet = out_tree(out, event)) != NULL;
        /* The table keeps op while the adapter runs, even if it answers
         * (and completes op) during the call. */
        op->refs++;
        if (!ok)
            note_status(op, PIO_ENOMEM);
        else if (op->kind == CLUSTER_ACKS && (asked = a->ops.broadcast_with_ack))
            returned = call_entry((adapter_call){a, A_BROADCAST_WITH_ACK, .sel = &norm, .packet = value_wrap(packet),
                                      .timeout_ms = op->timeout_ms, .request = request});
        else if (op->kind == CLUSTER_SOCKETS && (asked = a->ops.fetch_sockets))
            returned = call_entry((adapter_call){a, A_FETCH_SOCKETS, .sel = &norm, .timeout_ms = op->timeout_ms,
                                      .request = request});
        else if (op->kind == CLUSTER_ROOMS && (asked = a->ops.all_rooms))
            returned = call_entry((adapter_call){a, A_ALL_ROOMS, .nsp = nsp, .timeout_ms = op->timeout_ms,
                                      .request = request});
        else if (op->kind == CLUSTER_REPLIES && (asked = a->ops.server_emit))
            returned = call_entry((adapter_call){a, A_SERVER_EMIT, .nsp = nsp, .packet = value_wrap(packet),
                                      .timeout_ms = op->timeout_ms, .request = request});
        json_object_put(packet);
        free(except);
        if (asked && !returned) {
            /* The adapter faulted (or is refused): the other servers were
             * never asked, and nothing of it will answer. */
            note_status(op, PIO_EUNREACHABLE);
            op->remote_over = true;
            maybe_complete(op);
            op_unref(op);
            return;
        }
        if (asked) {
            op_unref(op);
            return;
        }
        op->refs--; /* not the last: the table's is still held */
    }
    op->remote_over = true;
    maybe_complete(op);
}

/* ---- what the adapter answers ---------------------------------------------------- */

static cluster_op *op_of(uint64_t request)
{
    later *l = later_find(request, op_ended);
    return l ? (cluster_op *)((char *)l - offsetof(cluster_op, l)) : NULL;
}

int adapter_answer(uint64_t request, pio_out *answers)
{
    cluster_op *op = op_of(request);
    int rc = PIO_OK;
    if (!op)
        rc = PIO_ECLOSED;
    else if (answers && !out_is_complete(answers))
        rc = PIO_EINVAL;
    json_object *list = rc == PIO_OK && answers ? out_tree(answers, NULL) : NULL;
    if (rc == PIO_OK && answers && !list)
        rc = PIO_ENOMEM;
    out_free(answers);
    if (rc != PIO_OK)
        return rc;
    size_t n = list ? json_object_array_length(list) : 0;
    op->refs++;
    for (size_t i = 0; i < n; i++) {
        cluster_op_add(op, json_object_get(json_object_array_get_idx(list, i)));
        if (op->kind == CLUSTER_ACKS)
            op->got++;
    }
    json_object_put(list);
    maybe_complete(op);
    op_unref(op);
    return PIO_OK;
}

int adapter_expect(uint64_t request, uint32_t clients)
{
    cluster_op *op = op_of(request);
    if (!op)
        return PIO_ECLOSED;
    if (op->kind != CLUSTER_ACKS)
        return PIO_ESTATE;
    op->expected += clients;
    return PIO_OK;
}

int adapter_done(uint64_t request, int status)
{
    cluster_op *op = op_of(request);
    if (!op)
        return PIO_ECLOSED;
    if (op->remote_over)
        return PIO_ESTATE;
    note_status(op, status);
    op->remote_over = true;
    maybe_complete(op);
    return PIO_OK;
}
