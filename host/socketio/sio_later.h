/*
 * sio_later.h - what waits on a plugin: an ack a handler answers later
 * (pio_ack_defer), a connection a middleware decides on later
 * (pio_middleware_defer).
 *
 * Each waiting thing has a handle, a number plugins hold instead of a
 * pointer: never reused, so an answer after the thing is gone (its socket
 * left, its time ran out, it was answered already) finds nothing and is
 * refused, instead of touching freed memory.  The host owns every waiting
 * thing, and each goes with a group (the socket an ack answers, the client
 * a connection belongs to): when the group leaves first, its things are
 * finished with PIO_ECLOSED and freed, so a plugin that never answers
 * leaks nothing.
 */
#ifndef PIO_SIO_LATER_H
#define PIO_SIO_LATER_H

#include "sio_types.h"

typedef struct later later;
/* Finish a waiting thing: status PIO_OK when answered (arg is the kind's
 * answer), PIO_ECLOSED when its group left, PIO_ETIMEDOUT when its time
 * ran out.  It is out of the table by then; done frees it. */
typedef void (*later_fn)(later *l, int status, void *arg);

struct later {
    uint64_t handle;
    char key[21];               /* the handle in decimal: the table's key */
    void *group;                /* outlives what waits with it: each is
                                   finished (later_forget_group) before it goes */
    later *prev, *next;         /* the group's list */
    later_fn done;
    timer timeout;              /* when started (later_add's timeout_ms) */
    pio_ctx *owner;             /* the plugin version whose call made it wait
                                   (a reference), or NULL */
};

/* Register l (embedded in the caller's state) as waiting with `group`;
 * timeout_ms 0 waits for ever.  The plugin version running now is its
 * owner.  Returns its handle, or 0 when out of memory (l is not
 * registered). */
uint64_t later_add(later *l, void *group, later_fn done, uint32_t timeout_ms);
/* Answer the thing with this handle, of the kind whose done is `kind`:
 * done(l, PIO_OK, arg).  False when no such thing waits (any more), or the
 * handle names another kind (a plugin mixing up an ack and a middleware
 * handle gets an error, not the other's answer). */
bool later_answer(uint64_t handle, later_fn kind, void *arg);
/* The thing with this handle, of the kind whose done is `kind`, still
 * waiting (for things answered several times before they finish), or
 * NULL. */
later *later_find(uint64_t handle, later_fn kind);
/* Finish l now: out of the table, then done(l, status, arg). */
void later_finish(later *l, int status, void *arg);
/* Every thing waiting with `group` is finished with PIO_ECLOSED. */
void later_forget_group(void *group);
/* Every thing of the kind whose done is `kind` that `owner` made wait is
 * finished with `status` (its version faulted: no answer will come). */
void later_forget_owner(const pio_ctx *owner, later_fn kind, int status);

#endif
