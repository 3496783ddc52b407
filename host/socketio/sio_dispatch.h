/*
 * sio_dispatch.h - from the Socket.IO layer into plugins: the binding in
 * force (set at start and by each reload), and calling the handler bound
 * to an event.
 */
#ifndef PIO_SIO_DISPATCH_H
#define PIO_SIO_DISPATCH_H

#include "base/args.h"
#include "plugin/binding.h"
#include "sio_types.h"

struct sio_nsp;

/* The binding events are dispatched through (set at start and reload). */
void sio_set_binding(binding *b);
binding *sio_binding(void);
/* The pattern whose events and middleware a namespace has: NULL for a
 * namespace the configuration names, else the first that matches in the
 * current binding (cached per binding generation). */
const bound_pattern *sio_parent_of(struct sio_nsp *ns);
/* Answer an event the client wanted acknowledged, without its handler:
 * one argument, {"error": why}. */
void sio_refuse_ack(pio_args *args, const char *why);
/* What a client is told of a plugin version that faulted (into why). */
const char *sio_unavailable(const pio_ctx *ctx, char *why, size_t len);
/* Call the handler bound to (socket's namespace, event), if any.  True
 * when the handler faulted: the caller disconnects s (a fault costs the
 * socket that caused it).  An event for a quarantined plugin is answered
 * with sio_refuse_ack. */
bool sio_dispatch(pio_socket *s, const char *event, pio_args *args);
/* An event from another server (the SDK's pio_server_event). */
int sio_server_event(pio_ctx *ctx, const char *nsp, const pio_value *packet, pio_answer_fn reply,
                     void *userdata);

#endif
