/*
 * lookup.h - users' roles asked of Strapi, without blocking the loop.
 *
 * A JWT names a user, not a role; the role is Strapi's (GET
 * /api/users/:id?populate=role with the configured API token).  Each user
 * has at most one look-up in flight, however many of its connections wait
 * for it (a reconnecting tab, a user's several devices): the handles of
 * their deferred middleware gather on it and all get the one answer.
 */
#ifndef PLUGIO_STRAPI_LOOKUP_H
#define PLUGIO_STRAPI_LOOKUP_H

#include "config.h"

typedef struct lookups lookups;

/* A look-up ended: role is the user's role type (borrowed for the call),
 * or NULL with `why` saying what went wrong ("unknown user", "Strapi
 * answered 403", "timed out", ...).  `settled` says Strapi answered about
 * the user (a role, or unknown, blocked, no role), as opposed to a
 * failure to ask (an error status, a timeout, no connection).
 * pending[0..n) are the middleware handles that waited on it. */
typedef void (*lookup_done_fn)(pio_ctx *ctx, const char *user_id, const char *role,
                               const char *why, bool settled, const uint64_t *pending, size_t n,
                               void *ud);

/* Look-ups to c->url with c->api_token (both borrowed: they outlive l).
 * NULL when out of memory or libcurl cannot start. */
lookups *lookups_new(pio_ctx *ctx, const strapi_config *c, lookup_done_fn done, void *ud);

/* `pending` waits for user_id's role: a look-up starts unless one is in
 * flight for that user.  False when out of memory (pending is not kept). */
bool lookups_wait(lookups *l, const char *user_id, uint64_t pending);

/* Every handle still waiting, with its user (for the next version: it
 * asks again). */
void lookups_each_waiting(const lookups *l,
                          void (*fn)(const char *user_id, uint64_t pending, void *ud), void *ud);

/* Abandon every look-up (no callback runs) and free l.  From an unload
 * hook: the host has removed the version's watches and timers already. */
void lookups_free(lookups *l);

#endif
