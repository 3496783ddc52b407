/*
 * sio_dispatch.c - from the Socket.IO layer into plugins (see
 * sio_dispatch.h): the binding in force, the pattern a child namespace
 * takes its handlers from, and the call of an event's handler.
 */
#include "sio_dispatch.h"

#include "base/log.h"
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

