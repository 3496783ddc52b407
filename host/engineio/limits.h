/*
 * limits.h - the abuse limits an operator sets under `security:` (see
 * limits.c): which addresses may open a session, how many sessions one
 * address may hold, and how fast a connection may send events.  Each
 * refusal is counted (limits_get_stats) and logged, at a rate an attacker
 * cannot turn into a flood of log lines.
 */
#ifndef PIO_LIMITS_H
#define PIO_LIMITS_H

#include "base/token_bucket.h"

#include <stddef.h>
#include <stdint.h>

struct config_security;

/* The limits in force: set at start and by each reload (reload.c); NULL
 * (or a zeroed config_security) turns each off. */
void limits_set_config(const struct config_security *sec);

/* ---- sessions per address, and the allow-list ------------------------- */

typedef enum limits_admission {
    LIMITS_ADMIT,
    LIMITS_NOT_ALLOWED,  /* not in security.allow */
    LIMITS_TOO_MANY,     /* security.maxConnectionsPerAddress sessions open from it */
} limits_admission;

/* Whether a handshake from `address` (as the HTTP glue reads the peer:
 * IPv4 without its ::ffff: prefix) may open a new session.  A refusal is
 * counted and logged here; the caller answers it. */
limits_admission limits_admit(const char *address);
/* A session from `address` began / ended (eio_session.c: once each per
 * session, whatever its transports, whichever way it ends). */
void limits_session_began(const char *address);
void limits_session_ended(const char *address);
/* The sessions open from `address` now. */
uint32_t limits_sessions_from(const char *address);

/* ---- events ------------------------------------------------------------- */

/* A connection's share of security.rateLimit: zeroed when it opens. */
typedef struct limits_events {
    token_bucket bucket;
    uint32_t refused_in_a_row;
} limits_events;

typedef enum limits_verdict {
    LIMITS_PASS,        /* dispatch it */
    LIMITS_REFUSE,      /* over the rate: not dispatched; an ack it asked for gets
                           LIMITS_RATE_ERROR */
    LIMITS_DISCONNECT,  /* refused, and the rateLimit.disconnectAfter'th in a row:
                           disconnect the client too */
} limits_verdict;

/* What the error ack says (its single argument is {"error": this}). */
#define LIMITS_RATE_ERROR "rate limit exceeded"

/* An event from the connection of `address`; `who` names it in the log
 * (a socket id).  A refusal is counted and logged here. */
limits_verdict limits_event(limits_events *e, const char *address, const char *who);

/* ---- counters ---------------------------------------------------------- */

typedef struct limits_stats {
    uint64_t not_allowed;       /* handshakes refused: not in security.allow */
    uint64_t too_many;          /* handshakes refused: maxConnectionsPerAddress */
    uint64_t events_refused;    /* events over security.rateLimit */
    uint64_t disconnected;      /* clients disconnected for rateLimit.disconnectAfter */
    size_t addresses;           /* distinct addresses with a session open */
} limits_stats;

limits_stats limits_get_stats(void);

#endif
