/*
 * strmap.h - a map from strings to pointers (open addressing, linear
 * probing, tombstone-free deletion by backward shift).  Holds rooms by name
 * and sockets by id.  Written here because libc's hsearch_r cannot delete,
 * and glib would bring a whole runtime for two tables.
 *
 * The map does not copy keys: each key must live as long as its entry
 * (rooms and sockets keep their own name or id).
 *
 * Keys are hashed with SipHash-2-4 (libsodium's crypto_shorthash) under a
 * key drawn once per process: room names come from clients, and with an
 * unkeyed hash a client could pick names that all land in one probe run.
 */
#ifndef PIO_STRMAP_H
#define PIO_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap_slot {
    const char *key;   /* NULL: empty */
    void *value;       /* (no cached hash: the sockets-by-id table has a
                          slot per connection, and keys are short) */
} strmap_slot;

typedef struct strmap {
    strmap_slot *slots;
    size_t cap;        /* a power of two, or 0 */
    size_t count;
} strmap;

#define STRMAP_INIT {NULL, 0, 0}

/* Draw the hash key from getrandom.  Call once at start, before any map
 * holds an entry (a map filled under one key is not found under another);
 * until then every map hashes under an all-zero key.  False, with errno
 * set, when the kernel gives no random bytes: the server must not start. */
bool strmap_seed(void);

void *strmap_get(const strmap *m, const char *key);
/* Insert or replace. False when out of memory. */
bool strmap_put(strmap *m, const char *key, void *value);
/* Remove; returns the value that was there, or NULL. */
void *strmap_del(strmap *m, const char *key);
void strmap_free(strmap *m);

/* Iterate: start with *i = 0; returns false after the last entry. */
bool strmap_next(const strmap *m, size_t *i, const char **key, void **value);

#endif
