/*
 * emit.c - content events: Strapi's webhooks in, `<model>:<action>` out to
 * the rooms permitted them, and the same for other plugins (strapi:emit).
 *
 * The webhook (config.webhook) is a plugin route on plugio's own port.
 * Strapi signs nothing: the shared secret travels in a header of the
 * webhook's own configuration, compared here in constant time (401
 * otherwise).  The body is {event, createdAt, model, uid, entry}; only
 * entry.* events of a configured content type and action are emitted.
 *
 * One change can arrive more than once: with draft & publish, Strapi
 * 5.54 sends entry.delete for a document's draft row and again for its
 * published row (tools/test-strapi sees it), both with the same
 * documentId and content.  An event whose
 * key - uid, action, documentId and a digest of the entry's content
 * without what differs between the two rows (ids, timestamps,
 * publishedAt) - was seen within config.webhook.dedupeMs is answered 200
 * and not emitted again.  Two different saves of one document within the
 * window differ in content, so both are emitted.
 *
 * Sanitizing: password, resetPasswordToken and confirmationToken are
 * removed at every depth (a populated user relation carries them), and so
 * are createdBy and updatedBy (admin users, private in Strapi's content
 * API); a content type's privateFields go from its top level.  Strapi
 * already leaves its schema's private fields out of webhook entries; the
 * list is for what a deployment wants kept from clients on top of that.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"

/* Nesting deeper than this is cut (Strapi's populated relations are a few
 * levels). */
#define MAX_DEPTH 32

static const char *const always_private[] = {
    "password", "resetPasswordToken", "confirmationToken", "createdBy", "updatedBy",
};

static bool is_private(const strapi_type *t, const char *key, int depth)
{
    for (size_t i = 0; i < sizeof always_private / sizeof *always_private; i++)
        if (strcmp(key, always_private[i]) == 0)
            return true;
    if (depth == 0)
        for (size_t i = 0; i < t->n_private; i++)
            if (strcmp(key, t->private_fields[i]) == 0)
                return true;
    return false;
}

static void copy_sanitized(pio_out *out, const strapi_type *t, const pio_value *v, int depth)
{
    if (depth > MAX_DEPTH) {
        pio_out_null(out);
        return;
    }
    switch (pio_value_type(v)) {
    case PIO_TYPE_OBJECT: {
        pio_out_object_begin(out);
        void *cursor = NULL;
        const char *key;
        for (const pio_value *m; (m = pio_value_next(v, &cursor, &key));) {
            if (is_private(t, key, depth))
                continue;
            pio_out_key(out, key, strlen(key));
            copy_sanitized(out, t, m, depth + 1);
        }
        pio_out_object_end(out);
        break;
    }
    case PIO_TYPE_ARRAY:
        pio_out_array_begin(out);
        for (size_t i = 0; i < pio_value_count(v); i++)
            copy_sanitized(out, t, pio_value_index(v, i), depth + 1);
        pio_out_array_end(out);
        break;
    default:
        pio_out_value(out, v);
        break;
    }
}

int strapi_emit_entry(pio_ctx *ctx, const strapi_type *t, unsigned action,
                      const pio_value *entry)
{
    const strapi_config *c = &strapi_now.cfg;
    size_t index = (size_t)(t - c->types);
    const char *rooms[c->n_grants ? c->n_grants : 1];
    size_t n = 0;
    for (size_t i = 0; i < c->n_grants; i++)
        if (c->grants[i].actions[index] & action)
            rooms[n++] = c->grants[i].room;
    if (!n)
        return 0;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    pio_out_key(out, "data", 4);
    copy_sanitized(out, t, entry, 0);
    pio_out_object_end(out);
    char event[256];
    snprintf(event, sizeof event, "%s:%s", t->event, strapi_action_name(action));
    pio_select sel = {.size = sizeof sel, .nsp = c->nsp, .rooms = rooms, .n_rooms = n};
    return pio_broadcast(ctx, &sel, event, out);
}

/* ---- the webhook --------------------------------------------------------- */

/* Each returns 0, so that the functions below answer and return at once. */
static int answer(pio_http_request *req, unsigned status, const char *json)
{
    pio_http_respond(req, status, "application/json", json, strlen(json));
    return 0;
}

/* Refusals are logged at most once a second (a flood of bad requests
 * must not flood the log), with how many went unlogged in between. */
static uint64_t last_refusal_logged;
static unsigned refusals_unlogged;

static int refuse(pio_ctx *ctx, pio_http_request *req, unsigned status, const char *why)
{
    uint64_t now = strapi_clock_ms();
    if (last_refusal_logged && now - last_refusal_logged < 1000) {
        refusals_unlogged++;
    } else {
        if (refusals_unlogged)
            pio_log(ctx, PIO_LOG_WARN, "webhook from %s refused (%u): %s; %u more refused since "
                    "the last line", pio_http_address(req), status, why, refusals_unlogged);
        else
            pio_log(ctx, PIO_LOG_WARN, "webhook from %s refused (%u): %s", pio_http_address(req),
                    status, why);
        last_refusal_logged = now;
        refusals_unlogged = 0;
    }
    char body[256];
    snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);
    return answer(req, status, body);
}

static const char *string_member(const pio_value *v, const char *key)
{
    const char *s;
    size_t len;
    if (pio_value_string(pio_value_member(v, key), &s, &len) != PIO_OK || strlen(s) != len)
        return NULL;
    return s;
}

/* What differs between a document's draft and published rows of one save. */
static bool row_specific(const char *key)
{
    return strcmp(key, "id") == 0 || strcmp(key, "publishedAt") == 0 ||
           strcmp(key, "updatedAt") == 0 || strcmp(key, "createdAt") == 0;
}

/* Feed v's content to the digest: keys, and scalars as JSON text (members
 * in the order Strapi wrote them, which is its schema's for both rows). */
static void digest_value(EVP_MD_CTX *md, const pio_value *v, int depth)
{
    char scalar[256];
    size_t len = 0;
    pio_type type = pio_value_type(v);
    unsigned char tag = (unsigned char)type;
    EVP_DigestUpdate(md, &tag, 1);
    if (depth > MAX_DEPTH)
        return;
    if (type == PIO_TYPE_OBJECT) {
        void *cursor = NULL;
        const char *key;
        for (const pio_value *m; (m = pio_value_next(v, &cursor, &key));) {
            if (row_specific(key))
                continue;
            EVP_DigestUpdate(md, key, strlen(key) + 1);
            digest_value(md, m, depth + 1);
        }
    } else if (type == PIO_TYPE_ARRAY) {
        for (size_t i = 0; i < pio_value_count(v); i++)
            digest_value(md, pio_value_index(v, i), depth + 1);
    } else if (type == PIO_TYPE_STRING) {
        const char *str;
        if (pio_value_string(v, &str, &len) == PIO_OK)
            EVP_DigestUpdate(md, str, len + 1);
    } else if (pio_value_json(v, scalar, sizeof scalar, &len) == PIO_OK) {
        EVP_DigestUpdate(md, scalar, len);
    }
}

/* The event's identity across a document's draft and published rows:
 * uid|action|documentId|digest.  "" when nothing names the entry (never a
 * duplicate) or the digest fails. */
static void event_key(char *key, size_t cap, const char *uid, unsigned action,
                      const pio_value *entry)
{
    const char *doc = string_member(entry, "documentId");
    int64_t id = 0;
    char name[64];
    *key = '\0';
    if (doc)
        snprintf(name, sizeof name, "%.63s", doc);
    else if (pio_value_int64(pio_value_member(entry, "id"), &id) == PIO_OK)
        snprintf(name, sizeof name, "#%lld", (long long)id);
    else
        return;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    if (ok)
        digest_value(md, entry, 0);
    ok = ok && EVP_DigestFinal_ex(md, d, &dlen) == 1 && dlen >= 16;
    EVP_MD_CTX_free(md);
    if (!ok)
        return;
    int n = snprintf(key, cap, "%s|%s|%s|", uid, strapi_action_name(action), name);
    for (unsigned i = 0; i < 16 && n > 0 && (size_t)n + 2 < cap; i++)
        n += snprintf(key + n, cap - (size_t)n, "%02x", d[i]);
}

/* A users-permissions user changed (its role, blocked) or went: its
 * cached role goes too, so its next connection asks Strapi again (its
 * sockets already connected keep their room).  Strapi sends these when
 * the webhook has the entry events, whatever config.contentTypes says. */
static void forget_user(pio_ctx *ctx, const pio_value *body, const char *event)
{
    const char *uid = string_member(body, "uid");
    if (!uid || strcmp(uid, "plugin::users-permissions.user") != 0 ||
        (strcmp(event, "entry.update") != 0 && strcmp(event, "entry.delete") != 0))
        return;
    int64_t id;
    char key[32];
    if (pio_value_int64(pio_value_member(pio_value_member(body, "entry"), "id"), &id) != PIO_OK)
        return;
    snprintf(key, sizeof key, "%lld", (long long)id);
    if (ttl_map_get(strapi_now.shared->roles, key, strapi_clock_ms())) {
        ttl_map_remove(strapi_now.shared->roles, key);
        pio_log(ctx, PIO_LOG_INFO, "user %s changed in Strapi: its cached role is forgotten", key);
    }
}

/* Answer a parsed webhook body. */
static int take(pio_ctx *ctx, pio_http_request *req, const pio_value *body)
{
    const strapi_config *c = &strapi_now.cfg;
    const char *event = string_member(body, "event");
    const char *header = pio_http_header(req, "x-strapi-event");
    if (!event)
        event = header;
    if (!event)
        return refuse(ctx, req, 400, "no event");
    if (header && strcmp(header, event) != 0)
        return refuse(ctx, req, 400, "x-strapi-event and the body's event differ");
    forget_user(ctx, body, event);
    if (strncmp(event, "entry.", 6) != 0) {
        pio_log(ctx, PIO_LOG_DEBUG, "webhook: %s is not a content event: ignored", event);
        return answer(req, 200, "{\"ignored\":\"not an entry event\"}");
    }
    unsigned action = strapi_action_bit(event + 6, strlen(event + 6));
    const char *uid = string_member(body, "uid");
    const pio_value *entry = pio_value_member(body, "entry");
    if (!uid || pio_value_type(entry) != PIO_TYPE_OBJECT)
        return refuse(ctx, req, 400, "an entry event needs uid and entry");
    const strapi_type *t = strapi_config_type(c, uid);
    if (!action || !t || !(t->actions & action)) {
        pio_log(ctx, PIO_LOG_DEBUG, "webhook: %s of %s is not configured: ignored", event, uid);
        return answer(req, 200, "{\"ignored\":\"not configured\"}");
    }
    char key[512];
    event_key(key, sizeof key, uid, action, entry);
    if (*key && c->dedupe_ms &&
        ttl_map_seen(strapi_now.shared->seen, key, strapi_clock_ms(), c->dedupe_ms)) {
        pio_log(ctx, PIO_LOG_DEBUG, "webhook: %s already emitted", key);
        return answer(req, 200, "{\"duplicate\":true}");
    }
    int n = strapi_emit_entry(ctx, t, action, entry);
    if (n < 0) {
        ttl_map_remove(strapi_now.shared->seen, key); /* a retry may succeed */
        pio_log(ctx, PIO_LOG_ERROR, "webhook: emitting %s:%s failed: %s", t->event,
                strapi_action_name(action), pio_strerror(n));
        return answer(req, 500, "{\"error\":\"emit failed\"}");
    }
    char reply[320];
    snprintf(reply, sizeof reply, "{\"event\":\"%s:%s\",\"sockets\":%d}", t->event,
             strapi_action_name(action), n);
    pio_log(ctx, PIO_LOG_DEBUG, "webhook: %s:%s to %d sockets here", t->event,
            strapi_action_name(action), n);
    return answer(req, 200, reply);
}

static int webhook(pio_ctx *ctx, pio_http_request *req)
{
    const strapi_config *c = &strapi_now.cfg;
    if (strcmp(pio_http_method(req), "POST") != 0)
        return refuse(ctx, req, 405, "POST only");
    const char *given = pio_http_header(req, c->webhook_header);
    if (!given || !strapi_same_secret(strapi_now.token_key, given, c->webhook_secret))
        return refuse(ctx, req, 401, given ? "wrong secret" : "no secret");
    const void *data;
    size_t len;
    if (pio_http_body(req, &data, &len) != PIO_OK || len == 0)
        return refuse(ctx, req, 400, "no body");
    const pio_value *body = pio_value_parse(data, len, PIO_FORMAT_JSON);
    if (!body || pio_value_type(body) != PIO_TYPE_OBJECT) {
        pio_value_free(body);
        return refuse(ctx, req, 400, "the body is not a JSON object");
    }
    take(ctx, req, body);
    pio_value_free(body);
    return 0;
}

void strapi_on_webhook(pio_ctx *ctx, pio_http_request *req, void *ud)
{
    (void)ud;
    webhook(ctx, req);
}

/* ---- strapi:emit, for other plugins -------------------------------------- */

/* serverEvents: strapi:emit with [uid, action, entry]; acked with the
 * number of sockets reached here, or {error}. */
PIO_HANDLER(on_emit)
{
    (void)socket;
    const strapi_config *c = &strapi_now.cfg;
    const pio_value *a0 = pio_args_at(args, 0), *a1 = pio_args_at(args, 1);
    const pio_value *entry = pio_args_at(args, 2);
    const char *uid, *name, *why = NULL;
    size_t len, nlen;
    const strapi_type *t = NULL;
    unsigned action = 0;
    if (!strapi_now.ready)
        why = "not configured";
    else if (pio_value_string(a0, &uid, &len) != PIO_OK || !(t = strapi_config_type(c, uid)))
        why = "unknown content type";
    else if (pio_value_string(a1, &name, &nlen) != PIO_OK ||
             !(action = strapi_action_bit(name, nlen)) || !(t->actions & action))
        why = "action not emitted for this content type";
    else if (pio_value_type(entry) != PIO_TYPE_OBJECT)
        why = "entry must be an object";
    int n = why ? PIO_EINVAL : strapi_emit_entry(ctx, t, action, entry);
    if (n < 0 && !why)
        why = pio_strerror(n);
    if (why)
        pio_log(ctx, PIO_LOG_WARN, "strapi:emit refused: %s", why);
    if (!pio_args_wants_ack(args))
        return n < 0 ? n : PIO_OK;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    if (why) {
        pio_out_object_begin(out);
        pio_out_key(out, "error", 5);
        pio_out_cstr(out, why);
        pio_out_object_end(out);
    } else {
        pio_out_int64(out, n);
    }
    return pio_ack(args, out);
}
