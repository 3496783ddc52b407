/*
 * sio_observe.h - what the Socket.IO layer tells one observer above it (the
 * Admin UI's server side, web/admin.c): sockets coming and going, rooms
 * joined and left, events received and sent, and the traffic that
 * socket.io's admin instrumentation counts.
 *
 * Layers reach up only through callbacks they were given: the observer is
 * a table of functions set once at start (sio_observe), and every place
 * that tells it costs one load and a branch while none is set.  Each
 * member may be NULL.  A call happens where the thing happened, inside
 * the layer: the observer must not free the socket it is shown, and
 * should queue what it sends rather than send from inside the call.
 */
#ifndef PIO_SIO_OBSERVE_H
#define PIO_SIO_OBSERVE_H

#include "sio_types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sio_observer {
    /* Engine.IO sessions as the Socket.IO layer sees them: one opened,
     * one closed (with its reason), and a message in or out (its bytes). */
    void (*client_opened)(eio_session *s);
    void (*client_closed)(const char *reason);
    void (*message_in)(size_t bytes);
    void (*message_out)(size_t bytes);
    /* Before connection middleware runs: NULL lets the CONNECT go on, a
     * string refuses it with that message; or the observer took
     * sio_middleware_defer(s) and answers later with
     * sio_middleware_resolve. */
    const char *(*admit)(pio_socket *s);
    /* Accepted, and told so (its CONNECT sent), before its `connection`
     * handler runs. */
    void (*socket_connected)(pio_socket *s);
    /* Going: out of its client, still in its rooms, which it leaves next
     * (room_left for each), as socket.io tells "disconnect" first. */
    void (*socket_disconnected)(pio_socket *s, const char *reason);
    /* Its client upgraded its transport; its data changed. */
    void (*socket_upgraded)(pio_socket *s);
    void (*socket_data)(pio_socket *s);
    /* It joined or left a room (not its own id room): only real changes. */
    void (*room_joined)(pio_socket *s, const char *room);
    void (*room_left)(pio_socket *s, const char *room);
    /* An event from its client, [name, args...] (binary arguments as
     * value.h's binary values), before its handler runs. */
    void (*event_received)(pio_socket *s, json_object *packet);
    /* An event queued for it: name and arguments (out may be NULL), and
     * the serial of the packet, the same for every recipient of one
     * broadcast and never reused, so that what the observer makes of the
     * arguments can be made once per packet rather than per recipient. */
    void (*event_sent)(pio_socket *s, const char *event, const pio_out *out, uint64_t serial);
} sio_observer;

/* The observer, or NULL (the default). */
extern const sio_observer *sio_observer_now;
void sio_observe(const sio_observer *o);

#define SIO_OBSERVE(fn, ...)                                                                       \
    do {                                                                                           \
        if (sio_observer_now && sio_observer_now->fn)                                              \
            sio_observer_now->fn(__VA_ARGS__);                                                     \
    } while (0)

#endif
