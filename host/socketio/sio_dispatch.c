/*
 * sio_dispatch.c - from the Socket.IO layer into plugins (see
 * sio_dispatch.h): the binding in force, the pattern a child namespace
 * takes its handlers from, and the call of an event's handler.
 */
#include "sio_dispatch.h"

#include "base/log.h"
#include "base/out.h"
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "rooms.h"
#include "sio_stats.h"

static binding *current;

void sio_set_binding(binding *b)
{
    current = b;
    sio_stats_bind(b);
}
binding *sio_binding(void) { return current; }

/* The pattern whose events and middleware ns has: NULL for a namespace
 * the configuration names, else the first that matches in the current
 * binding (cached per binding generation). */
const bound_pattern *sio_parent_of(sio_nsp *ns)
{
    if (!current)
        return NULL;
    if (ns->parent_gen != current->gen) {
        ns->parent = binding_has_namespace(current, ns->name) ? NULL : binding_match(current, ns->name);
        ns->parent_gen = current->gen;
    }
    return ns->parent;
}

/* A handler's call, through the fault guard. */
typedef struct handler_call {
    const bound_event *ev;
    pio_socket *s;
    pio_args *args;
    int rc;
} handler_call;

static void call_handler(void *arg)
{
    handler_call *c = arg;
    c->rc = c->ev->fn(c->ev->ctx, c->s, c->args);
}

static guard_result call_guarded(const bound_event *ev, pio_socket *s, pio_args *args, int *rc)
{
    handler_call c = {ev, s, args, PIO_OK};
    sio_stats_plugin *timed = sio_stats_event_plugin(ev);
    uint64_t t0 = timed ? clock_ns() : 0;
    log_scope outer = log_scope_enter(s ? s->ns->name : NULL, s ? s->id : NULL, ev->cfg->name);
    guard_result g = guard_call(ev->ctx, "handler", ev->cfg->handler.symbol, call_handler, &c);
    log_scope_leave(outer);
    if (timed && g != GUARD_REFUSED)
        histogram_observe(&timed->handler, clock_ns() - t0);
    *rc = c.rc;
    return g;
}

void sio_refuse_ack(pio_args *args, const char *why)
{
    if (!args->wants_ack || !args->send_ack)
        return;
    pio_out *out = out_new(NULL);
    if (!out)
        return;
    out_object_begin(out);
    out_key(out, "error", 5);
    out_string(out, why, strlen(why));
    out_object_end(out);
    args->wants_ack = false;
    args->send_ack(args, out);
}

bool sio_dispatch(pio_socket *s, const char *event, pio_args *args)
{
    const bound_event *ev = current ? binding_find(current, s->ns->name, event) : NULL;
    if (!ev && current)
        ev = binding_find_child(sio_parent_of(s->ns), event);
    sio_stats_received(ev, event);
    if (!ev)
        return false;
    int rc;
    switch (call_guarded(ev, s, args, &rc)) {
    case GUARD_RETURNED:
        if (rc != PIO_OK)
            log_msg(PIO_LOG_WARN, ev->ctx->name, "handler %s for '%s' returned %d (%s)",
                    ev->cfg->handler.symbol, event, rc, host_api.strerror(rc));
        return false;
    case GUARD_FAULTED:
        return true;
    case GUARD_REFUSED:
        break;
    }
    char why[256];
    sio_refuse_ack(args, sio_unavailable(ev->ctx, why, sizeof why));
    return false;
}

const char *sio_unavailable(const pio_ctx *ctx, char *why, size_t len)
{
    snprintf(why, len, "plugin '%s' is unavailable: it faulted", ctx ? ctx->name : "?");
    return why;
}


/* ---- events from other servers (serverSideEmit) -------------------------- */

typedef struct server_ack {
    pio_ctx *ctx;           /* the adapter's version */
    pio_answer_fn reply;
    void *userdata;
    bool answered;
} server_ack;

typedef struct reply_call {
    server_ack *sa;
    int status;
    const pio_value *answer;
} reply_call;

static void call_reply(void *arg)
{
    reply_call *c = arg;
    c->sa->reply(c->sa->ctx, c->status, c->answer, c->sa->userdata);
}

static void tell(server_ack *sa, int status, const pio_value *answer)
{
    sa->answered = true;
    reply_call c = {sa, status, answer};
    guard_call(sa->ctx, "server event reply", NULL, call_reply, &c);
}

/* The handler acknowledged: its first argument is the server's reply. */
static int server_send_ack(pio_args *args, pio_out *out)
{
    server_ack *sa = args->owner;
    json_object *list = out && !out_is_complete(out) ? NULL : out_tree(out, NULL);
    int rc = list ? PIO_OK : out && !out_is_complete(out) ? PIO_EINVAL : PIO_ENOMEM;
    out_free(out);
    if (rc == PIO_OK)
        tell(sa, PIO_OK, value_wrap(json_object_array_get_idx(list, 0)));
    json_object_put(list);
    return rc;
}

int sio_server_event(pio_ctx *ctx, const char *nsp, const pio_value *packet, pio_answer_fn reply,
                     void *userdata)
{
    json_object *list = packet ? value_unwrap(packet) : NULL;
    json_object *name = json_object_array_get_idx(list, 0);
    if (!ctx || !json_object_is_type(list, json_type_array) || !json_object_is_type(name, json_type_string))
        return PIO_EINVAL;
    const char *event = json_object_get_string(name);
    const bound_event *ev = current ? binding_find_server(current, nsp ? nsp : "/", event) : NULL;
    if (!ev)
        return PIO_EINVAL;
    server_ack sa = {ctx, reply, userdata, false};
    pio_args args = {.list = list, .first = 1, .wants_ack = reply != NULL,
                     .send_ack = server_send_ack, .owner = &sa};
    int rc;
    if (call_guarded(ev, NULL, &args, &rc) == GUARD_RETURNED && rc != PIO_OK)
        log_msg(PIO_LOG_WARN, ev->ctx->name, "server event handler %s for '%s' returned %d (%s)",
                ev->cfg->handler.symbol, event, rc, host_api.strerror(rc));
    if (reply && !sa.answered)
        tell(&sa, PIO_ESTATE, NULL);
    return PIO_OK;
}
