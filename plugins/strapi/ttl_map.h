/*
 * ttl_map.h - strings remembered for a while: the role look-up cache (user
 * id -> role type) and the webhook's de-duplication window (event key ->
 * "").
 *
 * A chained hash table with a bound on its entries; an entry whose time is
 * up counts as absent and is dropped when met.  Times are the caller's
 * (milliseconds on a monotonic clock), so the tests set them.  Pure: no
 * I/O, no host calls.
 */
#ifndef PLUGIO_STRAPI_TTL_MAP_H
#define PLUGIO_STRAPI_TTL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ttl_map ttl_map;

/* A map of at most max_entries entries (> 0); NULL when out of memory. */
ttl_map *ttl_map_new(size_t max_entries);
void ttl_map_free(ttl_map *m);

/* The value of `key` while now < its expiry, else NULL.  Borrowed until
 * the next call that changes the map. */
const char *ttl_map_get(ttl_map *m, const char *key, uint64_t now);

/* Remember key -> value until now + ttl_ms (replacing an entry of the same
 * key).  False when out of memory, or when the map is full of entries
 * still fresh (nothing is evicted before its time: a full cache only
 * means more look-ups). */
bool ttl_map_put(ttl_map *m, const char *key, const char *value, uint64_t now, uint64_t ttl_ms);

/* For a window of de-duplication: true when `key` was remembered and is
 * still fresh; otherwise remember it for ttl_ms and return false (also
 * when it cannot be remembered: a full map lets duplicates through rather
 * than drop events). */
bool ttl_map_seen(ttl_map *m, const char *key, uint64_t now, uint64_t ttl_ms);

/* Forget `key`. */
void ttl_map_remove(ttl_map *m, const char *key);

/* Drop every entry whose time is up; returns how many are left. */
size_t ttl_map_sweep(ttl_map *m, uint64_t now);

size_t ttl_map_count(const ttl_map *m);

#endif
