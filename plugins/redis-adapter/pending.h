/*
 * pending.h - the requests this server asked the others and still waits
 * on, found by requestId.
 *
 * Every server hears every response on the shared response channel, so a
 * lookup runs for each of them: a hash table keeps that cheap however many
 * broadcasts with acks are in flight.  Pure: the host's request handle and
 * timer are plain numbers here.
 */
#ifndef RA_PENDING_H
#define RA_PENDING_H

#include "wire.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ra_pending {
    char id[RA_UID_LEN + 1]; /* the requestId on the wire */
    uint64_t request;        /* the host's request (pio_adapter_answer, ...) */
    uint64_t timer;          /* drops the entry when the time is up; 0: none */
    int type;                /* RA_ALL_ROOMS, RA_REMOTE_FETCH, RA_SERVER_SIDE_EMIT, RA_BROADCAST */
    char *nsp;               /* the namespace asked (malloc'ed) */
    int64_t expected;        /* servers that will answer; -1 until PUBSUB NUMSUB tells */
    uint32_t answered;       /* servers that answered (for type 7: sent their count) */
    int done;                /* pio_adapter_done was called */
    char *payload;           /* the request, kept until NUMSUB says whom to ask (or, held,
                                until it can be asked) */
    size_t payload_len;
    uint64_t held;           /* held until this server's subscription is confirmed: the
                                order it was held in; 0: not held */
    void *owner;             /* whoever keeps the table, for the timer */
    struct ra_pending *next; /* hash chain */
} ra_pending;

typedef struct ra_pending_table {
    ra_pending **buckets;
    size_t n_buckets; /* a power of two, or 0 before the first insert */
    size_t count;
    uint64_t holds;   /* entries ever held: the next one's order */
} ra_pending_table;

/* A new entry with a fresh random id not in the table, inserted; NULL when
 * out of memory or without randomness.  nsp is copied. */
ra_pending *ra_pending_add(ra_pending_table *t, int type, const char *nsp, uint64_t request);
ra_pending *ra_pending_find(const ra_pending_table *t, const char *id, size_t len);
/* Unlinks and frees the entry (not its timer: the caller cancels it). */
void ra_pending_remove(ra_pending_table *t, ra_pending *p);
/* Unlinks every entry of namespace nsp (every entry with nsp NULL) and
 * returns them chained through ->next, for the caller to finish and free
 * one by one with ra_pending_free.  Detached first, because finishing one
 * calls into the host, whose callbacks may ask new requests meanwhile. */
ra_pending *ra_pending_detach(ra_pending_table *t, const char *nsp);
void ra_pending_free(ra_pending *p);
/* Marks p held, after every entry held before it. */
void ra_pending_hold(ra_pending_table *t, ra_pending *p);
/* The entry of namespace nsp held first among those still held; NULL when
 * none is.  Releasing them one by one with this (held = 0, then the next
 * call) keeps their order, and asks nothing of the table between two
 * calls: whatever a release does to it meanwhile, the next call sees. */
ra_pending *ra_pending_first_held(const ra_pending_table *t, const char *nsp);
/* Inserts an entry made elsewhere (the tests give fixed ids): 0, or -1
 * when out of memory. */
int ra_pending_insert(ra_pending_table *t, ra_pending *p);
/* Frees every entry and the table. */
void ra_pending_clear(ra_pending_table *t);

#endif
