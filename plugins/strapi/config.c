/*
 * config.c - reading the strapi plugin's `config:` block (see config.h).
 *
 * The block is walked key by key; the first error is the one reported,
 * with the key's path (config.roles.editor: ...), and a load that fails
 * leaves the previous version serving.  Secrets come either from the block
 * or from a named environment variable (strapi_secret_resolve, jwt.c), so
 * a configuration in version control need not hold them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

typedef struct reader {
    char *err;
    size_t cap;
    bool failed;
} reader;

static void fail(reader *r, const char *fmt, ...) PIO_PRINTF(2, 3);
static void fail(reader *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->cap, fmt, ap);
        va_end(ap);
    }
    r->failed = true;
}

static const char *const action_names[] = {"create", "update", "delete", "publish", "unpublish"};

unsigned strapi_action_bit(const char *name, size_t len)
{
    for (unsigned i = 0; i < sizeof action_names / sizeof *action_names; i++)
        if (strlen(action_names[i]) == len && memcmp(action_names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

const char *strapi_action_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof action_names / sizeof *action_names; i++)
        if (bit == 1u << i)
            return action_names[i];
    return "?";
}

/* A non-empty string without NUL bytes (borrowed), or NULL after fail. */
static const char *string_of(reader *r, const char *path, const pio_value *v)
{
    const char *s;
    size_t len;
    if (pio_value_string(v, &s, &len) != PIO_OK || len == 0 || strlen(s) != len) {
        fail(r, "%s must be a non-empty string", path);
        return NULL;
    }
    return s;
}

static char *copy_of(reader *r, const char *path, const pio_value *v)
{
    const char *s = string_of(r, path, v);
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        fail(r, "%s: out of memory", path);
    return copy;
}

static int64_t integer_of(reader *r, const char *path, const pio_value *v, int64_t min,
                          int64_t max)
{
    int64_t n;
    if (pio_value_int64(v, &n) != PIO_OK || n < min || n > max) {
        fail(r, "%s must be an integer from %lld to %lld", path, (long long)min, (long long)max);
        return min;
    }
    return n;
}

static bool bool_of(reader *r, const char *path, const pio_value *v)
{
    int on = 0;
    if (pio_value_bool(v, &on) != PIO_OK)
        fail(r, "%s must be true or false", path);
    return on;
}

/* A secret given as `<key>` or `<key>Env` in `block` (exactly one of them;
 * neither: NULL, unless required). */
static char *secret_of(reader *r, const pio_value *block, const char *prefix, const char *key,
                       bool required)
{
    char env_key[64];
    snprintf(env_key, sizeof env_key, "%sEnv", key);
    const pio_value *lit = pio_value_member(block, key), *env = pio_value_member(block, env_key);
    if (!lit && !env) {
        if (required)
            fail(r, "%s%s (or %s%s) is required", prefix, key, prefix, env_key);
        return NULL;
    }
    char path[128];
    snprintf(path, sizeof path, "%s%s", prefix, lit ? key : env_key);
    const char *l = lit ? string_of(r, path, lit) : NULL;
    const char *e = env ? string_of(r, path, env) : NULL;
    if (r->failed)
        return NULL;
    char *out;
    const char *why;
    if (strapi_secret_resolve(l, e, &out, &why) != 0) {
        if (lit && env)
            fail(r, "%s%s: give %s or %s, not both", prefix, key, key, env_key);
        else
            fail(r, "%s: %s%s%s", path, why, e ? " - " : "", e ? e : "");
        return NULL;
    }
    return out;
}

/* One of the block's keys must be in `known` (a comma-separated list). */
static void check_keys(reader *r, const pio_value *block, const char *path, const char *known)
{
    void *cursor = NULL;
    const char *key;
    for (const pio_value *v; !r->failed && (v = pio_value_next(block, &cursor, &key));) {
        size_t klen = strlen(key);
        bool found = false;
        for (const char *k = known; *k && !found;) {
            size_t len = strcspn(k, ",");
            found = len == klen && memcmp(k, key, len) == 0;
            k += len + (k[len] == ',');
        }
        if (!found)
            fail(r, "%s: unknown key '%s' (known: %s)", path, key, known);
    }
}

/* "*" or a list of action names, as a mask. */
static unsigned actions_of(reader *r, const char *path, const pio_value *v)
{
    const char *s;
    size_t len;
    if (pio_value_string(v, &s, &len) == PIO_OK && len == 1 && *s == '*')
        return STRAPI_ALL_ACTIONS;
    if (pio_value_type(v) != PIO_TYPE_ARRAY || pio_value_count(v) == 0) {
        fail(r, "%s must be \"*\" or a list of actions (create, update, delete, publish, "
                "unpublish)", path);
        return 0;
    }
    unsigned mask = 0;
    for (size_t i = 0; i < pio_value_count(v); i++) {
        const pio_value *a = pio_value_index(v, i);
        unsigned bit = 0;
        if (pio_value_string(a, &s, &len) == PIO_OK)
            bit = strapi_action_bit(s, len);
        if (!bit) {
            fail(r, "%s[%zu] must be one of create, update, delete, publish, unpublish", path, i);
            return 0;
        }
        mask |= bit;
    }
    return mask;
}

static void read_type(reader *r, strapi_type *t, size_t i, const pio_value *v)
{
    char path[96];
    snprintf(path, sizeof path, "config.contentTypes[%zu]", i);
    const pio_value *uid = v;
    t->actions = STRAPI_ALL_ACTIONS;
    if (pio_value_type(v) == PIO_TYPE_OBJECT) {
        check_keys(r, v, path, "uid,actions,eventPrefix,privateFields");
        uid = pio_value_member(v, "uid");
        if (!uid) {
            fail(r, "%s.uid is required", path);
            return;
        }
        const pio_value *m;
        char sub[160];
        if ((m = pio_value_member(v, "actions"))) {
            snprintf(sub, sizeof sub, "%s.actions", path);
            t->actions = actions_of(r, sub, m);
        }
        if ((m = pio_value_member(v, "eventPrefix"))) {
            snprintf(sub, sizeof sub, "%s.eventPrefix", path);
            t->event = copy_of(r, sub, m);
        }
        if ((m = pio_value_member(v, "privateFields"))) {
            snprintf(sub, sizeof sub, "%s.privateFields", path);
            size_t n = pio_value_count(m);
            if (pio_value_type(m) != PIO_TYPE_ARRAY) {
                fail(r, "%s must be a list of field names", sub);
                return;
            }
            t->private_fields = calloc(n ? n : 1, sizeof *t->private_fields);
            if (!t->private_fields) {
                fail(r, "%s: out of memory", sub);
                return;
            }
            for (size_t k = 0; k < n && !r->failed; k++) {
                snprintf(sub, sizeof sub, "%s.privateFields[%zu]", path, k);
                t->private_fields[t->n_private++] = copy_of(r, sub, pio_value_index(m, k));
            }
        }
    }
    char sub[160];
    snprintf(sub, sizeof sub, "%s%s", path, uid == v ? "" : ".uid");
    t->uid = copy_of(r, sub, uid);
    if (r->failed)
        return;
    /* api::article.article -> article; plugin::users-permissions.user -> user */
    const char *dot = strrchr(t->uid, '.');
    const char *colons = strstr(t->uid, "::");
    if (!colons || !dot || dot < colons || !dot[1]) {
        fail(r, "%s must be a content type uid such as api::article.article", sub);
        return;
    }
    if (!t->event && !(t->event = strdup(dot + 1)))
        fail(r, "%s: out of memory", sub);
}

static void read_types(reader *r, strapi_config *c, const pio_value *v)
{
    if (pio_value_type(v) != PIO_TYPE_ARRAY) {
        fail(r, "config.contentTypes must be a list of uids or {uid, actions, eventPrefix}");
        return;
    }
    size_t n = pio_value_count(v);
    c->types = calloc(n ? n : 1, sizeof *c->types);
    if (!c->types) {
        fail(r, "config.contentTypes: out of memory");
        return;
    }
    for (size_t i = 0; i < n && !r->failed; i++) {
        read_type(r, &c->types[i], i, pio_value_index(v, i));
        c->n_types++;
        for (size_t j = 0; j < i && !r->failed; j++)
            if (strcmp(c->types[j].uid, c->types[i].uid) == 0)
                fail(r, "config.contentTypes[%zu]: %s is listed twice", i, c->types[i].uid);
    }
}

const strapi_type *strapi_config_type(const strapi_config *c, const char *uid)
{
    for (size_t i = 0; i < c->n_types; i++)
        if (strcmp(c->types[i].uid, uid) == 0)
            return &c->types[i];
    return NULL;
}

/* A room's permissions: "*" or {uid: "*" | [actions]}. */
static void read_grant(reader *r, strapi_config *c, const char *path, const char *room,
                       const pio_value *v)
{
    strapi_grant *g = &c->grants[c->n_grants];
    g->actions = calloc(c->n_types ? c->n_types : 1, sizeof *g->actions);
    g->room = strdup(room);
    c->n_grants++;
    if (!g->actions || !g->room) {
        fail(r, "%s: out of memory", path);
        return;
    }
    for (size_t i = 0; i < c->n_grants - 1; i++)
        if (strcmp(c->grants[i].room, room) == 0)
            fail(r, "%s: room %s is given permissions twice", path, room);
    const char *s;
    size_t len;
    if (pio_value_string(v, &s, &len) == PIO_OK && len == 1 && *s == '*') {
        for (size_t i = 0; i < c->n_types; i++)
            g->actions[i] = c->types[i].actions;
        return;
    }
    if (pio_value_type(v) != PIO_TYPE_OBJECT) {
        fail(r, "%s must be \"*\" or {<content type uid>: \"*\" | [actions]}", path);
        return;
    }
    void *cursor = NULL;
    const char *uid;
    for (const pio_value *m; !r->failed && (m = pio_value_next(v, &cursor, &uid));) {
        char sub[192];
        snprintf(sub, sizeof sub, "%s.%s", path, uid);
        const strapi_type *t = strapi_config_type(c, uid);
        if (!t) {
            fail(r, "%s: %s is not in config.contentTypes", sub, uid);
            return;
        }
        unsigned mask = actions_of(r, sub, m);
        if (pio_value_type(m) == PIO_TYPE_STRING) /* "*": what the type emits */
            mask &= t->actions;
        if (mask & ~t->actions)
            fail(r, "%s: %s emits no %s (see its actions in config.contentTypes)", sub, uid,
                 strapi_action_name(mask & ~t->actions & -(mask & ~t->actions)));
        g->actions[t - c->types] = mask;
    }
}

static void read_roles(reader *r, strapi_config *c, const pio_value *v)
{
    if (pio_value_type(v) != PIO_TYPE_OBJECT) {
        fail(r, "config.roles must be {<role type>: <permissions>}");
        return;
    }
    void *cursor = NULL;
    const char *type;
    for (const pio_value *m; !r->failed && (m = pio_value_next(v, &cursor, &type));) {
        char path[160], room[160];
        snprintf(path, sizeof path, "config.roles.%s", type);
        if (!*type || strlen(type) > 100) {
            fail(r, "%s: a role type is 1 to 100 characters", path);
            return;
        }
        snprintf(room, sizeof room, "role:%s", type);
        read_grant(r, c, path, room, m);
    }
}

static void read_token(reader *r, strapi_config *c, size_t i, const pio_value *v)
{
    char path[96], sub[160];
    snprintf(path, sizeof path, "config.apiTokens.tokens[%zu]", i);
    if (pio_value_type(v) != PIO_TYPE_OBJECT) {
        fail(r, "%s must be {name, accessKey | token | tokenEnv, permissions}", path);
        return;
    }
    check_keys(r, v, path, "name,accessKey,token,tokenEnv,permissions");
    snprintf(sub, sizeof sub, "%s.name", path);
    const pio_value *name = pio_value_member(v, "name");
    if (!name) {
        fail(r, "%s is required", sub);
        return;
    }
    char *owned = copy_of(r, sub, name);
    if (!owned)
        return;
    char room[160];
    if (strapi_api_token_room(owned, room, sizeof room) != 0) {
        fail(r, "%s is too long", sub);
        free(owned);
        return;
    }
    const pio_value *key = pio_value_member(v, "accessKey");
    snprintf(sub, sizeof sub, "%s.", path);
    if (key) {
        if (pio_value_member(v, "token") || pio_value_member(v, "tokenEnv")) {
            fail(r, "%s: give accessKey or token, not both", path);
            free(owned);
            return;
        }
        snprintf(sub, sizeof sub, "%s.accessKey", path);
        const char *hash = string_of(r, sub, key);
        if (hash && strlen(hash) != 128)
            fail(r, "%s must be the 128 hex digits Strapi stores", sub);
        if (!c->salt)
            fail(r, "%s needs config.apiTokens.salt (or saltEnv)", sub);
        char *h = r->failed ? NULL : strdup(hash);
        if (!h) {
            fail(r, "%s: out of memory", sub);
            free(owned);
            return;
        }
        c->hashed[c->n_hashed++] = (struct strapi_api_token){owned, h};
    } else {
        char *plain = secret_of(r, v, sub, "token", true);
        if (!plain) {
            free(owned);
            return;
        }
        c->plain[c->n_plain++] = (strapi_plain_token){owned, plain};
    }
    const pio_value *perms = pio_value_member(v, "permissions");
    snprintf(sub, sizeof sub, "%s.permissions", path);
    if (!perms)
        fail(r, "%s is required", sub);
    else
        read_grant(r, c, sub, room, perms);
}

static void read_api_tokens(reader *r, strapi_config *c, const pio_value *v)
{
    if (pio_value_type(v) != PIO_TYPE_OBJECT) {
        fail(r, "config.apiTokens must be {salt | saltEnv, tokens: [...]}");
        return;
    }
    check_keys(r, v, "config.apiTokens", "salt,saltEnv,tokens");
    c->salt = secret_of(r, v, "config.apiTokens.", "salt", false);
    const pio_value *list = pio_value_member(v, "tokens");
    if (r->failed || !list)
        return;
    if (pio_value_type(list) != PIO_TYPE_ARRAY) {
        fail(r, "config.apiTokens.tokens must be a list");
        return;
    }
    size_t n = pio_value_count(list);
    c->hashed = calloc(n ? n : 1, sizeof *c->hashed);
    c->plain = calloc(n ? n : 1, sizeof *c->plain);
    if (!c->hashed || !c->plain) {
        fail(r, "config.apiTokens.tokens: out of memory");
        return;
    }
    for (size_t i = 0; i < n && !r->failed; i++)
        read_token(r, c, i, pio_value_index(list, i));
}

static void read_webhook(reader *r, strapi_config *c, const pio_value *v)
{
    if (pio_value_type(v) != PIO_TYPE_OBJECT) {
        fail(r, "config.webhook must be {path, header, secret | secretEnv, dedupeMs, maxBody}");
        return;
    }
    check_keys(r, v, "config.webhook", "path,header,secret,secretEnv,dedupeMs,maxBody");
    const pio_value *m;
    if (!(m = pio_value_member(v, "path")))
        fail(r, "config.webhook.path is required");
    else if ((c->webhook_path = copy_of(r, "config.webhook.path", m)) && c->webhook_path[0] != '/')
        fail(r, "config.webhook.path must begin with '/'");
    if ((m = pio_value_member(v, "header"))) {
        free(c->webhook_header);
        c->webhook_header = copy_of(r, "config.webhook.header", m);
    }
    c->webhook_secret = secret_of(r, v, "config.webhook.", "secret", true);
    if ((m = pio_value_member(v, "dedupeMs")))
        c->dedupe_ms = (uint32_t)integer_of(r, "config.webhook.dedupeMs", m, 0, 3600000);
    if ((m = pio_value_member(v, "maxBody")))
        c->max_body = (size_t)integer_of(r, "config.webhook.maxBody", m, 1024, 64 << 20);
}

#define KNOWN_KEYS                                                                             \
    "url,apiToken,apiTokenEnv,jwtSecret,jwtSecretEnv,jwtLeewaySeconds,namespace,anonymous,"    \
    "roleCacheMs,lookupTimeoutMs,webhook,contentTypes,roles,apiTokens"

static void read_block(reader *r, strapi_config *c, const pio_value *b)
{
    check_keys(r, b, "config", KNOWN_KEYS);
    const pio_value *m;
    if ((m = pio_value_member(b, "url"))) {
        c->url = copy_of(r, "config.url", m);
        if (c->url && strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
            fail(r, "config.url must begin with http:// or https://");
        while (c->url && strlen(c->url) > 8 && c->url[strlen(c->url) - 1] == '/')
            c->url[strlen(c->url) - 1] = '\0';
    }
    c->api_token = secret_of(r, b, "config.", "apiToken", false);
    c->jwt_secret = secret_of(r, b, "config.", "jwtSecret", false);
    if ((m = pio_value_member(b, "jwtLeewaySeconds")))
        c->jwt_leeway = integer_of(r, "config.jwtLeewaySeconds", m, 0, 3600);
    if ((m = pio_value_member(b, "namespace"))) {
        free(c->nsp);
        if ((c->nsp = copy_of(r, "config.namespace", m)) && c->nsp[0] != '/')
            fail(r, "config.namespace must begin with '/'");
    }
    if ((m = pio_value_member(b, "anonymous")))
        c->anonymous = bool_of(r, "config.anonymous", m);
    if ((m = pio_value_member(b, "roleCacheMs")))
        c->role_cache_ms = (uint32_t)integer_of(r, "config.roleCacheMs", m, 0, 86400000);
    if ((m = pio_value_member(b, "lookupTimeoutMs")))
        c->lookup_timeout_ms = (uint32_t)integer_of(r, "config.lookupTimeoutMs", m, 100, 600000);
    if (r->failed)
        return;
    if ((m = pio_value_member(b, "contentTypes")))
        read_types(r, c, m);
    if (r->failed)
        return;
    /* Every role and token is one grant at most. */
    const pio_value *roles = pio_value_member(b, "roles"), *tokens = pio_value_member(b, "apiTokens");
    size_t n = pio_value_count(roles) + pio_value_count(pio_value_member(tokens, "tokens"));
    c->grants = calloc(n ? n : 1, sizeof *c->grants);
    if (!c->grants)
        fail(r, "config: out of memory");
    if (!r->failed && roles)
        read_roles(r, c, roles);
    if (!r->failed && tokens)
        read_api_tokens(r, c, tokens);
    if (!r->failed && (m = pio_value_member(b, "webhook")))
        read_webhook(r, c, m);
    if (r->failed)
        return;
    if (c->jwt_secret && !(c->url && c->api_token))
        fail(r, "config.jwtSecret needs config.url and config.apiToken: a user's role is looked "
                "up in Strapi");
    if (c->webhook_path && !c->n_types)
        fail(r, "config.webhook needs config.contentTypes: no content event would be emitted");
}

const char *strapi_config_read(strapi_config *c, const pio_value *block, char *err, size_t cap)
{
    reader r = {err, cap, false};
    memset(c, 0, sizeof *c);
    c->nsp = strdup("/");
    c->webhook_header = strdup("authorization");
    c->role_cache_ms = 60000;
    c->lookup_timeout_ms = 5000;
    c->dedupe_ms = 2000;
    c->max_body = 1 << 20;
    if (!c->nsp || !c->webhook_header)
        fail(&r, "config: out of memory");
    else
        read_block(&r, c, block);
    if (!r.failed && c->webhook_header)
        for (char *p = c->webhook_header; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    if (r.failed) {
        strapi_config_free(c);
        return err;
    }
    return NULL;
}

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void strapi_config_free(strapi_config *c)
{
    free(c->url);
    free_secret(c->api_token);
    free_secret(c->jwt_secret);
    free(c->nsp);
    free(c->webhook_path);
    free(c->webhook_header);
    free_secret(c->webhook_secret);
    for (size_t i = 0; i < c->n_types; i++) {
        free(c->types[i].uid);
        free(c->types[i].event);
        for (size_t k = 0; k < c->types[i].n_private; k++)
            free(c->types[i].private_fields[k]);
        free(c->types[i].private_fields);
    }
    free(c->types);
    for (size_t i = 0; i < c->n_grants; i++) {
        free(c->grants[i].room);
        free(c->grants[i].actions);
    }
    free(c->grants);
    free_secret(c->salt);
    for (size_t i = 0; i < c->n_hashed; i++) {
        free((char *)c->hashed[i].name);
        free((char *)c->hashed[i].hash);
    }
    free(c->hashed);
    for (size_t i = 0; i < c->n_plain; i++) {
        free(c->plain[i].name);
        free_secret(c->plain[i].token);
    }
    free(c->plain);
    memset(c, 0, sizeof *c);
}
