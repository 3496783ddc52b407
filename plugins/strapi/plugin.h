/*
 * plugin.h - what the strapi plugin's files share: the running version's
 * configuration and state.
 *
 * A version's globals die with it (plugio.h, "Reloading"); what outlives
 * a version - the role cache, the webhook's window, middleware waiting for
 * a role - is the `strapi_shared` block, handed from one version to the
 * next through unload/load.
 */
#ifndef PLUGIO_STRAPI_PLUGIN_H
#define PLUGIO_STRAPI_PLUGIN_H

#include "config.h"
#include "lookup.h"
#include "ttl_map.h"

/* Bumped whenever strapi_shared's layout changes: a version given a block
 * of another layout leaves it (a few kB of cache) rather than misread it. */
#define STRAPI_SHARED_LAYOUT 2u

typedef struct strapi_waiting {
    char user_id[64];
    uint64_t pending;
} strapi_waiting;

typedef struct strapi_shared {
    uint32_t layout;
    ttl_map *roles;            /* user id -> role type */
    ttl_map *seen;             /* webhook events already emitted */
    strapi_waiting *waiting;   /* between an unload and the next load only */
    size_t n_waiting;
    char *roles_from;          /* owned: the config.url the roles were asked of */
} strapi_shared;

typedef struct strapi_version {
    bool ready;                /* load succeeded */
    strapi_config cfg;
    strapi_shared *shared;
    lookups *lookups;
    unsigned char token_key[32]; /* HMAC key for comparing plaintext tokens */
} strapi_version;

extern PIO_HIDDEN strapi_version strapi_now;

/* Milliseconds on a monotonic clock. */
uint64_t strapi_clock_ms(void);

/* Constant-time equality of two strings of any lengths: both are HMACed
 * with `key` and the digests compared. */
bool strapi_same_secret(const unsigned char key[32], const char *a, const char *b);

/* Emit a content event: `<event>:<action>` with {data: entry minus its
 * private fields} to every room permitted it, on cfg.nsp.  Returns the
 * number of sockets reached here, or a negative PIO_E*. */
int strapi_emit_entry(pio_ctx *ctx, const strapi_type *t, unsigned action,
                      const pio_value *entry);

/* The webhook's route function (emit.c). */
void strapi_on_webhook(pio_ctx *ctx, pio_http_request *req, void *ud);

#endif
