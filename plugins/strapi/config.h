/*
 * config.h - the strapi plugin's `config:` block, read and checked once per
 * load.  Every key is checked for its type and range and an unknown key is
 * refused, each error naming its key (config.webhook.path, ...).
 *
 *   url: http://127.0.0.1:1337        Strapi, for role look-ups
 *   apiToken | apiTokenEnv            a full-access API token, for look-ups
 *   jwtSecret | jwtSecretEnv          users-permissions' jwtSecret
 *   jwtLeewaySeconds: 0
 *   namespace: /                      where clients authenticate and events go
 *   anonymous: false                  clients without a token join role:public
 *   roleCacheMs: 60000                how long a user's role is trusted
 *   lookupTimeoutMs: 5000
 *   webhook: {path, header: authorization, secret | secretEnv,
 *             dedupeMs: 2000, maxBody: 1048576}
 *   contentTypes: [uid | {uid, actions, eventPrefix, privateFields}]
 *   roles: {<role type>: <permissions>}
 *   apiTokens: {salt | saltEnv, tokens: [{name, accessKey | token | tokenEnv,
 *              permissions}]}
 *
 * <permissions> is "*" (every action of every content type listed) or
 * {<uid>: "*" | [actions]}.  Actions: create, update, delete, publish,
 * unpublish.
 */
#ifndef PLUGIO_STRAPI_CONFIG_H
#define PLUGIO_STRAPI_CONFIG_H

#define PIO_MIN_ABI_MINOR 5
#include <plugio/plugio.h>
#include <stdbool.h>

#include "api_token.h"

enum {
    STRAPI_CREATE = 1u << 0,
    STRAPI_UPDATE = 1u << 1,
    STRAPI_DELETE = 1u << 2,
    STRAPI_PUBLISH = 1u << 3,
    STRAPI_UNPUBLISH = 1u << 4,
    STRAPI_ALL_ACTIONS = (1u << 5) - 1,
};

/* The action's bit for its name ("create" ...), or 0. */
unsigned strapi_action_bit(const char *name, size_t len);
/* The name of one action bit. */
const char *strapi_action_name(unsigned bit);

/* A content type whose events reach clients. */
typedef struct strapi_type {
    char *uid;            /* api::article.article */
    char *event;          /* eventPrefix, or the uid's model name: "article" */
    unsigned actions;     /* which of its actions are emitted */
    char **private_fields; /* removed from its entries (top level) */
    size_t n_private;
} strapi_type;

/* What one room may receive: per content type (index into types), a mask. */
typedef struct strapi_grant {
    char *room;           /* "role:<type>" or "token:<name>" */
    unsigned *actions;    /* n_types masks */
} strapi_grant;

/* A token known by its plaintext (compared through an HMAC with a key
 * drawn at load, so the compare takes the same time whatever matches). */
typedef struct strapi_plain_token {
    char *name;
    char *token;
} strapi_plain_token;

typedef struct strapi_config {
    char *url;            /* no trailing '/' */
    char *api_token;      /* NULL: no look-ups (JWT clients are refused) */
    char *jwt_secret;     /* NULL: the jwt strategy is off */
    int64_t jwt_leeway;
    char *nsp;
    bool anonymous;
    uint32_t role_cache_ms;
    uint32_t lookup_timeout_ms;

    char *webhook_path;   /* NULL: no webhook intake */
    char *webhook_header; /* lower-case */
    char *webhook_secret;
    uint32_t dedupe_ms;
    size_t max_body;

    strapi_type *types;
    size_t n_types;
    strapi_grant *grants; /* roles' first, then tokens' */
    size_t n_grants;

    char *salt;           /* for accessKey entries */
    struct strapi_api_token *hashed; /* name and accessKey, owned here */
    size_t n_hashed;
    strapi_plain_token *plain;
    size_t n_plain;
} strapi_config;

/* Read `block` into c.  NULL on success; otherwise the error, written to
 * err, and c holds nothing to free. */
const char *strapi_config_read(strapi_config *c, const pio_value *block, char *err, size_t cap);
void strapi_config_free(strapi_config *c);

/* The content type with this uid, or NULL. */
const strapi_type *strapi_config_type(const strapi_config *c, const char *uid);

#endif
