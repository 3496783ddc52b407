/*
 * token_bucket.h - the rate a client may send events at
 * (security.rateLimit): a bucket holds up to `burst` tokens and gains
 * `rate` a second; an event takes one, and one that finds none is over
 * the limit.  So a client may send `burst` events at once, then `rate` a
 * second for as long as it likes.
 *
 * The rate and the burst are arguments of each take, not stored: a
 * configuration reload applies them to every connection's next event.
 * The clock is an argument too (timer_now() in the host), so a test
 * decides when time passes.
 */
#ifndef PIO_TOKEN_BUCKET_H
#define PIO_TOKEN_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

/* Zeroed: not used yet, full at its first take. */
typedef struct token_bucket {
    double tokens;
    uint64_t last;  /* ms of the last take */
    bool started;
} token_bucket;

/* Takes a token at `now` (ms, never earlier than the last take's) from a
 * bucket refilled at `rate` tokens a second (> 0) up to `burst` (>= 1).
 * False when there is none: the event is over the limit. */
bool token_bucket_take(token_bucket *b, double rate, double burst, uint64_t now);

#endif
