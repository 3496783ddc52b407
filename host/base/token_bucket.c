/*
 * token_bucket.c - the token bucket (see token_bucket.h).
 *
 * Refilled lazily, at each take, by the time elapsed since the previous
 * one: no timer per connection, and an idle connection costs nothing.
 * The tokens are a double, so a rate below one a second (0.5: one event
 * every two seconds) and rates that do not divide a millisecond work
 * alike.  A burst lowered by a reload takes effect at once: what the
 * bucket holds is capped to it.
 */
#include "token_bucket.h"

bool token_bucket_take(token_bucket *b, double rate, double burst, uint64_t now)
{
    if (!b->started) {
        b->started = true;
        b->tokens = burst;
        b->last = now;
    } else if (now > b->last) {
        b->tokens += (double)(now - b->last) * rate / 1000.0;
        b->last = now;
    }
    if (b->tokens > burst)
        b->tokens = burst;
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}
