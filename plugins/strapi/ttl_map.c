/*
 * ttl_map.c - strings remembered for a while (see ttl_map.h).
 *
 * Written here rather than taken from a library: the plugin needs a
 * string map with expiry and a hard size bound, about a hundred lines;
 * json-c's lh_table (the one table the build already links) has neither
 * expiry nor a way to bound it.  FNV-1a hashes the keys; the bucket count
 * is a power of two fixed at creation (max_entries / 2 rounded up, so
 * chains stay short when the map is full).
 */
#include "ttl_map.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    uint64_t expires;
    char *value;  /* points into key's allocation, after the key */
    char key[];
} entry;

struct ttl_map {
    entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t count;
    size_t max;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

ttl_map *ttl_map_new(size_t max_entries)
{
    if (!max_entries)
        return NULL;
    ttl_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    size_t n = 16;
    while (n < max_entries / 2 && n < ((size_t)1 << 20))
        n *= 2;
    m->buckets = calloc(n, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->n_buckets = n;
    m->max = max_entries;
    return m;
}

void ttl_map_free(ttl_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (entry *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(m->buckets);
    free(m);
}

/* The link that points at key's entry (or at the NULL ending its chain). */
static entry **find(ttl_map *m, const char *key)
{
    entry **link = &m->buckets[fnv1a(key) & (m->n_buckets - 1)];
    while (*link && strcmp((*link)->key, key) != 0)
        link = &(*link)->next;
    return link;
}

static void unlink_entry(ttl_map *m, entry **link)
{
    entry *e = *link;
    *link = e->next;
    free(e);
    m->count--;
}

const char *ttl_map_get(ttl_map *m, const char *key, uint64_t now)
{
    entry **link = find(m, key);
    if (!*link)
        return NULL;
    if (now >= (*link)->expires) {
        unlink_entry(m, link);
        return NULL;
    }
    return (*link)->value;
}

/* key and value may point into the entry a put replaces (a value from
 * ttl_map_get): both are copied before it goes. */
bool ttl_map_put(ttl_map *m, const char *key, const char *value, uint64_t now, uint64_t ttl_ms)
{
    size_t klen = strlen(key), vlen = strlen(value);
    entry *e = malloc(sizeof *e + klen + 1 + vlen + 1);
    if (!e)
        return false;
    memcpy(e->key, key, klen + 1);
    e->value = e->key + klen + 1;
    memcpy(e->value, value, vlen + 1);
    e->expires = now + ttl_ms;
    entry **link = find(m, e->key);
    if (*link)
        unlink_entry(m, link);
    if (m->count >= m->max && ttl_map_sweep(m, now) >= m->max) {
        free(e);
        return false;
    }
    link = find(m, e->key); /* the sweep may have changed the chain */
    e->next = NULL;
    *link = e;
    m->count++;
    return true;
}

bool ttl_map_seen(ttl_map *m, const char *key, uint64_t now, uint64_t ttl_ms)
{
    if (ttl_map_get(m, key, now))
        return true;
    ttl_map_put(m, key, "", now, ttl_ms);
    return false;
}

void ttl_map_remove(ttl_map *m, const char *key)
{
    entry **link = find(m, key);
    if (*link)
        unlink_entry(m, link);
}

size_t ttl_map_sweep(ttl_map *m, uint64_t now)
{
    for (size_t i = 0; i < m->n_buckets; i++) {
        entry **link = &m->buckets[i];
        while (*link) {
            if (now >= (*link)->expires)
                unlink_entry(m, link);
            else
                link = &(*link)->next;
        }
    }
    return m->count;
}

size_t ttl_map_count(const ttl_map *m) { return m->count; }
