/*
 * rooms.c - namespaces and rooms, the in-memory adapter (see rooms.h).
 */
#include "rooms.h"

#include "base/array.h"
#include "sio_observe.h"
#include "sio_types.h"

#include <stdlib.h>
#include <string.h>

static strmap namespaces; /* name -> sio_nsp */
static size_t n_children; /* of them, child namespaces */

sio_nsp *nsp_get(const char *name, bool create)
{
    sio_nsp *n = strmap_get(&namespaces, name);
    if (n || !create)
        return n;
    n = calloc(1, sizeof *n);
    if (!n || !(n->name = strdup(name)) || !strmap_put(&namespaces, n->name, n)) {
        if (n)
            free(n->name);
        free(n);
        return NULL;
    }
    return n;
}

static void (*child_hook)(const char *name, bool created);

void nsp_on_child(void (*fn)(const char *name, bool created)) { child_hook = fn; }

sio_nsp *nsp_next(size_t *i)
{
    void *v;
    return strmap_next(&namespaces, i, NULL, &v) ? v : NULL;
}

sio_nsp *nsp_create_child(const char *name)
{
    sio_nsp *n = nsp_get(name, true);
    if (n) {
        n->child = true;
        n_children++;
        if (child_hook)
            child_hook(n->name, true);
    }
    return n;
}

/* A child namespace leaves the map and is freed. */
static void nsp_free(sio_nsp *n);
static void child_gone(sio_nsp *n)
{
    strmap_del(&namespaces, n->name);
    n_children--;
    if (child_hook)
        child_hook(n->name, false);
    nsp_free(n);
}

size_t nsp_child_count(void) { return n_children; }

static void nsp_free(sio_nsp *n)
{
    size_t j = 0;
    void *r;
    while (strmap_next(&n->rooms, &j, NULL, &r)) {
        free(((sio_room *)r)->members);
        free(((sio_room *)r)->name);
        free(r);
    }
    strmap_free(&n->rooms);
    strmap_free(&n->by_id);
    free(n->all);
    free(n->name);
    free(n);
}

void nsp_retain(sio_nsp *n) { n->refs++; }

void nsp_release(sio_nsp *n, bool cleanup)
{
    if (--n->refs > 0 || !n->child || !cleanup)
        return;
    child_gone(n);
}

bool nsp_evict_empty_child(void)
{
    size_t i = 0;
    void *v;
    while (strmap_next(&namespaces, &i, NULL, &v)) {
        sio_nsp *n = v;
        if (n->child && n->refs == 0) {
            child_gone(n);
            return true;
        }
    }
    return false;
}

sio_room *room_get(sio_nsp *n, const char *name) { return strmap_get(&n->rooms, name); }

static membership *find_membership(const pio_socket *s, const sio_room *r)
{
    for (size_t i = 0; i < s->n_memb; i++)
        if (s->memb[i].r == r)
            return &s->memb[i];
    return NULL;
}

static void room_free(sio_nsp *n, sio_room *r)
{
    strmap_del(&n->rooms, r->name);
    free(r->members);
    free(r->name);
    free(r);
}

int room_join(pio_socket *s, const char *name)
{
    if (!s || !name || !s->ns)
        return PIO_EINVAL;
    if (strcmp(name, s->id) == 0)
        return PIO_OK; /* always in its own room */
    sio_nsp *n = s->ns;
    sio_room *r = room_get(n, name);
    if (r && find_membership(s, r))
        return PIO_OK;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r || !(r->name = strdup(name)) || !strmap_put(&n->rooms, r->name, r)) {
            if (r)
                free(r->name);
            free(r);
            return PIO_ENOMEM;
        }
    }
    if (!ARRAY_RESERVE(r->members, r->n + 1, r->cap, 4) ||
        !ARRAY_RESERVE(s->memb, s->n_memb + 1, s->cap_memb, 4))
        goto oom;
    s->memb[s->n_memb++] = (membership){r, r->n};
    r->members[r->n++] = s;
    SIO_OBSERVE(room_joined, s, name);
    return PIO_OK;
oom:
    if (r->n == 0)
        room_free(n, r);
    return PIO_ENOMEM;
}

/* Take membership `m` of s out of its room and out of s's list. */
static void drop_membership(pio_socket *s, membership *m)
{
    sio_room *r = m->r;
    size_t idx = m->idx;
    SIO_OBSERVE(room_left, s, r->name);
    /* Move the room's last member into the hole, and tell it. */
    pio_socket *last = r->members[--r->n];
    if (idx != r->n) {
        r->members[idx] = last;
        find_membership(last, r)->idx = idx;
    }
    *m = s->memb[--s->n_memb];
    if (r->n == 0)
        room_free(s->ns, r); /* socket.io deletes empty rooms too */
}

int room_leave(pio_socket *s, const char *name)
{
    if (!s || !name || !s->ns)
        return PIO_EINVAL;
    sio_room *r = room_get(s->ns, name);
    membership *m = r ? find_membership(s, r) : NULL;
    if (m)
        drop_membership(s, m);
    return PIO_OK;
}

bool room_has(const pio_socket *s, const char *name)
{
    if (!s || !name)
        return false;
    /* In its id room while connected, as socket.io joins it on connect. */
    if (s->client && strcmp(name, s->id) == 0)
        return true;
    sio_room *r = s->ns ? room_get(s->ns, name) : NULL;
    return r && find_membership(s, r);
}

bool room_has_real(const pio_socket *s, const sio_room *r) { return find_membership(s, r) != NULL; }

pio_socket *room_id_socket(sio_nsp *n, const char *name)
{
    return name ? strmap_get(&n->by_id, name) : NULL;
}

void room_leave_all(pio_socket *s)
{
    while (s->n_memb)
        drop_membership(s, &s->memb[s->n_memb - 1]);
    free(s->memb);
    s->memb = NULL;
    s->cap_memb = 0;
}

bool nsp_add_socket(sio_nsp *n, pio_socket *s)
{
    if (!ARRAY_RESERVE(n->all, n->n_all + 1, n->cap_all, 16))
        return false;
    if (!strmap_put(&n->by_id, s->id, s))
        return false;
    s->all_idx = (uint32_t)n->n_all;
    n->all[n->n_all++] = s;
    return true;
}

void nsp_remove_socket(sio_nsp *n, pio_socket *s)
{
    room_leave_all(s);
    if (strmap_get(&n->by_id, s->id) != s)
        return; /* never accepted */
    strmap_del(&n->by_id, s->id);
    pio_socket *last = n->all[--n->n_all];
    if (s->all_idx != n->n_all) {
        n->all[s->all_idx] = last;
        last->all_idx = s->all_idx;
    }
}

void nsp_free_all(void)
{
    size_t i = 0;
    void *v;
    while (strmap_next(&namespaces, &i, NULL, &v))
        nsp_free(v);
    strmap_free(&namespaces);
    n_children = 0;
}
