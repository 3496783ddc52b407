/*
 * rooms.h - namespaces and rooms: the in-memory adapter.
 *
 * A namespace holds its connected sockets (an array, for broadcasts to
 * everyone, and an index by id) and its rooms by name.  A room holds its
 * members in an array; each socket keeps, per room it is in, its index in
 * that array, so joining and leaving cost O(1) whatever the room's size.
 * Every connected socket is in the room named by its own id; that room is
 * implicit - the namespace's id index answers for it - which saves a room,
 * a name, a members array and a map slot per connection.
 *
 * A namespace the configuration names lives until shutdown.  A child
 * namespace (created by a client because a pattern matches its name,
 * socket.io's io.of(regex)) is counted, and with cleanupEmptyChildNamespaces
 * it is freed when the last socket object pointing at it goes: each socket,
 * accepted or not, holds a reference on its namespace.
 */
#ifndef PIO_ROOMS_H
#define PIO_ROOMS_H

#include <plugio/plugio.h>

#include "base/strmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sio_room {
    char *name;              /* owned; the map's key */
    pio_socket **members;
    size_t n, cap;
} sio_room;

/* A socket's place in one room. */
typedef struct membership {
    sio_room *r;
    size_t idx;              /* its index in r->members */
} membership;

typedef struct sio_nsp {
    char *name;              /* owned */
    strmap rooms;            /* name -> sio_room */
    strmap by_id;            /* socket id -> pio_socket */
    pio_socket **all;        /* connected sockets */
    size_t n_all, cap_all;
    unsigned refs;           /* sockets pointing here (nsp_retain) */
    bool child;              /* created by a pattern: counted, may be freed */
    /* The Socket.IO layer's cache of the pattern whose events a child has,
     * matched in the binding of generation parent_gen (sio_client.c). */
    const struct bound_pattern *parent;
    uint64_t parent_gen;
} sio_nsp;

/* The namespace called `name`, created when `create`; NULL when absent
 * or out of memory. */
sio_nsp *nsp_get(const char *name, bool create);
/* A new child namespace called `name` (which must not exist); NULL when
 * out of memory. */
sio_nsp *nsp_create_child(const char *name);
/* Child namespaces that exist. */
size_t nsp_child_count(void);
/* Free a child namespace that no socket is in (one kept while
 * cleanupEmptyChildNamespaces is off); false when every child has one. */
bool nsp_evict_empty_child(void);
void nsp_retain(sio_nsp *n);
/* Drop a reference; the last one frees a child namespace when `cleanup`
 * (the namespace and its name are gone after that). */
void nsp_release(sio_nsp *n, bool cleanup);
/* A socket accepted into its namespace: indexed, and in its id's room. */
bool nsp_add_socket(sio_nsp *n, pio_socket *s);
/* A socket leaving: out of every room and index. */
void nsp_remove_socket(sio_nsp *n, pio_socket *s);
/* Be told when a child namespace is created and when one is freed (the
 * adapter subscribes and unsubscribes); NULL stops telling. */
void nsp_on_child(void (*fn)(const char *name, bool created));
/* The namespaces that exist, one per call: start with *i = 0; NULL after
 * the last. */
sio_nsp *nsp_next(size_t *i);
/* Visit every namespace (shutdown). */
void nsp_free_all(void);

int room_join(pio_socket *s, const char *name);
int room_leave(pio_socket *s, const char *name);
bool room_has(const pio_socket *s, const char *name);
/* s is a member of r (a room of its namespace, not its id room). */
bool room_has_real(const pio_socket *s, const sio_room *r);
/* The connected socket whose id room `name` is, or NULL. */
pio_socket *room_id_socket(sio_nsp *n, const char *name);
sio_room *room_get(sio_nsp *n, const char *name);
/* Leave every room (a socket refused by middleware, or disconnecting). */
void room_leave_all(pio_socket *s);

#endif
