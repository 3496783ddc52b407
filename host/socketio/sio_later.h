/*
 * sio_later.h - what waits on a plugin: an ack a handler answers later
 * (pio_ack_defer), a connection a middleware decides on later
 * (pio_middleware_defer).
 *
 * Each waiting thing has a handle, a number plugins hold instead of a
 * pointer: never reused, so an answer after the thing is gone (its socket
 * left, its time ran out, it was answered already) finds nothing and is
 * refused, instead of touching freed memory.  The host owns every waiting
 * thing: when its socket leaves first it is finished with PIO_ECLOSED and
 * freed, so a plugin that never answers leaks nothing.
 */
#ifndef PIO_SIO_LATER_H
#define PIO_SIO_LATER_H

#include "sio_types.h"

typedef struct later later;
/* Finish a waiting thing: status PIO_OK when answered (arg is the kind's
 * answer), PIO_ECLOSED when its socket left, PIO_ETIMEDOUT when its time
 * ran out.  It is out of the table by then; done frees it. */
typedef void (*later_fn)(later *l, int status, void *arg);

struct later {
    uint64_t handle;
    char key[21];               /* the handle in decimal: the table's key */
    pio_socket *socket;         /* it outlives what waits on it: each is
                                   finished before it goes */
    later_fn done;
    timer timeout;              /* when started (later_add's timeout_ms) */
};

/* Register l (embedded in the caller's state) as waiting on socket s;
 * timeout_ms 0 waits for ever.  Returns its handle, or 0 when out of
 * memory or s waits on too many things already (l is not registered). */
uint64_t later_add(later *l, pio_socket *s, later_fn done, uint32_t timeout_ms);
/* Answer the thing with this handle: done(l, PIO_OK, arg).  False when no
 * such thing waits (any more). */
bool later_answer(uint64_t handle, void *arg);
/* Every thing s waits on is finished with PIO_ECLOSED (s is leaving). */
void later_forget_socket(pio_socket *s);
/* Every thing `mine` says yes to is finished with PIO_ECLOSED. */
void later_forget_where(bool (*mine)(const later *l, void *ud), void *ud);

#endif
