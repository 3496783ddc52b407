/*
 * strapi.c - the Strapi bridge: who a client is, from Strapi's own tokens.
 *
 * Configured in YAML (config.h); named in it as
 *     middleware: [{handler: strapi:authenticate, namespace: /}]
 *     serverEvents: [{name: "strapi:emit", handler: strapi:on_emit}]
 * and its load hook routes config.webhook.path (emit.c).
 *
 * The handshake (as strapi-plugin-io's): auth {strategy, token}.
 *   - "jwt" (also a token without a strategy): a users-permissions JWT,
 *     verified here (jwt.c); the user's role is Strapi's, looked up
 *     (lookup.c) unless the cache has it, while the middleware waits
 *     (pio_middleware_defer).  The socket joins role:<type>.
 *   - "api-token": one of config.apiTokens, by Strapi's stored hash or by
 *     the token itself; the socket joins token:<name>.
 *   - no token: role:public when config.anonymous, refused otherwise.
 * The socket's data "strapi" says which: {strategy, user?, role?, token?}.
 * A refusal is the client's connect_error, "strapi: <why>".
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "plugin.h"

static const char *strapi_load(pio_ctx *ctx, void *state);
static void *strapi_unload(pio_ctx *ctx, int final);

PIO_PLUGIN("strapi", "1.0.0", .load = strapi_load, .unload = strapi_unload);

PIO_HIDDEN strapi_version strapi_now;

/* The role cache and the webhook window hold at most this many entries. */
#define MAX_CACHED 100000

uint64_t strapi_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool strapi_same_secret(const unsigned char key[32], const char *a, const char *b)
{
    unsigned char da[32], db[32];
    unsigned int la = 0, lb = 0;
    if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)a, strlen(a), da, &la) ||
        !HMAC(EVP_sha256(), key, 32, (const unsigned char *)b, strlen(b), db, &lb) || la != 32 ||
        lb != 32)
        return false;
    return CRYPTO_memcmp(da, db, 32) == 0;
}

/* ---- admitting a socket -------------------------------------------------- */

/* Join `room` and record who the socket is.  NULL, or the refusal. */
static const char *admit(pio_ctx *ctx, pio_socket *s, const char *strategy, const char *room,
                         const char *user, const char *role, const char *token)
{
    if (pio_socket_join(s, room) != PIO_OK)
        return "strapi: cannot join the role's room";
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return NULL; /* joined: the data is a courtesy */
    pio_out_object_begin(out);
    pio_out_key(out, "strategy", 8);
    pio_out_cstr(out, strategy);
    if (user) {
        pio_out_key(out, "user", 4);
        pio_out_cstr(out, user);
    }
    if (role) {
        pio_out_key(out, "role", 4);
        pio_out_cstr(out, role);
    }
    if (token) {
        pio_out_key(out, "token", 5);
        pio_out_cstr(out, token);
    }
    pio_out_object_end(out);
    if (pio_socket_data_set(s, "strapi", out) != PIO_OK)
        pio_log(ctx, PIO_LOG_WARN, "socket %s: cannot set its strapi data", pio_socket_id(s));
    return NULL;
}

static const char *admit_role(pio_ctx *ctx, pio_socket *s, const char *user, const char *role)
{
    char room[160];
    snprintf(room, sizeof room, "role:%s", role);
    return admit(ctx, s, "jwt", room, user, role, NULL);
}

/* How long Strapi's "no" about a user (unknown, blocked, no role) is
 * remembered, at most: a client retrying with the token of a deleted user
 * costs Strapi one request per this, not one per attempt.  The user's
 * webhook forgets it sooner (emit.c). */
#define REFUSAL_CACHE_MS 30000

/* What the role cache holds for a user: the role's type, or '!' and why
 * Strapi said no. */
static void remember(pio_ctx *ctx, const char *user, const char *role, const char *why)
{
    uint32_t ttl = strapi_now.cfg.role_cache_ms;
    char value[192];
    if (!role) {
        snprintf(value, sizeof value, "!%s", why);
        ttl = ttl < REFUSAL_CACHE_MS ? ttl : REFUSAL_CACHE_MS;
    }
    strapi_shared *sh = strapi_now.shared;
    if (ttl && !ttl_map_put(sh->roles, user, role ? role : value, strapi_clock_ms(), ttl))
        pio_log(ctx, PIO_LOG_WARN, "role cache full (%zu users): user %s not cached",
                ttl_map_count(sh->roles), user);
}

/* A look-up ended (or the cache answered for it): every middleware that
 * waited on it is answered. */
static void looked_up(pio_ctx *ctx, const char *user, const char *role, const char *why,
                      bool settled, const uint64_t *pending, size_t n, void *ud)
{
    (void)ud;
    if (settled)
        remember(ctx, user, role, why);
    char refusal[256] = "";
    if (!role) {
        snprintf(refusal, sizeof refusal, "strapi: role look-up failed (%s)", why);
        pio_log(ctx, PIO_LOG_WARN, "user %s: role look-up failed: %s (%zu waiting refused)", user,
                why, n);
    }
    for (size_t i = 0; i < n; i++) {
        pio_socket *s = pio_middleware_socket(pending[i]);
        if (!s)
            continue; /* gone while it waited */
        const char *no = role ? admit_role(ctx, s, user, role) : refusal;
        pio_middleware_resolve(pending[i], no);
    }
}

static const char *by_jwt(pio_ctx *ctx, pio_socket *s, const char *token)
{
    const strapi_config *c = &strapi_now.cfg;
    if (!c->jwt_secret)
        return "strapi: the jwt strategy is not configured";
    struct strapi_jwt_key key = {(const unsigned char *)c->jwt_secret, strlen(c->jwt_secret),
                                 c->jwt_leeway};
    char user[STRAPI_JWT_ID_SIZE];
    enum strapi_jwt_result r = strapi_jwt_verify(&key, token, (int64_t)time(NULL), user);
    if (r != STRAPI_JWT_OK) {
        static char why[96]; /* valid until the middleware returns */
        snprintf(why, sizeof why, "strapi: invalid token (%s)", strapi_jwt_strerror(r));
        pio_log(ctx, PIO_LOG_INFO, "socket %s from %s refused: %s", pio_socket_id(s),
                pio_socket_address(s), why + 8);
        return why;
    }
    const char *role = ttl_map_get(strapi_now.shared->roles, user, strapi_clock_ms());
    if (role && role[0] == '!') {
        static char no[256]; /* valid until the middleware returns */
        snprintf(no, sizeof no, "strapi: role look-up failed (%s)", role + 1);
        return no;
    }
    if (role)
        return admit_role(ctx, s, user, role);
    uint64_t pending = pio_middleware_defer(s);
    if (!pending)
        return "strapi: cannot wait for the role look-up";
    if (!lookups_wait(strapi_now.lookups, user, pending))
        pio_middleware_resolve(pending, "strapi: role look-up refused (too many, or a bad id)");
    return NULL; /* ignored: it waits */
}

static const char *by_api_token(pio_ctx *ctx, pio_socket *s, const char *token)
{
    const strapi_config *c = &strapi_now.cfg;
    const char *name = NULL;
    if (c->n_hashed) {
        const struct strapi_api_token *t =
            strapi_api_token_find(c->salt, token, c->hashed, c->n_hashed);
        name = t ? t->name : NULL;
    }
    for (size_t i = 0; i < c->n_plain; i++) /* every one: no early exit */
        if (strapi_same_secret(strapi_now.token_key, token, c->plain[i].token) && !name)
            name = c->plain[i].name;
    if (!name) {
        pio_log(ctx, PIO_LOG_INFO, "socket %s from %s refused: unknown API token",
                pio_socket_id(s), pio_socket_address(s));
        return "strapi: invalid API token";
    }
    char room[160];
    strapi_api_token_room(name, room, sizeof room);
    return admit(ctx, s, "api-token", room, NULL, NULL, name);
}

PIO_MIDDLEWARE(authenticate)
{
    if (!strapi_now.ready)
        return "strapi: not configured";
    const pio_value *auth = pio_socket_auth(socket);
    const char *strategy = NULL, *token = NULL;
    size_t len;
    const pio_value *v;
    if ((v = pio_value_member(auth, "strategy")) &&
        (pio_value_string(v, &strategy, &len) != PIO_OK || strlen(strategy) != len))
        return "strapi: auth.strategy must be a string";
    if ((v = pio_value_member(auth, "token")) && pio_value_type(v) != PIO_TYPE_NULL &&
        (pio_value_string(v, &token, &len) != PIO_OK || strlen(token) != len))
        return "strapi: auth.token must be a string";
    if (token && !*token)
        token = NULL;
    if (!token) {
        if (strategy && strcmp(strategy, "public") != 0)
            return "strapi: a token is required";
        if (!strapi_now.cfg.anonymous)
            return "strapi: authentication required";
        return admit(ctx, socket, "public", "role:public", NULL, "public", NULL);
    }
    if (!strategy || strcmp(strategy, "jwt") == 0)
        return by_jwt(ctx, socket, token);
    if (strcmp(strategy, "api-token") == 0)
        return by_api_token(ctx, socket, token);
    return "strapi: unknown strategy (jwt or api-token)";
}

/* ---- load and unload ----------------------------------------------------- */

static strapi_shared *shared_new(void)
{
    strapi_shared *sh = calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    sh->layout = STRAPI_SHARED_LAYOUT;
    sh->roles = ttl_map_new(MAX_CACHED);
    sh->seen = ttl_map_new(MAX_CACHED);
    if (!sh->roles || !sh->seen) {
        ttl_map_free(sh->roles);
        ttl_map_free(sh->seen);
        free(sh);
        return NULL;
    }
    return sh;
}

static void shared_free(strapi_shared *sh)
{
    if (!sh)
        return;
    ttl_map_free(sh->roles);
    ttl_map_free(sh->seen);
    free(sh->waiting);
    free(sh->roles_from);
    free(sh);
}

/* The role cache is the Strapi's it was filled from: user ids of another
 * (config.url changed by a reload) name other users. */
static void roles_of(pio_ctx *ctx, strapi_shared *sh, const char *url)
{
    if (sh->roles_from && url && strcmp(sh->roles_from, url) == 0)
        return;
    size_t n = ttl_map_count(sh->roles);
    if (n)
        pio_log(ctx, PIO_LOG_INFO, "role cache (%zu user%s) dropped: config.url is now %s", n,
                n == 1 ? "" : "s", url ? url : "unset");
    ttl_map_sweep(sh->roles, UINT64_MAX); /* everything has expired by then */
    free(sh->roles_from);
    sh->roles_from = url ? strdup(url) : NULL; /* NULL: dropped again next time */
}

/* The middleware the previous version left waiting: answered from the
 * cache, or asked again. */
static void resume_waiting(pio_ctx *ctx, strapi_shared *sh)
{
    strapi_waiting *w = sh->waiting;
    size_t n = sh->n_waiting;
    sh->waiting = NULL;
    sh->n_waiting = 0;
    if (n)
        pio_log(ctx, PIO_LOG_INFO, "%zu connection%s waiting for a role from the previous version",
                n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const char *role = ttl_map_get(sh->roles, w[i].user_id, strapi_clock_ms());
        if (role && role[0] == '!')
            looked_up(ctx, w[i].user_id, NULL, role + 1, false, &w[i].pending, 1, NULL);
        else if (role)
            looked_up(ctx, w[i].user_id, role, NULL, false, &w[i].pending, 1, NULL);
        else if (!strapi_now.cfg.jwt_secret || !lookups_wait(strapi_now.lookups, w[i].user_id, w[i].pending))
            pio_middleware_resolve(w[i].pending, "strapi: role look-up refused after a reload");
    }
    free(w);
}

static const char *strapi_load(pio_ctx *ctx, void *state)
{
    static char err[512];
    strapi_config cfg;
    if (strapi_config_read(&cfg, pio_ctx_config(ctx), err, sizeof err))
        return err;
    strapi_shared *sh = state;
    if (sh && sh->layout != STRAPI_SHARED_LAYOUT) {
        pio_log(ctx, PIO_LOG_WARN, "the previous version's state has another layout: dropped");
        sh = NULL;
    }
    bool fresh = !sh;
    if (fresh && !(sh = shared_new())) {
        strapi_config_free(&cfg);
        return "out of memory";
    }
    strapi_now = (strapi_version){.cfg = cfg, .shared = sh};
    const char *no = NULL;
    /* libcurl is this plugin's, not the host's: when the last version is
     * unloaded it would go too, under a resolver thread curl may leave
     * running after curl_multi_cleanup.  Made permanent here (a no-op
     * after the first load; libcrypto is so already). */
    if (!dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
        pio_log(ctx, PIO_LOG_WARN, "cannot pin libcurl in memory: %s", dlerror());
    if (RAND_bytes(strapi_now.token_key, sizeof strapi_now.token_key) != 1)
        no = "cannot draw a random key (libcrypto)";
    else if (!(strapi_now.lookups = lookups_new(ctx, &strapi_now.cfg, looked_up, NULL)))
        no = "cannot start libcurl";
    if (!no && cfg.webhook_path) {
        int rc = pio_http_route(ctx, cfg.webhook_path, cfg.max_body, strapi_on_webhook, NULL);
        if (rc != PIO_OK) {
            snprintf(err, sizeof err, "config.webhook.path %s cannot be routed: %s",
                     cfg.webhook_path, rc == PIO_ESTATE ? "the host serves it already"
                                                        : pio_strerror(rc));
            no = err;
        }
    }
    if (no) {
        lookups_free(strapi_now.lookups);
        strapi_config_free(&strapi_now.cfg);
        if (fresh)
            shared_free(sh);
        strapi_now = (strapi_version){0};
        return no; /* the state stays the previous version's */
    }
    strapi_now.ready = true;
    roles_of(ctx, sh, strapi_now.cfg.url);
    resume_waiting(ctx, sh);
    pio_log(ctx, PIO_LOG_INFO,
            "strapi bridge on %s: %zu content types, %zu rooms with permissions, jwt %s, "
            "webhook %s",
            cfg.nsp, cfg.n_types, cfg.n_grants, cfg.jwt_secret ? "on" : "off",
            cfg.webhook_path ? cfg.webhook_path : "off");
    return NULL;
}

static void keep_waiting(const char *user, uint64_t pending, void *ud)
{
    strapi_shared *sh = ud;
    strapi_waiting *grown = realloc(sh->waiting, (sh->n_waiting + 1) * sizeof *grown);
    if (!grown) {
        pio_middleware_resolve(pending, "strapi: out of memory during a reload");
        return;
    }
    sh->waiting = grown;
    snprintf(grown[sh->n_waiting].user_id, sizeof grown->user_id, "%s", user);
    grown[sh->n_waiting++].pending = pending;
}

static void refuse_waiting(const char *user, uint64_t pending, void *ud)
{
    (void)user;
    (void)ud;
    pio_middleware_resolve(pending, "strapi: the bridge stopped");
}

static void *strapi_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    strapi_shared *sh = strapi_now.shared;
    if (strapi_now.lookups)
        lookups_each_waiting(strapi_now.lookups, final ? refuse_waiting : keep_waiting, sh);
    lookups_free(strapi_now.lookups);
    strapi_config_free(&strapi_now.cfg);
    strapi_now = (strapi_version){0};
    if (final) {
        shared_free(sh);
        return NULL;
    }
    return sh;
}
