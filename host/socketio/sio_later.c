/*
 * sio_later.c - what waits on a plugin (see sio_later.h): a table of
 * handles for answers, and per group (a socket, a client) a list, so that
 * a group that leaves finishes its own things without looking at anyone
 * else's.
 */
#include "sio_later.h"

#include "base/array.h"
#include "base/strmap.h"
#include "plugin/ctx.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static strmap waiting = STRMAP_INIT; /* handle key -> later */
static strmap groups = STRMAP_INIT;  /* group key -> group_list */
static uint64_t last_handle;

typedef struct group_list {
    char key[2 + 2 * sizeof(void *) + 1]; /* "0x" and the address in hex */
    later *first;
} group_list;

static void group_key(const void *group, char *key, size_t size)
{
    snprintf(key, size, "0x%" PRIxPTR, (uintptr_t)group);
}

static void handle_key(uint64_t handle, char *key, size_t size)
{
    snprintf(key, size, "%" PRIu64, handle);
}

static group_list *group_of(const void *group)
{
    char key[sizeof ((group_list *)0)->key];
    group_key(group, key, sizeof key);
    return strmap_get(&groups, key);
}

/* Out of both tables, its timer stopped. */
static void unlink_later(later *l)
{
    strmap_del(&waiting, l->key);
    timer_stop(&l->timeout);
    group_list *g = group_of(l->group);
    if (l->prev)
        l->prev->next = l->next;
    else if (g)
        g->first = l->next;
    if (l->next)
        l->next->prev = l->prev;
    if (g && !g->first) {
        strmap_del(&groups, g->key);
        free(g);
    }
}

/* Out of the tables, then done (which frees l); its owner's reference
 * goes after. */
static void finish(later *l, int status, void *arg)
{
    pio_ctx *owner = l->owner;
    unlink_later(l);
    l->done(l, status, arg);
    ctx_unref(owner);
}

static void overdue(timer *t)
{
    finish((later *)((char *)t - offsetof(later, timeout)), PIO_ETIMEDOUT, NULL);
}

uint64_t later_add(later *l, void *group, later_fn done, uint32_t timeout_ms)
{
    group_list *g = group_of(group);
    bool new_group = !g;
    if (new_group) {
        if (!(g = calloc(1, sizeof *g)))
            return 0;
        group_key(group, g->key, sizeof g->key);
        if (!strmap_put(&groups, g->key, g)) {
            free(g);
            return 0;
        }
    }
    l->handle = ++last_handle;
    handle_key(l->handle, l->key, sizeof l->key);
    if (!strmap_put(&waiting, l->key, l)) {
        if (new_group) {
            strmap_del(&groups, g->key);
            free(g);
        }
        return 0;
    }
    l->group = group;
    l->prev = NULL;
    l->next = g->first;
    if (g->first)
        g->first->prev = l;
    g->first = l;
    l->done = done;
    l->owner = ctx_running() ? ctx_ref(ctx_running()) : NULL;
    l->timeout = (timer){0};
    if (timeout_ms)
        timer_start(&l->timeout, timeout_ms, overdue);
    return l->handle;
}

later *later_find(uint64_t handle, later_fn kind)
{
    char key[21];
    handle_key(handle, key, sizeof key);
    later *l = handle ? strmap_get(&waiting, key) : NULL;
    return l && l->done == kind ? l : NULL;
}

void later_finish(later *l, int status, void *arg) { finish(l, status, arg); }

bool later_answer(uint64_t handle, later_fn kind, void *arg)
{
    later *l = later_find(handle, kind);
    if (!l)
        return false;
    later_finish(l, PIO_OK, arg);
    return true;
}

void later_forget_group(void *group)
{
    /* One at a time from the head: a done may finish (and free) others of
     * the group, or add new ones, and the list stays right through it. */
    group_list *g;
    while ((g = group_of(group))) {
        finish(g->first, PIO_ECLOSED, NULL);
    }
}

void later_forget_owner(const pio_ctx *owner, later_fn kind, int status)
{
    /* The handles first: a done may finish (and free) others. */
    uint64_t *handles = NULL;
    size_t n = 0, cap = 0, i = 0;
    void *v;
    while (strmap_next(&waiting, &i, NULL, &v)) {
        later *l = v;
        if (l->owner == owner && l->done == kind && ARRAY_RESERVE(handles, n + 1, cap, 16))
            handles[n++] = l->handle;
    }
    for (size_t k = 0; k < n; k++) {
        later *l = later_find(handles[k], kind);
        if (l)
            finish(l, status, NULL);
    }
    free(handles);
}
