/*
 * sio_client.c - the Socket.IO layer of one Engine.IO session (see
 * sio_client.h): it decodes what the client sends, connects it to
 * namespaces, and dispatches events to the handlers of the current
 * binding, in the order they arrive.
 *
 * A malformed packet closes the session ("parse error"), and so does a
 * packet that makes no sense in the client's state, as with socket.io;
 * nothing else is affected.  The wire format is the parser the server
 * had when the client connected (serverOptions.parser): with msgpack a
 * text message is malformed, as socket.io-msgpack-parser cannot decode a
 * JSON client's packets either.
 *
 * Dynamic namespaces (socket.io's io.of(regex)): a CONNECT to a namespace
 * the configuration does not name creates it when a pattern matches (the
 * first, in configuration order), up to maxChildNamespaces.  Such a child
 * has the events and middleware of the first pattern that matches its name
 * in the current binding; that is re-matched once per binding, so a reload
 * rebinds connected children like every other socket, and a child that no
 * pattern matches any more keeps its sockets, without handlers, and takes
 * no new ones.
 *
 * Socket.IO v2 clients (protocol 4, over Engine.IO protocol 3) are served
 * as socket.io 4 serves them with allowEIO3: they are in "/" from the
 * start; a namespace they name may carry a query ("/nsp?token=x"), which
 * is the socket's auth; a CONNECT is answered without a payload, and a
 * middleware's refusal is a bare string.  Their events, acks and binary
 * packets are the same as v5's.
 */
#include "sio_client.h"

#include "base/log.h"
#include "base/out.h"
#include "config/config.h"
#include "engineio/eio_session.h"
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "rooms.h"
#include "sio_dispatch.h"
#include "sio_encode.h"
#include "sio_later.h"
#include "sio_observe.h"
#include "sio_recovery.h"
#include "sio_socket.h"
#include "sio_stats.h"

#include <stdlib.h>
#include <string.h>

/* The client speaks Socket.IO v2's protocol (its session Engine.IO 3). */
static bool is_v2(const sio_client *c) { return eio_session_protocol(c->session) == 3; }

static void connect_overdue(timer *t)
{
    sio_client *c = (sio_client *)((char *)t - offsetof(sio_client, connect_timer));
    if (c->n_sockets == 0)
        eio_session_end(c->session, "forced close");
}

static void on_connect(sio_client *c, const char *nsp, json_object *auth);

/* eio_events: a session opened. */
static bool client_open(eio_session *s, void **upper)
{
    sio_client *c = calloc(1, sizeof *c);
    if (!c)
        return false;
    *upper = c;
    c->session = s;
    c->parser = (unsigned char)eio_options()->parser;
    timer_start(&c->connect_timer, eio_options()->connect_timeout, connect_overdue);
    SIO_OBSERVE(client_opened, s);
    /* A Socket.IO v2 client (Engine.IO 3) is in the main namespace from
     * the start, without asking. */
    if (is_v2(c))
        on_connect(c, "/", NULL);
    return true;
}

static void client_free(void *upper)
{
    sio_client *c = upper;
    timer_stop(&c->connect_timer);
    sio_decoder_reset(&c->decoder);
    if (c->sockets != &c->first)
        free(c->sockets);
    free(c);
}

static pio_socket *find_socket(sio_client *c, const char *nsp)
{
    for (size_t i = 0; i < c->n_sockets; i++)
        if (strcmp(c->sockets[i]->ns->name, nsp) == 0)
            return c->sockets[i];
    return NULL;
}

static void client_closed(void *upper, const char *reason)
{
    sio_client *c = upper;
    c->closed = true;
    timer_stop(&c->connect_timer);
    SIO_OBSERVE(client_closed, reason);
    if (c->n_connecting) /* a middleware was to answer later */
        later_forget_group(c);
    while (c->n_sockets)
        sio_socket_closed(c->sockets[c->n_sockets - 1], reason);
}

/* A CONNECT or CONNECT_ERROR with a JSON payload (taken over, or NULL for
 * none), in the client's wire format. */
static void send_payload(sio_client *c, sio_type type, const char *nsp, json_object *payload)
{
    sio_send_value(c, type, nsp, payload);
    json_object_put(payload);
}

static json_object *string_member(json_object *o, const char *key, const char *value)
{
    json_object *v = o ? json_object_new_string(value) : NULL;
    if (!v || json_object_object_add(o, key, v) != 0) {
        json_object_put(v);
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* {"message": message}, or for a v2 client's middleware (bare) only the
 * string, as socket.io sends them. */
static void send_connect_error(sio_client *c, const char *nsp, const char *message, bool bare)
{
    if (!utf8_valid(message, strlen(message)))
        message = "Invalid message";
    json_object *payload = bare ? json_object_new_string(message)
                                : string_member(json_object_new_object(), "message", message);
    if (payload)
        send_payload(c, SIO_CONNECT_ERROR, nsp, payload);
}

/* A client may knock at the limit as fast as it likes: one line per 10 s. */
static void log_child_limit(const char *nsp, uint32_t max)
{
    static uint64_t last;
    static unsigned long quiet;
    uint64_t now = timer_now();
    if (last && now - last < 10000) {
        quiet++;
        return;
    }
    char name[101]; /* the client's choice: no control characters in the log */
    size_t i = 0;
    for (; nsp[i] && i < sizeof name - 1; i++)
        name[i] = (unsigned char)nsp[i] < 0x20 || nsp[i] == 0x7f ? '?' : nsp[i];
    name[i] = '\0';
    log_warn("refused to create namespace '%s': %zu child namespaces exist, "
             "serverOptions.maxChildNamespaces is %u (%lu more refused since the last line)",
             name, nsp_child_count(), max, quiet);
    last = now;
    quiet = 0;
}

/* The namespace a CONNECT asks for: one the configuration names, else an
 * existing or new child of the first pattern that matches.  NULL with the
 * refusal in *why, or *why NULL when out of memory. */
static sio_nsp *namespace_for(const char *name, const char **why)
{
    *why = "Invalid namespace";
    if (!sio_binding())
        return NULL;
    if (binding_has_namespace(sio_binding(), name)) {
        sio_nsp *ns = nsp_get(name, true);
        if (!ns)
            *why = NULL;
        return ns;
    }
    const bound_pattern *parent = binding_match(sio_binding(), name);
    if (!parent)
        return NULL;
    sio_nsp *ns = nsp_get(name, false);
    if (!ns) {
        uint32_t max = sio_binding()->cfg->opts.max_child_namespaces;
        /* At the bound an empty child makes room: otherwise refused
         * connections (middleware, a hostile client) would fill it for good. */
        if (nsp_child_count() >= max && !nsp_evict_empty_child()) {
            log_child_limit(name, max);
            *why = "Too many namespaces";
            return NULL;
        }
        if (!(ns = nsp_create_child(name))) {
            *why = NULL;
            return NULL;
        }
    }
    ns->parent = parent;
    ns->parent_gen = sio_binding()->gen;
    return ns;
}

/* A CONNECT on its way: its socket, what recovery restored, and how far
 * the namespace's middleware has got.  It waits (pio_middleware_defer)
 * while a middleware decides later; its `later` is then registered. */
typedef struct connecting {
    later l;                    /* first: a later is a connecting */
    sio_client *c;
    pio_socket *s;              /* not accepted yet: a reference */
    csr_restored missed;
    size_t next;                /* the next middleware to run */
    uint64_t gen;               /* of the binding `next` counts in */
    bool deferred;              /* a middleware called pio_middleware_defer */
    /* Answered while the middleware that deferred was still running (it
     * resolved at once, or the client closed under it): what came, for
     * run_middleware to act on once the call returns. */
    bool early;
    bool early_refused;
    bool admitted;              /* the observer's admit ran (sio_observe.h) */
    char early_why[512];
} connecting;

static void middleware_answered(later *l, int status, void *arg);

/* The CONNECT whose middleware is running, for pio_middleware_defer. */
static connecting *deciding;

static void connect_finish(connecting *k, const char *refusal);

typedef struct middleware_call {
    const bound_middleware *m;
    pio_socket *s;
    const char *said;
} middleware_call;

static void call_middleware(void *arg)
{
    middleware_call *c = arg;
    c->said = c->m->fn(c->m->ctx, c->s);
}

/* Run the namespace's middleware from k->next in order.  Returns true when
 * the connect is decided (accepted, or refused with *refusal set; why
 * holds it), false when a middleware waits. */
static bool run_middleware(connecting *k, const char **refusal, char *why, size_t len)
{
    pio_socket *s = k->s;
    *refusal = NULL;
    const bound_pattern *parent = sio_parent_of(s->ns);
    /* A reload while it waited: the new configuration's middleware, all
     * of it, from the first (a gate it added is not skipped). */
    if (sio_binding() && sio_binding()->gen != k->gen) {
        k->gen = sio_binding()->gen;
        k->next = 0;
    }
    if (!k->admitted && sio_observer_now && sio_observer_now->admit) {
        k->admitted = true;
        connecting *outer = deciding;
        deciding = k;
        const char *said = sio_observer_now->admit(s);
        deciding = outer;
        if (k->early) { /* deferred and answered at once */
            k->early = false;
            said = k->early_refused ? k->early_why : NULL;
        } else if (k->deferred) {
            return false;
        }
        if (said) {
            snprintf(why, len, "%s", said);
            *refusal = why;
            return true;
        }
    }
    for (; sio_binding() && k->next < sio_binding()->n_middleware; k->next++) {
        if (k->c->closed)
            return true; /* the finish sees it */
        const bound_middleware *m = &sio_binding()->middleware[k->next];
        if (m->cfg->nsp_match != (parent != NULL) ||
            strcmp(m->cfg->nsp, parent ? parent->cfg->source : s->ns->name) != 0)
            continue;
        connecting *outer = deciding;
        deciding = k;
        middleware_call call = {m, s, NULL};
        sio_stats_plugin *timed = sio_stats_middleware_plugin(m);
        uint64_t t0 = timed ? clock_ns() : 0;
        log_scope scope = log_scope_enter(s->ns->name, s->id, NULL);
        guard_result g = guard_call(m->ctx, "middleware", m->cfg->handler.symbol, call_middleware,
                                    &call);
        log_scope_leave(scope);
        if (timed && g != GUARD_REFUSED)
            histogram_observe(&timed->middleware, clock_ns() - t0);
        const char *said = call.said;
        if (g != GUARD_RETURNED) {
            /* Faulted now or before: refused.  An answer it deferred will
             * not come: finished while deciding is k, it only records. */
            if (k->deferred)
                later_finish(&k->l, PIO_ECLOSED, NULL);
            deciding = outer;
            k->early = false;
            *refusal = sio_unavailable(m->ctx, why, len);
            return true;
        }
        deciding = outer;
        if (k->early) { /* deferred and answered before it returned */
            k->early = false;
            if (!k->early_refused)
                continue; /* accepted (or the client closed: seen next) */
            snprintf(why, len, "%s", k->early_why);
            *refusal = why;
            return true;
        }
        if (k->deferred) { /* what it returned is ignored: it answers later */
            k->next++;
            return false;
        }
        if (said) {
            snprintf(why, len, "%s", said);
            *refusal = why;
            return true;
        }
    }
    return true;
}

/* A middleware's later answer (PIO_OK, arg its refusal or NULL), its
 * client gone (PIO_ECLOSED), or no answer within connectTimeout. */
static void middleware_answered(later *l, int status, void *arg)
{
    connecting *k = (connecting *)l;
    k->deferred = false;
    k->c->n_connecting--;
    if (deciding == k) { /* its middleware is still running: after it */
        k->early = true;
        k->early_refused = status == PIO_OK && arg;
        if (k->early_refused)
            snprintf(k->early_why, sizeof k->early_why, "%s", (const char *)arg);
        return;
    }
    if (status == PIO_ECLOSED || k->c->closed) {
        connect_finish(k, NULL);
        return;
    }
    char why[512];
    const char *refusal = NULL;
    if (status == PIO_ETIMEDOUT) {
        refusal = "middleware timeout";
    } else if (status == PIO_ESTATE) { /* its plugin faulted */
        refusal = sio_unavailable(l->owner, why, sizeof why);
    } else if (arg) {
        snprintf(why, sizeof why, "%s", (const char *)arg);
        refusal = why;
    } else if (!run_middleware(k, &refusal, why, sizeof why)) {
        return; /* the next one waits too */
    }
    connect_finish(k, refusal ? refusal : "");
}

uint64_t sio_middleware_defer(pio_socket *s)
{
    connecting *k = deciding;
    /* Once per middleware call: not again after an answer came inside it. */
    if (!k || k->s != s || k->deferred || k->early || k->c->closed ||
        k->c->n_connecting == UINT16_MAX)
        return 0;
    uint64_t h = later_add(&k->l, k->c, middleware_answered, eio_options()->connect_timeout);
    if (h) {
        k->deferred = true;
        k->c->n_connecting++;
    }
    return h;
}

int sio_middleware_resolve(uint64_t pending, const char *refusal)
{
    return later_answer(pending, middleware_answered, (void *)refusal) ? PIO_OK : PIO_ECLOSED;
}

static void unref_lent_socket(void *s) { sio_socket_unref(s); }

pio_socket *sio_middleware_socket(uint64_t pending)
{
    connecting *k = (connecting *)later_find(pending, middleware_answered);
    if (!k || k->c->closed)
        return NULL;
    /* Lent for the call: a resolve in it may drop the connect's own
     * reference (a refusal) before the plugin is done with the socket. */
    if (ctx_running()) {
        k->s->refs++;
        ctx_lend(k->s, unref_lent_socket);
    }
    return k->s;
}

/* Its event's handler faulted: the socket goes (every other one stays). */
static void fault_costs(pio_socket *s, const char *event)
{
    if (!s->client)
        return;
    log_warn("socket %s leaves %s: its handler for '%s' faulted", s->id, s->ns->name, event);
    sio_socket_disconnect(s, 0);
}

/* The end of a CONNECT: refusal NULL when the client is gone, "" when
 * every middleware accepted, else the refusal to send. */
static void connect_finish(connecting *k, const char *refusal)
{
    sio_client *c = k->c;
    pio_socket *s = k->s;
    const char *nsp = s->ns->name;
    if (!refusal || *refusal) {
        if (refusal && !c->closed)
            send_connect_error(c, nsp, refusal, is_v2(c));
        csr_restored_free(&k->missed);
        sio_socket_unref(s); /* leaves what middleware joined */
        free(k);
        return;
    }
    csr_restored missed = k->missed;
    free(k);
    if (c->closed || !sio_socket_accept(c, s)) {
        if (!c->closed)
            eio_session_end(c->session, "transport error");
        csr_restored_free(&missed);
        sio_socket_unref(s);
        return;
    }
    timer_stop(&c->connect_timer);
    s->refs++; /* the replay, the reply or the handler may close it */
    /* The missed packets go before the CONNECT reply, as with socket.io
     * (which sends them before its middleware runs, too; after it here, so
     * that a refused client is not handed what it missed). */
    sio_recovery_replay(s, &missed);
    /* {sid[, pid]}; a v2 client's CONNECT carries nothing. */
    json_object *reply = NULL;
    if (!is_v2(c)) {
        reply = string_member(json_object_new_object(), "sid", s->id);
        if (s->csr)
            reply = string_member(reply, "pid", s->csr->pid);
    }
    if (!s->client)
        json_object_put(reply); /* closed by the replay */
    else if (reply || is_v2(c))
        send_payload(c, SIO_CONNECT, nsp, reply);
    else
        eio_session_end(c->session, "transport error"); /* out of memory */
    if (s->client)
        SIO_OBSERVE(socket_connected, s);
    pio_args none = {0};
    if (s->client && sio_dispatch(s, "connection", &none))
        fault_costs(s, "connection");
    sio_socket_unref(s);
}

/* Join namespace nsp with auth (a reference taken over, or NULL). */
static void on_connect(sio_client *c, const char *nsp, json_object *auth)
{
    const char *invalid;
    sio_nsp *ns = namespace_for(nsp, &invalid);
    if (!ns) {
        json_object_put(auth);
        if (invalid)
            send_connect_error(c, nsp, invalid, false);
        else
            eio_session_end(c->session, "transport error");
        return;
    }
    connecting *k = calloc(1, sizeof *k);
    pio_socket *s = k ? sio_socket_new(c, ns, auth) : NULL;
    if (!s) {
        free(k);
        eio_session_end(c->session, "transport error");
        return;
    }
    k->c = c;
    k->s = s;
    k->gen = sio_binding() ? sio_binding()->gen : 0;
    bool recovered = sio_recovery_restore(s, c->parser, &k->missed);
    char why[512];
    const char *refusal = NULL;
    if (!(recovered && sio_recovery_skip_middlewares()) &&
        !run_middleware(k, &refusal, why, sizeof why))
        return; /* a middleware answers later */
    connect_finish(k, refusal ? refusal : "");
}

static int send_ack(pio_args *a, pio_out *out)
{
    pio_socket *s = a->owner;
    int64_t id = a->ack_id;
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    return sio_send(s->client, SIO_ACK, s->ns->name, id, NULL, out);
}

/* An ack a handler answers later (pio_ack_defer). */
typedef struct deferred_ack {
    later l; /* first: a later is a deferred_ack */
    int64_t id;
} deferred_ack;

typedef struct ack_answer {
    bool drop;    /* given up: nothing is sent */
    pio_out *out; /* taken over; NULL: no arguments */
    int rc;
} ack_answer;

static void deferred_ack_done(later *l, int status, void *arg)
{
    deferred_ack *d = (deferred_ack *)l;
    ack_answer *a = arg;
    pio_socket *s = l->group;
    s->n_later--;
    if (status == PIO_OK && !a->drop) {
        a->rc = s->client ? sio_send(s->client, SIO_ACK, s->ns->name, d->id, NULL, a->out)
                          : (out_free(a->out), PIO_ECLOSED);
    } else if (status == PIO_ESTATE && s->client) { /* its plugin faulted */
        char why[256];
        pio_args args = {.wants_ack = true, .send_ack = send_ack, .owner = s, .ack_id = d->id};
        sio_refuse_ack(&args, sio_unavailable(l->owner, why, sizeof why));
    }
    free(d);
}

uint64_t sio_ack_defer(pio_args *a)
{
    if (!a || !a->wants_ack || a->send_ack != send_ack)
        return 0;
    pio_socket *s = a->owner;
    /* A socket closed under its handler (a disconnect, a send that
     * overflowed) has nothing to answer any more. */
    if (!s->client || s->n_later == UINT16_MAX)
        return 0;
    deferred_ack *d = calloc(1, sizeof *d);
    uint64_t h = d ? later_add(&d->l, s, deferred_ack_done, 0) : 0;
    if (!h) {
        free(d);
        return 0;
    }
    s->n_later++;
    d->id = a->ack_id;
    a->wants_ack = false;
    return h;
}

int sio_ack_later(uint64_t ack, pio_out *out)
{
    ack_answer a = {false, out, PIO_ECLOSED};
    if (!later_answer(ack, deferred_ack_done, &a)) {
        out_free(a.out);
        return PIO_ECLOSED;
    }
    return a.rc;
}

void sio_ack_drop(uint64_t ack)
{
    ack_answer a = {true, NULL, PIO_OK};
    later_answer(ack, deferred_ack_done, &a);
}

static void on_event(pio_socket *s, sio_packet *p)
{
    json_object *name = json_object_array_get_idx(p->data, 0);
    const char *event = json_object_get_string(name); /* numbers read as text */
    pio_args args = {
        .list = p->data,
        .first = 1,
        .wants_ack = p->id >= 0,
        .send_ack = p->id >= 0 ? send_ack : NULL,
        .owner = s,
        .ack_id = p->id,
    };
    /* security.rateLimit (limits.c), over every namespace of the
     * connection: an event over it is not dispatched, an ack it asked for
     * is an error, and past rateLimit.disconnectAfter the client goes. */
    sio_client *c = s->client;
    limits_verdict v = limits_event(&c->events, eio_session_address(c->session), s->id);
    if (v != LIMITS_PASS) {
        sio_refuse_ack(&args, LIMITS_RATE_ERROR);
        if (v == LIMITS_DISCONNECT && s->client)
            sio_socket_disconnect(s, 1);
        return;
    }
    s->refs++; /* the handler may close it */
    SIO_OBSERVE(event_received, s, p->data);
    if (s->client && sio_dispatch(s, event, &args))
        fault_costs(s, event);
    sio_socket_unref(s);
}


static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* A query component as Node's querystring decodes it ('+' is a space, %XX
 * a byte); a malformed escape stays as written. NULL when out of memory. */
static json_object *query_component(const char *s, size_t len)
{
    buf b = BUF_INIT;
    buf_reserve(&b, len);
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+')
            buf_append_char(&b, ' ');
        else if (s[i] == '%' && i + 2 < len && (hi = hex_digit(s[i + 1])) >= 0 &&
                 (lo = hex_digit(s[i + 2])) >= 0) {
            buf_append_char(&b, (char)(hi << 4 | lo));
            i += 2;
        } else
            buf_append_char(&b, s[i]);
    }
    buf_append(&b, "", 0);
    json_object *j = NULL;
    if (!b.failed && b.data) /* bytes that are not UTF-8 stay as written */
        j = utf8_valid(b.data, b.len) ? json_object_new_string_len(b.data, (int)b.len)
                                      : json_object_new_string_len(s, (int)len);
    buf_free(&b);
    return j;
}

/* Add name=value (or a bare name) to query: a repeated name collects its
 * values in an array. False when out of memory. */
static bool add_query_pair(json_object *query, const char *s, size_t len)
{
    const char *eq = memchr(s, '=', len);
    size_t klen = eq ? (size_t)(eq - s) : len;
    json_object *key = query_component(s, klen);
    json_object *value = query_component(eq ? eq + 1 : s + len, eq ? len - klen - 1 : 0);
    json_object *had = NULL, *list = NULL;
    bool ok = key && value;
    const char *name = ok ? json_object_get_string(key) : NULL;
    if (ok && !json_object_object_get_ex(query, name, &had)) {
        ok = json_object_object_add(query, name, value) == 0;
        value = ok ? NULL : value;
    } else if (ok && json_object_is_type(had, json_type_array)) {
        ok = json_object_array_add(had, value) == 0;
        value = ok ? NULL : value;
    } else if (ok) {
        ok = (list = json_object_new_array()) && json_object_array_add(list, json_object_get(had)) == 0 &&
             json_object_array_add(list, value) == 0;
        value = ok ? NULL : value;
        ok = ok && json_object_object_add(query, name, list) == 0;
        list = ok ? NULL : list;
    }
    json_object_put(list);
    json_object_put(value);
    json_object_put(key);
    return ok;
}

/* A query string as url.parse(nsp, true) reads it: an object of strings.
 * NULL when out of memory. */
static json_object *parse_query(const char *q, size_t len)
{
    json_object *query = json_object_new_object();
    for (size_t at = 0; query && at < len;) {
        size_t pair = strcspn(q + at, "&");
        if (pair > len - at)
            pair = len - at;
        if (pair && !add_query_pair(query, q + at, pair)) {
            json_object_put(query);
            return NULL;
        }
        at += pair + 1;
    }
    return query;
}

/* A v2 client's namespace is a URL path (socket.io url.parses it): the
 * namespace is what precedes "?" or "#"; the query of a CONNECT is the
 * socket's auth (*auth, NULL when there is none). False when out of
 * memory. */
static bool split_v2_namespace(sio_packet *p, json_object **auth)
{
    size_t path = strcspn(p->nsp, "?#");
    *auth = NULL;
    if (p->nsp[path] == '?' && p->type == SIO_CONNECT) {
        const char *q = p->nsp + path + 1;
        if (!(*auth = parse_query(q, strcspn(q, "#"))))
            return false;
    }
    p->nsp[path] = '\0';
    return true;
}

/* As socket.io's Client.ondecoded: CONNECT joins a namespace not joined
 * yet; every other packet needs a joined namespace; anything else - a
 * second CONNECT, a packet for a namespace not joined, CONNECT_ERROR from
 * a client - is an invalid state that closes the connection. */
static void on_packet(sio_client *c, sio_packet *p)
{
    json_object *auth = NULL;
    if (is_v2(c)) {
        if (!split_v2_namespace(p, &auth)) {
            eio_session_end(c->session, "transport error");
            return;
        }
    } else if (p->type == SIO_CONNECT && p->has_data) {
        auth = json_object_get(p->data);
    }
    pio_socket *s = find_socket(c, p->nsp);
    if (!s && p->type == SIO_CONNECT) {
        on_connect(c, p->nsp, auth);
        return;
    }
    json_object_put(auth);
    if (!s || p->type == SIO_CONNECT || p->type == SIO_CONNECT_ERROR) {
        log_debug("session %s: invalid state (packet type %d for %s)", eio_session_sid(c->session), p->type,
                  p->nsp);
        eio_session_end(c->session, "forced close");
        return;
    }
    s->refs++; /* a handler may disconnect it */
    switch (p->type) {
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        on_event(s, p);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        sio_socket_ack_received(s, p);
        break;
    case SIO_DISCONNECT:
        sio_socket_closed(s, "client namespace disconnect");
        break;
    default:
        break;
    }
    sio_socket_unref(s);
}

static bool client_receive(void *upper, const void *data, size_t len, bool binary)
{
    sio_client *c = upper;
    if (c->closed)
        return false;
    SIO_OBSERVE(message_in, len);
    sio_packet p;
    int rc;
    if (c->parser == CONFIG_PARSER_MSGPACK) /* every packet is one binary message */
        rc = binary ? sio_decode_msgpack(data, len, &p) : SIO_EBADMSGPACK;
    else if (binary)
        rc = sio_decoder_binary(&c->decoder, data, len, &p);
    else
        rc = sio_decoder_text(&c->decoder, data, len, &p);
    if (rc == SIO_NEED_BINARY)
        return true;
    if (rc < 0) {
        log_debug("session %s: invalid packet: %s", eio_session_sid(c->session), sio_strerror(rc));
        eio_session_end(c->session, "parse error");
        return false;
    }
    eio_session *session = c->session;
    eio_session_ref(session); /* handlers may close it */
    on_packet(c, &p);
    sio_packet_free(&p);
    bool open = !eio_session_is_closed(session);
    eio_session_unref(session);
    return open;
}

/* eio_events: the session now runs on WebSocket. */
static void client_upgraded(void *upper)
{
    sio_client *c = upper;
    for (size_t i = 0; i < c->n_sockets; i++)
        SIO_OBSERVE(socket_upgraded, c->sockets[i]);
}

const eio_events *sio_client_events(void)
{
    static const eio_events events = {client_open, client_receive, client_closed, client_free,
                                      client_upgraded};
    return &events;
}

void sio_version_faulted(const pio_ctx *ctx)
{
    later_forget_owner(ctx, deferred_ack_done, PIO_ESTATE);
    later_forget_owner(ctx, middleware_answered, PIO_ESTATE);
}
