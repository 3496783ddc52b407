/*
 * redis-adapter - joins this plugio server to other socket.io servers
 * through Redis pub/sub, with the wire protocol of the classic
 * @socket.io/redis-adapter (8.x; design/REDIS-ADAPTER.md).  Node.js
 * socket.io servers using that adapter, other plugio servers, and
 * @socket.io/redis-emitter share one cluster:
 *
 *     plugins:
 *       redis:
 *         path: ../build/plugins/redis-adapter/libredis-adapter.so
 *         config: { host: 127.0.0.1, port: 6379, key: socket.io }
 *     hooks:
 *       init: redis:init     # optional: the load hook starts it too
 *
 * (config.h lists every key.)  The host delivers to its own sockets first
 * and then calls this adapter, which only publishes; what other servers
 * publish is delivered here with PIO_SELECT_LOCAL, so it never goes round
 * again.  Per namespace N, with key K, this server subscribes to
 * PSUBSCRIBE K#N#* (broadcasts) and SUBSCRIBE K-request#N#,
 * K-response#N# and K-response#N#<uid># - once each, because every Node
 * server counts the subscribers of K-request#N# and waits for that many
 * answers.
 *
 * Two connections: the subscriber, and the publisher (PUBLISH, PUBSUB
 * NUMSUB).  When Redis is away this server's own clients are served as
 * before, what would be published is dropped and counted (never queued
 * without bound), a request to the others completes at once with
 * PIO_EUNREACHABLE, and both connections come back by themselves (conn.c);
 * each change is logged once.
 *
 * Reloading this plugin's .so: hiredis keeps pointers to this version's
 * callbacks, so a version closes its connections in unload (their pending
 * callbacks run there, in its own code) and hands over only the uids and
 * the counters; the next version reads the config block, installs the
 * adapter again and reconnects.  Between the two, for the few
 * milliseconds a reload takes, this server is not subscribed: what the
 * others publish then is not heard (Redis pub/sub keeps nothing), and what
 * this server publishes is dropped and counted.  Keeping the uids makes
 * the server the same one to the others across the gap.  One thing does
 * not cross it: a client's ack to a broadcast another server asked (type
 * 7) that comes after the reload reaches the old version's callback, which
 * has no connection left to relay it with; the asker counts it missing.
 */
#include "adapter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ra_load(pio_ctx *ctx, void *state);
static void *ra_unload(pio_ctx *ctx, int final);

PIO_PLUGIN("redis-adapter", "1.0.0", .load = ra_load, .unload = ra_unload);

PIO_INIT(init);

/* Past this many bytes written to hiredis but not yet to Redis, messages
 * are dropped (and counted) rather than buffered: Redis is not keeping
 * up, and a queue without a bound would take the host's memory. */
#define MAX_BACKLOG (64u << 20)

/* What one version hands to the next (see the top of this file).  The
 * next version may be built from other sources: a change to this layout
 * changes the magic, and a version refuses a state it cannot read (the
 * host then gives it back to the version that made it). */
#define HANDOVER_MAGIC 0x52414431u /* "RAD1" */

typedef struct handover_nsp {
    char *name; /* malloc'ed; owned by the handover */
    char uid[RA_UID_LEN + 1];
} handover_nsp;

typedef struct handover {
    uint32_t magic;
    uint32_t size; /* sizeof(handover) */
    ra_stats stats;
    int ever_online;
    size_t n_nsps;
    handover_nsp nsps[];
} handover;

/* This version's adapter: unload gets no state argument. */
static ra_adapter *the_adapter;
/* init's and load's refusal, valid after they return. */
static char refusal[256];

/* ---- helpers for publish.c and receive.c -------------------------------- */

ra_nsp *ra_nsp_find(ra_adapter *a, const char *name)
{
    for (ra_nsp *ns = a->nsps; ns; ns = ns->next)
        if (strcmp(ns->name, name) == 0)
            return ns;
    return NULL;
}

ra_adapter *ra_current(void)
{
    return the_adapter;
}

int ra_online(const ra_adapter *a)
{
    return a->pub.up && a->sub.up;
}

int ra_nsp_ready(const ra_adapter *a, const ra_nsp *ns)
{
    return a->sub.up && ra_subs_ready(&a->subs, ns->ch.request);
}

static void on_publish_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    const redisReply *r = reply;
    ra_adapter *a = privdata;
    if (r && r->type == REDIS_REPLY_ERROR)
        pio_log(a->ctx, PIO_LOG_DEBUG, "PUBLISH: %s", r->str);
}

int ra_publish(ra_adapter *a, const char *channel, size_t channel_len, const void *payload,
               size_t len)
{
    if (!a->pub.up) {
        a->stats.dropped++;
        return -1;
    }
    size_t backlog = ra_conn_backlog(&a->pub);
    if (backlog > MAX_BACKLOG) {
        if (!a->behind)
            pio_log(a->ctx, PIO_LOG_WARN,
                    "redis at %s is not keeping up (%zu bytes waiting): dropping messages for "
                    "the other servers",
                    a->where, backlog);
        a->behind = 1;
        a->stats.dropped++;
        return -1;
    }
    if (a->behind) {
        pio_log(a->ctx, PIO_LOG_INFO, "redis at %s caught up; %" PRIu64 " messages dropped so far",
                a->where, a->stats.dropped);
        a->behind = 0;
    }
    if (ra_conn_command(&a->pub, on_publish_reply, a, "PUBLISH %b %b", channel, channel_len,
                        payload, len) != 0) {
        a->stats.dropped++;
        return -1;
    }
    a->stats.published++;
    return 0;
}

void ra_publish_response(ra_adapter *a, const ra_nsp *ns, const char *requester_uid,
                         size_t requester_uid_len, const ra_buf *payload)
{
    if (payload->failed) {
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a response to %.*s is not sent",
                (int)requester_uid_len, requester_uid);
        return;
    }
    if (!a->cfg.specific_response_channel || !requester_uid) {
        ra_publish(a, ns->ch.response, strlen(ns->ch.response), payload->data, payload->len);
        return;
    }
    ra_buf channel = RA_BUF_INIT;
    ra_channel_response_to(&channel, &ns->ch, requester_uid, requester_uid_len);
    if (!channel.failed)
        ra_publish(a, channel.data, channel.len, payload->data, payload->len);
    else
        a->stats.dropped++;
    ra_buf_free(&channel);
}

int ra_value_json(ra_buf *b, const pio_value *v)
{
    size_t len = 0;
    char *at = ra_buf_reserve(b, 256);
    if (!at)
        return -1;
    int rc = pio_value_json(v, at, b->cap - b->len, &len);
    if (rc == PIO_ENOSPACE) { /* len is the size it needs */
        if (!(at = ra_buf_reserve(b, len)))
            return -1;
        rc = pio_value_json(v, at, len + 1, &len);
    }
    if (rc != PIO_OK)
        return -1;
    b->len += len;
    return 0;
}

int ra_value_msgpack(ra_buf *b, const pio_value *v)
{
    size_t len = 0;
    char *at = ra_buf_reserve(b, 256);
    if (!at)
        return -1;
    int rc = pio_value_msgpack(v, at, b->cap - b->len, &len);
    if (rc == PIO_ENOSPACE) {
        if (!(at = ra_buf_reserve(b, len)))
            return -1;
        rc = pio_value_msgpack(v, at, len, &len);
    }
    if (rc != PIO_OK)
        return -1;
    b->len += len;
    return 0;
}

/* ---- the subscriber ----------------------------------------------------- */

static int reply_is(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

static int reply_strings(const redisReply *r, size_t from)
{
    for (size_t i = from; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    return 1;
}

/* ["subscribe" | "unsubscribe", channel, count]: Redis confirms one
 * channel of a (UN)SUBSCRIBE (each to the callback the channel was
 * subscribed with).  Only request channels are recorded in a->subs. */
static void on_confirmation(ra_adapter *a, const redisReply *r)
{
    const redisReply *channel = r->element[1];
    if ((reply_is(r->element[0], "subscribe") || reply_is(r->element[0], "unsubscribe")) &&
        ra_subs_confirmed(&a->subs, channel->str, channel->len))
        ra_requests_release(a, channel->str, channel->len);
}

/* Every message and subscription reply on the subscriber connection.
 * The namespace is found by name, not through privdata, so that a
 * namespace can go while Redis still has messages for it in flight. */
static void on_sub_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    ra_adapter *a = privdata;
    const redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
        r->element[2]->type == REDIS_REPLY_INTEGER) {
        on_confirmation(a, r);
        return;
    }
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || !reply_strings(r, 0))
        return; /* a reply-less teardown, or a pattern's (un)subscription */
    if (r->elements == 4 && reply_is(r->element[0], "pmessage")) {
        const redisReply *pattern = r->element[1], *channel = r->element[2];
        for (ra_nsp *ns = a->nsps; ns; ns = ns->next) {
            if (strlen(ns->ch.pattern) == pattern->len &&
                memcmp(ns->ch.pattern, pattern->str, pattern->len) == 0) {
                a->stats.received++;
                ra_on_broadcast(a, ns, channel->str, channel->len, r->element[3]->str,
                                r->element[3]->len);
                return;
            }
        }
    } else if (r->elements == 3 && reply_is(r->element[0], "message")) {
        const redisReply *channel = r->element[1], *payload = r->element[2];
        for (ra_nsp *ns = a->nsps; ns; ns = ns->next) {
            if (reply_is(channel, ns->ch.request)) {
                a->stats.received++;
                ra_on_request(a, ns, payload->str, payload->len);
                return;
            }
            if (reply_is(channel, ns->ch.response) || reply_is(channel, ns->ch.own_response)) {
                a->stats.received++;
                ra_on_response(a, ns, payload->str, payload->len);
                return;
            }
        }
    }
}

/* The pattern first, then the three channels in one command: when Redis
 * confirms the request channel, all of them are subscribed. */
static void subscribe(ra_adapter *a, const ra_nsp *ns)
{
    const ra_channels *ch = &ns->ch;
    if (ra_conn_command(&a->sub, on_sub_message, a, "PSUBSCRIBE %b", ch->pattern,
                        strlen(ch->pattern)) != 0 ||
        ra_conn_command(&a->sub, on_sub_message, a, "SUBSCRIBE %b %b %b", ch->request,
                        strlen(ch->request), ch->response, strlen(ch->response),
                        ch->own_response, strlen(ch->own_response)) != 0)
        pio_log(a->ctx, PIO_LOG_ERROR,
                "cannot subscribe to the channels of %s (out of memory): it stays unheard, "
                "and its requests to the others wait out their time, until the next "
                "reconnection",
                ns->name);
    else if (ra_subs_sent(&a->subs, ch->request, 1) != 0)
        pio_log(a->ctx, PIO_LOG_ERROR,
                "out of memory: %s's requests to the others wait out their time until the "
                "next reconnection",
                ns->name);
}

static void unsubscribe(ra_adapter *a, const ra_nsp *ns)
{
    const ra_channels *ch = &ns->ch;
    /* (P)UNSUBSCRIBE has no reply of its own in hiredis: each channel's
     * confirmation goes to the callback it was subscribed with. */
    ra_conn_command(&a->sub, NULL, NULL, "PUNSUBSCRIBE %b", ch->pattern, strlen(ch->pattern));
    if (ra_conn_command(&a->sub, NULL, NULL, "UNSUBSCRIBE %b %b %b", ch->request,
                        strlen(ch->request), ch->response, strlen(ch->response),
                        ch->own_response, strlen(ch->own_response)) == 0)
        ra_subs_sent(&a->subs, ch->request, 0); /* a namespace of that name made again
                                                   waits for both confirmations */
}

/* ---- connection state --------------------------------------------------- */

static void state_changed(ra_adapter *a, ra_conn *c)
{
    int online = ra_online(a);
    if (online && !a->online) {
        uint64_t dropped = a->stats.dropped - a->stats.dropped_at_loss;
        if (a->reloaded)
            pio_log(a->ctx, PIO_LOG_INFO,
                    "reconnected to redis at %s after the reload (%" PRIu64
                    " messages dropped meanwhile)",
                    a->where, dropped);
        else if (a->ever_online)
            pio_log(a->ctx, PIO_LOG_INFO,
                    "reconnected to redis at %s (%" PRIu64 " messages dropped while it was away)",
                    a->where, dropped);
        else
            pio_log(a->ctx, PIO_LOG_INFO, "connected to redis at %s (key \"%s\")", a->where,
                    a->cfg.key);
        a->online = a->ever_online = 1;
        a->told_down = a->reloaded = 0;
    } else if (!online && a->online) {
        a->online = 0;
        a->told_down = 1;
        a->stats.dropped_at_loss = a->stats.dropped;
        pio_log(a->ctx, PIO_LOG_WARN,
                "lost redis at %s (%s: %s); this server's clients are served as before, "
                "messages for the other servers are dropped until it is back",
                a->where, c->role, c->error);
        ra_requests_fail(a, NULL, PIO_EUNREACHABLE);
    } else if (!online && !a->told_down && c->error[0]) {
        a->told_down = 1;
        a->stats.dropped_at_loss = a->stats.dropped;
        pio_log(a->ctx, PIO_LOG_WARN, "cannot reach redis at %s (%s: %s); retrying", a->where,
                c->role, c->error);
    } else if (c->error[0]) {
        pio_log(a->ctx, PIO_LOG_DEBUG, "redis %s: %s", c->role, c->error);
    }
}

static void on_conn_up(ra_conn *c, void *userdata)
{
    ra_adapter *a = userdata;
    if (c == &a->sub) {
        ra_subs_reset(&a->subs);
        for (ra_nsp *ns = a->nsps; ns; ns = ns->next)
            subscribe(a, ns);
    }
    state_changed(a, c);
}

static void on_conn_down(ra_conn *c, void *userdata)
{
    ra_adapter *a = userdata;
    if (c == &a->sub)
        ra_subs_reset(&a->subs); /* Redis forgot the subscriptions with the connection */
    state_changed(a, c);
}

/* ---- namespaces ----------------------------------------------------------- */

static void nsp_free(ra_nsp *ns)
{
    ra_channels_free(&ns->ch);
    free(ns->name);
    free(ns);
}

/* The uid a previous version gave this namespace, taken over (once). */
static int inherited_uid(handover *h, const char *name, char uid[RA_UID_LEN + 1])
{
    for (size_t i = 0; h && i < h->n_nsps; i++) {
        if (h->nsps[i].name && strcmp(h->nsps[i].name, name) == 0) {
            memcpy(uid, h->nsps[i].uid, RA_UID_LEN + 1);
            return 1;
        }
    }
    return 0;
}

static void on_namespace_created(pio_ctx *ctx, void *state, const char *name)
{
    ra_adapter *a = state;
    if (ra_nsp_find(a, name))
        return;
    ra_nsp *ns = calloc(1, sizeof *ns);
    if (!ns || !(ns->name = strdup(name)))
        goto oom;
    if (!inherited_uid(a->inherited, name, ns->uid) && ra_uid_new(ns->uid) != 0) {
        pio_log(ctx, PIO_LOG_ERROR, "%s: no randomness for a uid: not joined to the others",
                name);
        nsp_free(ns);
        return;
    }
    if (ra_channels_init(&ns->ch, a->cfg.key, name, ns->uid) != 0)
        goto oom;
    ns->next = a->nsps;
    a->nsps = ns;
    pio_log(ctx, PIO_LOG_DEBUG, "%s: uid %s", name, ns->uid);
    if (a->sub.up)
        subscribe(a, ns);
    return;
oom:
    pio_log(ctx, PIO_LOG_ERROR, "%s: out of memory: not joined to the others", name);
    if (ns) {
        free(ns->name);
        free(ns);
    }
}

static void on_namespace_deleted(pio_ctx *ctx, void *state, const char *name)
{
    (void)ctx;
    ra_adapter *a = state;
    for (ra_nsp **at = &a->nsps; *at; at = &(*at)->next) {
        ra_nsp *ns = *at;
        if (strcmp(ns->name, name) != 0)
            continue;
        *at = ns->next;
        if (a->sub.up)
            unsubscribe(a, ns);
        ra_requests_fail(a, name, PIO_EUNREACHABLE);
        nsp_free(ns);
        return;
    }
}

static const pio_adapter_ops ops = {
    .size = sizeof(pio_adapter_ops),
    .namespace_created = on_namespace_created,
    .namespace_deleted = on_namespace_deleted,
    .broadcast = ra_op_broadcast,
    .broadcast_with_ack = ra_op_broadcast_with_ack,
    .sockets_join = ra_op_sockets_join,
    .sockets_leave = ra_op_sockets_leave,
    .disconnect_sockets = ra_op_disconnect_sockets,
    .fetch_sockets = ra_op_fetch_sockets,
    .all_rooms = ra_op_all_rooms,
    .server_emit = ra_op_server_emit,
};

/* ---- the plugin's life ---------------------------------------------------- */

static void adapter_free(ra_adapter *a)
{
    if (!a)
        return;
    ra_conn_stop(&a->sub);
    ra_conn_stop(&a->pub);
    ra_requests_fail(a, NULL, PIO_EUNREACHABLE);
    ra_pending_clear(&a->pending);
    ra_subs_reset(&a->subs);
    for (ra_nsp *ns = a->nsps, *next; ns; ns = next) {
        next = ns->next;
        nsp_free(ns);
    }
    ra_config_free(&a->cfg);
    free(a);
}

/* Reads the config and installs the adapter, then connects.  `h` (or
 * NULL) is the previous version's state.  Returns the refusal, or NULL. */
static const char *adapter_start(pio_ctx *ctx, handover *h)
{
    if (!pio_has(value_msgpack) || !pio__api->adapter_install || !pio__api->value_parse)
        return "this plugio host has no adapter support (SDK 1.4)";
    ra_adapter *a = calloc(1, sizeof *a);
    if (!a)
        return "out of memory";
    a->ctx = ctx;
    if (ra_config_read(&a->cfg, pio_ctx_config(ctx), refusal, sizeof refusal)) {
        free(a);
        return refusal;
    }
    ra_config_where(&a->cfg, a->where, sizeof a->where);
    ra_conn_init(&a->pub, ctx, &a->cfg, "publisher", 1, on_conn_up, on_conn_down, a);
    ra_conn_init(&a->sub, ctx, &a->cfg, "subscriber", 0, on_conn_up, on_conn_down, a);
    if (h) {
        a->stats = h->stats;
        a->ever_online = h->ever_online;
        a->reloaded = 1;
    }

    a->inherited = h;
    int rc = pio_adapter_install(ctx, NULL, &ops, a); /* namespace_created for each */
    a->inherited = NULL;
    if (rc != PIO_OK) {
        snprintf(refusal, sizeof refusal, "cannot install the adapter: %s%s", pio_strerror(rc),
                 rc == PIO_ESTATE ? " (another plugin's adapter is installed)" : "");
        adapter_free(a);
        return refusal;
    }
    the_adapter = a;
    ra_conn_start(&a->sub);
    ra_conn_start(&a->pub);
    return NULL;
}

static void handover_free(handover *h)
{
    for (size_t i = 0; i < h->n_nsps; i++)
        free(h->nsps[i].name);
    free(h);
}

/* Starting: load and init.  The load hook alone would do: the host calls
 * it for every version it loads, the first one at start-up included (with
 * no state), and also for a version that comes with none later - the
 * plugin newly added to the configuration by a reload, or after a previous
 * version could not hand its state over.  hooks.init (redis:init) stays the
 * documented entry and is harmless: at start-up the host calls load first
 * and init after it, and whichever runs first starts the adapter while the
 * other finds it started.  So an application whose hooks.init is its own
 * has the adapter just the same, and a config error refuses the load hook,
 * which at start-up stops plugio with the message ("plugin '<name>': load
 * hook refused: config.port must be ...") and on a reload keeps the
 * previous version serving. */
PIO_INIT(init)
{
    if (the_adapter)
        return NULL; /* started by this version's load hook */
    return adapter_start(ctx, NULL);
}

static const char *ra_load(pio_ctx *ctx, void *state)
{
    if (!state)
        return the_adapter ? NULL : adapter_start(ctx, NULL);
    handover *h = state;
    if (h->magic != HANDOVER_MAGIC || h->size != sizeof *h)
        return "the running redis-adapter hands over state this version cannot read: restart "
               "plugio to change to it";
    if (the_adapter) {
        /* Started already (a host that ran init first): it keeps its own
         * uids; the previous version's go. */
        handover_free(h);
        return NULL;
    }
    const char *refused = adapter_start(ctx, h);
    if (refused)
        return refused; /* the state goes back to the previous version */
    handover_free(h);
    return NULL;
}

static void *ra_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    ra_adapter *a = the_adapter;
    the_adapter = NULL;
    if (!a)
        return NULL;
    /* Close first: hiredis runs the callbacks still pending, here, while
     * this version's code is mapped and the adapter still whole. */
    ra_conn_stop(&a->sub);
    ra_conn_stop(&a->pub);
    ra_requests_fail(a, NULL, PIO_EUNREACHABLE);
    /* Every path below frees the adapter: take it off the host first, so
     * that nothing can call into freed state, whatever the host does next
     * (on a hand-over the next version installs its own; when no state is
     * handed over, final or not, nothing does).  The host removes a
     * version's adapter when it retires the version, which may come
     * later than this hook: a failed reload hands the state back to the
     * previous version from the new one's unload, and retires the new
     * one only afterwards. */
    pio_adapter_install(a->ctx, NULL, NULL, NULL);
    if (final) {
        pio_log(a->ctx, PIO_LOG_DEBUG,
                "stopped: %" PRIu64 " published, %" PRIu64 " dropped, %" PRIu64
                " received, %" PRIu64 " unreadable",
                a->stats.published, a->stats.dropped, a->stats.received, a->stats.malformed);
        adapter_free(a);
        return NULL;
    }

    size_t n = 0;
    for (ra_nsp *ns = a->nsps; ns; ns = ns->next)
        n++;
    handover *h = malloc(sizeof *h + n * sizeof h->nsps[0]);
    if (!h) {
        pio_log(a->ctx, PIO_LOG_ERROR,
                "out of memory: the next version starts without the adapter; restart plugio");
        adapter_free(a);
        return NULL;
    }
    h->magic = HANDOVER_MAGIC;
    h->size = sizeof *h;
    h->stats = a->stats;
    h->stats.dropped_at_loss = a->stats.dropped; /* the reload's gap starts */
    h->ever_online = a->ever_online;
    h->n_nsps = n;
    size_t i = 0;
    for (ra_nsp *ns = a->nsps; ns; ns = ns->next, i++) {
        h->nsps[i].name = ns->name; /* moved, not copied */
        memcpy(h->nsps[i].uid, ns->uid, sizeof ns->uid);
        ns->name = NULL;
    }
    adapter_free(a);
    return h;
}
