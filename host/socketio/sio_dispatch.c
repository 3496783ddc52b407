/*
 * sio_dispatch.c - from the Socket.IO layer into plugins (see
 * sio_dispatch.h): the binding in force, the pattern a child namespace
 * takes its handlers from, and the call of an event's handler.
 */
#include "sio_dispatch.h"

#include "base/log.h"
#include "base/out.h"
#include "plugin/ctx.h"
#include "rooms.h"

static binding *current;

void sio_set_binding(binding *b) { current = b; }
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

void sio_dispatch(pio_socket *s, const char *event, pio_args *args)
{
    const bound_event *ev = current ? binding_find(current, s->ns->name, event) : NULL;
    if (!ev && current)
        ev = binding_find_child(sio_parent_of(s->ns), event);
    if (!ev)
        return;
    pio_ctx *previous = ctx_enter(ev->ctx);
    int rc = ev->fn(ev->ctx, s, args);
    ctx_leave(previous);
    if (rc != PIO_OK)
        log_msg(PIO_LOG_WARN, ev->ctx->name, "handler %s for '%s' returned %d (%s)",
                ev->cfg->handler.symbol, event, rc, host_api.strerror(rc));
}


/* ---- events from other servers (serverSideEmit) -------------------------- */

typedef struct server_ack {
    pio_ctx *ctx;           /* the adapter's version */
    pio_answer_fn reply;
    void *userdata;
    bool answered;
} server_ack;

static void tell(server_ack *sa, int status, const pio_value *answer)
{
    sa->answered = true;
    pio_ctx *previous = ctx_enter(sa->ctx);
    sa->reply(sa->ctx, status, answer, sa->userdata);
    ctx_leave(previous);
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
    pio_ctx *previous = ctx_enter(ev->ctx);
    int rc = ev->fn(ev->ctx, NULL, &args);
    ctx_leave(previous);
    if (rc != PIO_OK)
        log_msg(PIO_LOG_WARN, ev->ctx->name, "server event handler %s for '%s' returned %d (%s)",
                ev->cfg->handler.symbol, event, rc, host_api.strerror(rc));
    if (reply && !sa.answered)
        tell(&sa, PIO_ESTATE, NULL);
    return PIO_OK;
}
