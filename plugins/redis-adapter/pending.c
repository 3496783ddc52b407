/*
 * pending.c - the table of requests in flight (see pending.h): chained
 * buckets, doubled when the entries outnumber them.  The ids are random
 * already, so a plain FNV-1a spreads them well.
 */
#include "pending.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_id(const char *id, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)id[i];
        h *= 16777619u;
    }
    return h;
}

static int grow(ra_pending_table *t)
{
    size_t n = t->n_buckets ? t->n_buckets * 2 : 16;
    ra_pending **buckets = calloc(n, sizeof *buckets);
    if (!buckets)
        return -1;
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (ra_pending *p = t->buckets[i], *next; p; p = next) {
            next = p->next;
            size_t at = hash_id(p->id, strlen(p->id)) & (n - 1);
            p->next = buckets[at];
            buckets[at] = p;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->n_buckets = n;
    return 0;
}

ra_pending *ra_pending_find(const ra_pending_table *t, const char *id, size_t len)
{
    if (t->count == 0 || len != RA_UID_LEN)
        return NULL;
    for (ra_pending *p = t->buckets[hash_id(id, len) & (t->n_buckets - 1)]; p; p = p->next)
        if (memcmp(p->id, id, len) == 0)
            return p;
    return NULL;
}

int ra_pending_insert(ra_pending_table *t, ra_pending *p)
{
    if (t->count >= t->n_buckets && grow(t) != 0)
        return -1;
    size_t at = hash_id(p->id, strlen(p->id)) & (t->n_buckets - 1);
    p->next = t->buckets[at];
    t->buckets[at] = p;
    t->count++;
    return 0;
}

ra_pending *ra_pending_add(ra_pending_table *t, int type, const char *nsp, uint64_t request)
{
    ra_pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nsp = strdup(nsp);
    if (!p->nsp)
        goto fail;
    /* 64^6 ids: a repeat among the requests in flight is rare, not
     * impossible, and a repeated id would mix two requests' answers. */
    do {
        if (ra_uid_new(p->id) != 0)
            goto fail;
    } while (ra_pending_find(t, p->id, RA_UID_LEN));
    p->type = type;
    p->request = request;
    p->expected = -1;
    if (ra_pending_insert(t, p) != 0)
        goto fail;
    return p;
fail:
    free(p->nsp);
    free(p);
    return NULL;
}

void ra_pending_free(ra_pending *p)
{
    free(p->nsp);
    free(p->payload);
    free(p);
}

void ra_pending_remove(ra_pending_table *t, ra_pending *p)
{
    ra_pending **at = &t->buckets[hash_id(p->id, strlen(p->id)) & (t->n_buckets - 1)];
    while (*at && *at != p)
        at = &(*at)->next;
    if (!*at)
        return;
    *at = p->next;
    t->count--;
    ra_pending_free(p);
}

ra_pending *ra_pending_detach(ra_pending_table *t, const char *nsp)
{
    ra_pending *list = NULL;
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (ra_pending **at = &t->buckets[i]; *at;) {
            ra_pending *p = *at;
            if (nsp && strcmp(p->nsp, nsp) != 0) {
                at = &p->next;
                continue;
            }
            *at = p->next;
            t->count--;
            p->next = list;
            list = p;
        }
    }
    return list;
}

void ra_pending_hold(ra_pending_table *t, ra_pending *p)
{
    p->held = ++t->holds;
}

ra_pending *ra_pending_first_held(const ra_pending_table *t, const char *nsp)
{
    ra_pending *first = NULL;
    for (size_t i = 0; i < t->n_buckets; i++)
        for (ra_pending *p = t->buckets[i]; p; p = p->next)
            if (p->held && (!first || p->held < first->held) && strcmp(p->nsp, nsp) == 0)
                first = p;
    return first;
}

void ra_pending_clear(ra_pending_table *t)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (ra_pending *p = t->buckets[i], *next; p; p = next) {
            next = p->next;
            ra_pending_free(p);
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof *t);
}
