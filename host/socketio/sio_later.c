/*
 * sio_later.c - what waits on a plugin (see sio_later.h): a table of
 * handles, and per socket a count, so that a leaving socket with nothing
 * waiting costs nothing and one with something waiting is looked up once.
 */
#include "sio_later.h"

#include "base/array.h"
#include "base/strmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static strmap waiting = STRMAP_INIT; /* key -> later */
static uint64_t last_handle;

static void overdue(timer *t)
{
    later *l = (later *)((char *)t - offsetof(later, timeout));
    strmap_del(&waiting, l->key);
    l->socket->n_later--;
    l->done(l, PIO_ETIMEDOUT, NULL);
}

uint64_t later_add(later *l, pio_socket *s, later_fn done, uint32_t timeout_ms)
{
    if (s->n_later == UINT16_MAX)
        return 0;
    l->handle = ++last_handle;
    snprintf(l->key, sizeof l->key, "%" PRIu64, l->handle);
    if (!strmap_put(&waiting, l->key, l))
        return 0;
    l->socket = s;
    s->n_later++;
    l->done = done;
    l->timeout = (timer){0};
    if (timeout_ms)
        timer_start(&l->timeout, timeout_ms, overdue);
    return l->handle;
}

/* Out of the table, its timer stopped. */
static later *take(const char *key)
{
    later *l = strmap_del(&waiting, key);
    if (l) {
        timer_stop(&l->timeout);
        l->socket->n_later--;
    }
    return l;
}

bool later_answer(uint64_t handle, void *arg)
{
    char key[21];
    snprintf(key, sizeof key, "%" PRIu64, handle);
    later *l = handle ? take(key) : NULL;
    if (!l)
        return false;
    l->done(l, PIO_OK, arg);
    return true;
}

void later_forget_where(bool (*mine)(const later *l, void *ud), void *ud)
{
    for (;;) {
        /* Their handles collected first: the table must not change while
         * it is walked, and a done may finish (and free) another. */
        uint64_t *found = NULL, left = 0; /* left: memory ran out at it */
        size_t n = 0, cap = 0, i = 0;
        const char *key;
        void *value;
        while (strmap_next(&waiting, &i, &key, &value)) {
            if (!mine(value, ud))
                continue;
            if (!ARRAY_RESERVE(found, n + 1, cap, 8)) {
                left = ((later *)value)->handle;
                break;
            }
            found[n++] = ((later *)value)->handle;
        }
        if (!n && left)
            found = &left, n = 1;
        for (size_t k = 0; k < n; k++) {
            char hkey[21];
            snprintf(hkey, sizeof hkey, "%" PRIu64, found[k]);
            later *l = take(hkey);
            if (l)
                l->done(l, PIO_ECLOSED, NULL);
        }
        if (found != &left)
            free(found);
        if (!left)
            return; /* all found; else again, for what is left */
    }
}

static bool of_socket(const later *l, void *s) { return l->socket == s; }

void later_forget_socket(pio_socket *s)
{
    if (s->n_later)
        later_forget_where(of_socket, s);
}
