/*
 * limits.c - the abuse limits of `security:` (see limits.h).
 *
 * Sessions are counted per address whether or not a limit is set, so a
 * reload that sets maxConnectionsPerAddress finds the sessions already
 * open.  A session counts once from its handshake to its end, whatever
 * its transports: an upgrade from polling to WebSocket is the same
 * session.  The table holds only addresses with a session open (and frees
 * itself when none has one), so it costs one small entry per distinct
 * address connected.
 *
 * The allow-list is matched on the address as 16 bytes (cidr.h), so an
 * IPv4 client reported as ::ffff:a.b.c.d matches a.b.c.d's block.  An
 * address that cannot be read is not in any block.
 *
 * Events: one token bucket per connection (sio_client.c holds it), taken
 * with the rate and burst in force at each event, so a reload applies to
 * connected clients at their next event.  disconnectAfter counts refusals
 * in a row, so a client that slows down to the rate is never cut off,
 * while one that ignores its error acks is.
 *
 * Logging: a client refused once is likely refused a thousand times, and
 * one log line each would let it flood the log.  Each kind of refusal logs
 * its first one in full, then nothing for LOG_INTERVAL_MS but a summary at
 * its end (how many more, the last address, the count in all); a quiet
 * interval leaves the next refusal to be logged in full again.
 */
#include "limits.h"

#include "base/cidr.h"
#include "base/log.h"
#include "base/strmap.h"
#include "base/timer.h"
#include "config/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_INTERVAL_MS 10000

static const config_security *sec;

void limits_set_config(const config_security *s) { sec = s; }

/* ---- rate-limited log lines --------------------------------------------- */

typedef struct refusal_log {
    timer quiet;          /* first: the callback finds its log; running while
                             refusals are only counted */
    const char *what;     /* "sessions refused (not in security.allow)" */
    uint64_t total;
    uint64_t unlogged;    /* refused since the last line */
    char last[64];        /* the last one's address */
} refusal_log;

static refusal_log not_allowed = {.what = "new sessions refused (not in security.allow)"};
static refusal_log too_many = {.what = "new sessions refused (security.maxConnectionsPerAddress)"};
static refusal_log over_rate = {.what = "events refused (over security.rateLimit)"};
static refusal_log cut_off = {.what = "clients disconnected (security.rateLimit.disconnectAfter)"};

static void summary_due(timer *t)
{
    refusal_log *l = (refusal_log *)t;
    if (!l->unlogged)
        return; /* a quiet interval: the next refusal gets a line of its own */
    log_warn("%" PRIu64 " more %s in the last %d s, the last from %s (%" PRIu64 " in all)",
             l->unlogged, l->what, LOG_INTERVAL_MS / 1000, l->last, l->total);
    l->unlogged = 0;
    timer_start(&l->quiet, LOG_INTERVAL_MS, summary_due);
}

/* Counts a refusal; true when the caller logs it in full now, false when
 * the summary will count it. */
static bool refusal(refusal_log *l, const char *address)
{
    l->total++;
    if (timer_active(&l->quiet)) {
        l->unlogged++;
        snprintf(l->last, sizeof l->last, "%s", address);
        return false;
    }
    timer_start(&l->quiet, LOG_INTERVAL_MS, summary_due);
    return true;
}

/* ---- sessions per address ---------------------------------------------- */

typedef struct addr_count {
    uint32_t n;
    char key[]; /* the address: the map's key */
} addr_count;

static strmap by_address = STRMAP_INIT;

uint32_t limits_sessions_from(const char *address)
{
    addr_count *a = strmap_get(&by_address, address);
    return a ? a->n : 0;
}

/* Out of memory, the session goes uncounted: the limit is a bound on
 * abuse, not an account to balance, and ended() ignores an address it
 * does not know. */
void limits_session_began(const char *address)
{
    addr_count *a = strmap_get(&by_address, address);
    if (!a) {
        size_t len = strlen(address);
        if (!(a = malloc(sizeof *a + len + 1)))
            return;
        a->n = 0;
        memcpy(a->key, address, len + 1);
        if (!strmap_put(&by_address, a->key, a)) {
            free(a);
            return;
        }
    }
    a->n++;
}

void limits_session_ended(const char *address)
{
    addr_count *a = strmap_get(&by_address, address);
    if (!a || --a->n > 0)
        return;
    strmap_del(&by_address, a->key);
    free(a);
    if (by_address.count == 0)
        strmap_free(&by_address);
}

static bool allowed(const char *address)
{
    net_addr a;
    if (!net_addr_parse(address, &a))
        return false;
    for (size_t i = 0; i < sec->n_allow; i++)
        if (cidr_match(&sec->allow[i], &a))
            return true;
    return false;
}

limits_admission limits_admit(const char *address)
{
    if (!sec)
        return LIMITS_ADMIT;
    if (sec->has_allow && !allowed(address)) {
        if (refusal(&not_allowed, address))
            log_warn("refused a new session from %s: not in security.allow (%" PRIu64 " in all)",
                     address, not_allowed.total);
        return LIMITS_NOT_ALLOWED;
    }
    uint32_t max = sec->max_connections_per_address, open = limits_sessions_from(address);
    if (max && open >= max) {
        if (refusal(&too_many, address))
            log_warn("refused a new session from %s: %" PRIu32 " open from it, "
                     "security.maxConnectionsPerAddress is %" PRIu32 " (%" PRIu64 " in all)",
                     address, open, max, too_many.total);
        return LIMITS_TOO_MANY;
    }
    return LIMITS_ADMIT;
}

/* ---- events ------------------------------------------------------------- */

limits_verdict limits_event(limits_events *e, const char *address, const char *who)
{
    if (!sec || sec->events_per_second <= 0)
        return LIMITS_PASS;
    if (token_bucket_take(&e->bucket, sec->events_per_second, sec->burst, timer_now())) {
        e->refused_in_a_row = 0;
        return LIMITS_PASS;
    }
    if (e->refused_in_a_row < UINT32_MAX)
        e->refused_in_a_row++;
    if (refusal(&over_rate, address))
        log_warn("refused an event from socket %s (%s): over security.rateLimit (%g a second, "
                 "burst %" PRIu32 ") (%" PRIu64 " in all)",
                 who, address, sec->events_per_second, sec->burst, over_rate.total);
    if (!sec->disconnect_after || e->refused_in_a_row < sec->disconnect_after)
        return LIMITS_REFUSE;
    e->refused_in_a_row = 0;
    if (refusal(&cut_off, address))
        log_warn("disconnected socket %s (%s): %" PRIu32 " events in a row over "
                 "security.rateLimit, its disconnectAfter (%" PRIu64 " in all)",
                 who, address, sec->disconnect_after, cut_off.total);
    return LIMITS_DISCONNECT;
}

limits_stats limits_get_stats(void)
{
    return (limits_stats){
        .not_allowed = not_allowed.total,
        .too_many = too_many.total,
        .events_refused = over_rate.total,
        .disconnected = cut_off.total,
        .addresses = by_address.count,
    };
}
