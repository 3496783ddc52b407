/*
 * admin.c - the Socket.IO Admin UI's server side: what
 * @socket.io/admin-ui 0.5's instrument() adds to a Node server, with the
 * same messages, so that the UI (its ui/dist, served anywhere) logs in to
 * plugio and shows its sockets, rooms and events.
 *
 * The admin namespace (admin.namespace, "/admin") is the host's own: the
 * binding lists it (binding.c) so clients may connect, and no event of the
 * configuration may name it (config.c).  Everything else reaches this file
 * through the Socket.IO layer's observer (sio_observe.h), as Node's
 * instrument() hears of sockets through socket.io's events:
 *
 * - admit: the namespace's middleware.  A known sessionId passes; a
 *   username and password are checked against the bcrypt hash on the
 *   host's worker threads (services_host_work: a check costs ~50-100 ms
 *   at cost 10, which would stall every connection if run on the loop),
 *   the CONNECT waiting meanwhile (sio_middleware_defer); one check at a
 *   time, and an address whose logins failed waits (admit).  A login is
 *   given a new sessionId ("session"), kept in a bounded store that
 *   forgets it after admin.sessionDuration.
 * - on connection of an admin socket: "config" (the features: the actions
 *   unless readonly, AGGREGATED_EVENTS, ALL_EVENTS in development) and, in
 *   development, "all_sockets".
 * - "server_stats" every 2 s, with the traffic aggregated per second
 *   (admin_store.c's EventBuffer); not even built while no admin socket
 *   is connected.
 * - in development mode, every socket's life: socket_connected/updated/
 *   disconnected, room_joined/left, event_received/sent (not for the
 *   admin namespace's own events), each with the time as socket.io sends
 *   a Date (an ISO string).
 * - the UI's actions on the admin namespace, unless readonly: emit, join,
 *   leave, _disconnect, on a namespace or the sockets of one room.
 *
 * What the observer reports happens deep inside the Socket.IO layer (a
 * socket half-way through leaving its rooms, say), so notifications are
 * queued and broadcast to the admin namespace at the next turn of the
 * loop; an admin socket that connects gets the queue first, as Node's
 * order has it (it hears of itself before all_sockets).  A turn's queue
 * is bounded in notifications and in bytes (MAX_QUEUED_BYTES): a 1 MB
 * broadcast to 500 sockets is 500 event_sent, each with its own copy of
 * the args (the UI's protocol names one socket per message), so past the
 * budget they are not even built, only counted and logged once a turn;
 * within it, the args are turned into a tree once per packet, not once
 * per recipient (the observer gives each packet a serial).
 */
#include "admin.h"

#include "admin_store.h"
#include "base/array.h"
#include "base/bcrypt.h"
#include "base/log.h"
#include "base/out.h"
#include "base/timer.h"
#include "base/value.h"
#include "config/config.h"
#include "engineio/eio_session.h"
#include "plugin/binding.h"
#include "plugin/services.h"
#include "socketio/broadcast.h"
#include "socketio/rooms.h"
#include "socketio/sio_client.h"
#include "socketio/sio_dispatch.h"
#include "socketio/sio_observe.h"
#include "socketio/sio_socket.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATS_MS 2000
#define MAX_SESSIONS 1024
#define MAX_BACKOFFS 1024   /* addresses whose logins failed lately */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define MAX_QUEUED 10000    /* notifications in one turn; more are dropped */
#define MAX_QUEUED_BYTES (8u << 20) /* and their bytes: a large broadcast is one
                                       event_sent per recipient, each with a copy */

#define INVALID "invalid credentials"
#define BUSY "another login is being checked, try again"
#define BACKING_OFF "too many attempts, try again later"

/* A notification for every admin socket: a static event name, its args. */
typedef struct note {
    const char *event;
    pio_out *out;
} note;

static struct {
    bool on;
    char *nsp, *username, *password, *server_id; /* owned copies */
    bool auth, readonly, production;
    admin_sessions sessions;
    admin_throttle throttle;
    admin_events events;
    note *queue;
    size_t n_queue, cap_queue, queued_bytes, dropped;
    timer stats, flush;
    uint64_t sent_serial;   /* the packet sent_args was made from, this turn */
    json_object *sent_args; /* [event, ...args] of event_sent, made once per packet */
    bool checking;          /* a password check is on the workers */
    bool login_ok;          /* the CONNECT now accepted logged in */
    uint64_t started;       /* timer_now() at start, for uptime */
    char hostname[256];
} A;

/* ---- small tools --------------------------------------------------------- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A Date as JSON.stringify writes it: "2026-12-01T03:04:05.678Z". */
static void out_date(pio_out *o)
{
    uint64_t ms = wall_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char text[40];
    if (!gmtime_r(&t, &tm) || !strftime(text, 24, "%Y-%m-%dT%H:%M:%S", &tm))
        text[0] = '\0';
    else
        snprintf(text + strlen(text), sizeof text - strlen(text), ".%03uZ", (unsigned)(ms % 1000));
    out_string(o, text, strlen(text));
}

static void out_str(pio_out *o, const char *s) { out_string(o, s, strlen(s)); }

static void out_tree_value(pio_out *o, json_object *j) { out_value(o, value_wrap(j)); }

static const char *string_at(json_object *list, size_t i)
{
    json_object *j = json_object_array_get_idx(list, i);
    return json_object_is_type(j, json_type_string) ? json_object_get_string(j) : NULL;
}

static const char *string_member(json_object *o, const char *key)
{
    json_object *j;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &j) ||
        !json_object_is_type(j, json_type_string))
        return NULL;
    return json_object_get_string(j);
}

/* Add v (taken over, even on failure) as obj[key]. */
static bool put(json_object *obj, const char *key, json_object *v)
{
    if (obj && v && json_object_object_add(obj, key, v) == 0)
        return true;
    json_object_put(v);
    return false;
}

/* A new reference to obj[key], or NULL. */
static json_object *member(json_object *obj, const char *key)
{
    json_object *j = NULL;
    json_object_object_get_ex(obj, key, &j);
    return json_object_get(j);
}

static bool is_admin(const pio_socket *s) { return strcmp(s->ns->name, A.nsp) == 0; }

/* Accepted and not yet out of its namespace (a socket refused by
 * middleware leaves the rooms it joined without ever being seen). */
static bool seen(pio_socket *s) { return room_id_socket(s->ns, s->id) == s; }

/* ---- notifications to the admin namespace -------------------------------- */

/* Some admin socket is connected now. */
static bool connected(void)
{
    sio_nsp *n = nsp_get(A.nsp, false);
    return n && n->n_all > 0;
}

/* Development mode's notifications are for admin sockets connected now:
 * with none, they are not even built (a busy server with the Admin UI
 * enabled and closed pays one lookup per event). */
static bool watched(void) { return !A.production && connected(); }

static void forget_sent_args(void)
{
    json_object_put(A.sent_args);
    A.sent_args = NULL;
    A.sent_serial = 0;
}

static void flush_now(void)
{
    note *q = A.queue; /* taken first: an emit can notify more */
    size_t n = A.n_queue;
    A.queue = NULL;
    A.n_queue = A.cap_queue = A.queued_bytes = 0;
    timer_stop(&A.flush);
    forget_sent_args();
    pio_select sel = {.size = sizeof sel, .nsp = A.nsp};
    for (size_t i = 0; i < n; i++)
        broadcast_emit_host(&sel, q[i].event, q[i].out);
    free(q);
    if (A.dropped) {
        log_warn("admin: %zu notifications dropped (more than %d or %u MiB in one turn)",
                 A.dropped, MAX_QUEUED, MAX_QUEUED_BYTES >> 20);
        A.dropped = 0;
    }
}

static void flush_due(timer *t)
{
    (void)t;
    flush_now();
}

static size_t out_bytes(const pio_out *o)
{
    size_t n = o ? o->text.len : 0;
    for (size_t i = 0; o && i < o->n_bins; i++)
        n += o->bins[i]->len;
    return n;
}

/* A notification of about `bytes` fits in this turn's queue; if not, it
 * is counted as dropped (and logged at the flush). */
static bool room_for(size_t bytes)
{
    if (A.n_queue < MAX_QUEUED && bytes <= MAX_QUEUED_BYTES - A.queued_bytes)
        return true;
    A.dropped++;
    if (!timer_active(&A.flush))
        timer_start(&A.flush, 0, flush_due);
    return false;
}

/* Queue `out` (taken over) as `event` for every admin socket. */
static void notify(const char *event, pio_out *out)
{
    if (!out)
        return;
    size_t bytes = out_bytes(out);
    if (!room_for(bytes)) {
        out_free(out);
        return;
    }
    if (!ARRAY_RESERVE(A.queue, A.n_queue + 1, A.cap_queue, 16)) {
        A.dropped++;
        out_free(out);
        return;
    }
    A.queue[A.n_queue++] = (note){event, out};
    A.queued_bytes += bytes;
    if (!timer_active(&A.flush))
        timer_start(&A.flush, 0, flush_due);
}

/* (nsp, a, b, date): room_joined, room_left, socket_disconnected. */
static void notify_about(const char *event, const pio_socket *s, const char *a, const char *b)
{
    pio_out *o = out_new(NULL);
    if (!o)
        return;
    out_str(o, s->ns->name);
    out_str(o, a);
    out_str(o, b);
    out_date(o);
    notify(event, o);
}

/* ---- a socket as the UI sees it (admin-ui's serialize) ------------------- */

static const char *client_address(pio_socket *s)
{
    const char *a = sio_socket_header(s, "cf-connecting-ip");
    if (!a || !*a)
        a = sio_socket_header(s, "x-forwarded-for");
    return a && *a ? a : sio_socket_address(s);
}

/* {id, clientId, transport, nsp, data, handshake: {address, headers,
 * query, issued, secure, time, url, xdomain}, rooms}; NULL when out of
 * memory. */
static json_object *serialize(pio_socket *s)
{
    json_object *d = sio_socket_describe(s), *hs = NULL;
    if (!d || !json_object_object_get_ex(d, "handshake", &hs)) {
        json_object_put(d);
        return NULL;
    }
    char client_id[13];
    snprintf(client_id, sizeof client_id, "%.12s", eio_session_sid(s->session));
    json_object *o = json_object_new_object(), *h = json_object_new_object();
    bool ok = put(h, "address", json_object_new_string(client_address(s))) &&
              put(h, "headers", member(hs, "headers")) && put(h, "query", member(hs, "query")) &&
              put(h, "issued", member(hs, "issued")) && put(h, "secure", member(hs, "secure")) &&
              put(h, "time", member(hs, "time")) && put(h, "url", member(hs, "url")) &&
              put(h, "xdomain", member(hs, "xdomain"));
    ok = ok && put(o, "id", json_object_new_string(s->id)) &&
         put(o, "clientId", json_object_new_string(client_id)) &&
         put(o, "transport", json_object_new_string(sio_socket_transport(s))) &&
         put(o, "nsp", json_object_new_string(s->ns->name)) && put(o, "data", member(d, "data"));
    if (ok) {
        ok = put(o, "handshake", h);
        h = NULL; /* taken, even on failure */
    }
    ok = ok && put(o, "rooms", member(d, "rooms"));
    json_object_put(h);
    json_object_put(d);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static json_object *all_sockets(void)
{
    json_object *list = json_object_new_array();
    size_t i = 0;
    sio_nsp *n;
    while (list && (n = nsp_next(&i))) {
        for (size_t k = 0; list && k < n->n_all; k++) {
            json_object *one = serialize(n->all[k]);
            if (!one || json_object_array_add(list, one) != 0) {
                json_object_put(one);
                json_object_put(list);
                list = NULL;
            }
        }
    }
    return list;
}

/* socket_updated: {id, nsp} and what changed. */
static void notify_updated(pio_socket *s, const char *key, json_object *v)
{
    json_object *o = json_object_new_object();
    pio_out *out = NULL;
    if (!put(o, "id", json_object_new_string(s->id)) ||
        !put(o, "nsp", json_object_new_string(s->ns->name)))
        json_object_put(v);
    else if (put(o, key, v) && (out = out_new(NULL))) /* put takes v, even on failure */
        out_tree_value(out, o);
    json_object_put(o);
    notify("socket_updated", out);
}

/* ---- server_stats --------------------------------------------------------- */

static void count_session(eio_session *e, void *ud)
{
    size_t *n = ud;
    n[0]++;
    n[1] += eio_session_transport(e) == EIO_POLLING;
}

static bool add_namespace(json_object *list, const char *name)
{
    sio_nsp *n = nsp_get(name, false);
    json_object *o = json_object_new_object();
    if (put(o, "name", json_object_new_string(name)) &&
        put(o, "socketsCount", json_object_new_int64(n ? (int64_t)n->n_all : 0)) &&
        json_object_array_add(list, o) == 0)
        return true;
    json_object_put(o);
    return false;
}

/* The configured namespaces, the admin's among them, then the children. */
static json_object *namespaces(void)
{
    const binding *b = sio_binding();
    json_object *list = json_object_new_array();
    bool ok = list != NULL;
    for (size_t i = 0; ok && b && i < b->n_namespaces; i++)
        ok = add_namespace(list, b->namespaces[i]);
    size_t i = 0;
    sio_nsp *n;
    while (ok && (n = nsp_next(&i)))
        if (!b || !binding_has_namespace(b, n->name))
            ok = add_namespace(list, n->name);
    if (!ok) {
        json_object_put(list);
        return NULL;
    }
    return list;
}

/* Every STATS_MS: built only for someone (it walks every session); with
 * no admin socket the traffic counted since the last one is forgotten,
 * so an admin socket that connects hears of the last 2 s only, as it
 * would have from a server_stats sent meanwhile. */
static void emit_stats(timer *t)
{
    timer_start(t, STATS_MS, emit_stats);
    if (!connected()) {
        admin_events_clear(&A.events);
        return;
    }
    size_t n[2] = {0, 0};
    eio_sessions_each(count_session, n);
    json_object *st = json_object_new_object();
    bool ok = put(st, "serverId", json_object_new_string(A.server_id ? A.server_id : A.hostname)) &&
              put(st, "hostname", json_object_new_string(A.hostname)) &&
              put(st, "pid", json_object_new_int64(getpid())) &&
              put(st, "uptime", json_object_new_double((double)(timer_now() - A.started) / 1000)) &&
              put(st, "clientsCount", json_object_new_int64((int64_t)n[0])) &&
              put(st, "pollingClientsCount", json_object_new_int64((int64_t)n[1])) &&
              put(st, "aggregatedEvents", admin_events_take(&A.events)) &&
              put(st, "namespaces", namespaces());
    pio_out *o = ok ? out_new(NULL) : NULL;
    if (o)
        out_tree_value(o, st);
    json_object_put(st);
    notify("server_stats", o);
    flush_now();
}

static void count(const char *type, const char *sub_type, uint64_t n)
{
    admin_events_push(&A.events, wall_ms(), type, sub_type, n);
}

/* ---- logging in ------------------------------------------------------------ */

typedef struct check {
    uint64_t pending;       /* the CONNECT waiting (sio_middleware_defer) */
    char *password, *hash;  /* owned copies: the worker reads them */
    char address[ADMIN_ADDRESS_LEN]; /* the peer's, for its back-off */
    bool ran, ok;
} check;

static void check_work(void *ud)
{
    check *c = ud;
    c->ok = bcrypt_check(c->password, c->hash);
    c->ran = true;
}

static void check_free(check *c)
{
    if (c->password)
        sodium_memzero(c->password, strlen(c->password));
    free(c->password);
    free(c->hash);
    free(c);
}

/* On the loop once checked (or, at shutdown, instead): the CONNECT goes
 * on, its socket_connected sees login_ok and hands out a session. */
static void check_done(pio_ctx *ctx, void *ud)
{
    (void)ctx;
    check *c = ud;
    A.checking = false;
    if (c->ok)
        admin_throttle_passed(&A.throttle, c->address);
    else if (c->ran && A.on) /* not one dropped at shutdown */
        admin_throttle_failed(&A.throttle, c->address, timer_now());
    A.login_ok = c->ok;
    sio_middleware_resolve(c->pending, c->ok ? NULL : INVALID);
    A.login_ok = false;
    check_free(c);
}

/* The admin namespace's middleware: admin-ui's basic authentication.
 *
 * A check costs a worker 50-600 ms (cost 10 to 13), and the two workers
 * are the plugins' too (pio_work_submit): one check at a time, so one
 * worker is always theirs, and a login that comes meanwhile is refused
 * at once (BUSY) rather than queued - a queue would only make the same
 * wait longer, and hold CONNECTs that the UI retries anyway.  A failed
 * login (wrong username or password) puts its address - the peer's, not
 * a header a client can write - in a back-off, 1 s doubling to 60 s,
 * during which its logins are refused unchecked (BACKING_OFF): guessing
 * is slow, and one address cannot keep the one check busy. */
static const char *admit(pio_socket *s)
{
    if (!is_admin(s) || !A.auth)
        return NULL;
    json_object *auth = s->auth;
    const char *sid = string_member(auth, "sessionId");
    uint64_t now = timer_now();
    if (sid && admin_sessions_valid(&A.sessions, sid, now))
        return NULL;
    const char *user = string_member(auth, "username");
    const char *password = string_member(auth, "password");
    const char *address = sio_socket_address(s);
    if (!user || !password)
        return INVALID;
    uint64_t wait = admin_throttle_wait(&A.throttle, address, now);
    if (wait) {
        log_debug("admin: a login from %s refused: %llu ms of back-off left", address,
                 (unsigned long long)wait);
        return BACKING_OFF;
    }
    if (strcmp(user, A.username) != 0) {
        admin_throttle_failed(&A.throttle, address, now);
        return INVALID;
    }
    if (A.checking)
        return BUSY;
    check *c = calloc(1, sizeof *c);
    if (!c || !(c->password = strdup(password)) || !(c->hash = strdup(A.password)) ||
        !(c->pending = sio_middleware_defer(s))) {
        if (c)
            check_free(c);
        return INVALID;
    }
    snprintf(c->address, sizeof c->address, "%s", address ? address : "");
    A.checking = true;
    if (services_host_work(check_work, check_done, c) != PIO_OK) {
        c->ok = false;
        check_done(NULL, c); /* refused at once */
    }
    return NULL;
}

/* ---- what the UI is told when it connects --------------------------------- */

static json_object *features(void)
{
    static const char *const actions[] = {"EMIT",  "JOIN",   "LEAVE",      "DISCONNECT",
                                          "MJOIN", "MLEAVE", "MDISCONNECT"};
    json_object *list = json_object_new_array();
    for (size_t i = 0; list && !A.readonly && i < sizeof actions / sizeof *actions; i++)
        json_object_array_add(list, json_object_new_string(actions[i]));
    if (list)
        json_object_array_add(list, json_object_new_string("AGGREGATED_EVENTS"));
    if (list && !A.production)
        json_object_array_add(list, json_object_new_string("ALL_EVENTS"));
    return list;
}

static void emit_tree(pio_socket *s, const char *event, json_object *j)
{
    pio_out *o = j ? out_new(NULL) : NULL;
    if (o) {
        out_tree_value(o, j);
        sio_socket_emit_host(s, event, o);
    }
    json_object_put(j);
}

static void welcome(pio_socket *s)
{
    char sid[ADMIN_SESSION_ID_LEN + 1];
    if (A.login_ok && admin_sessions_new(&A.sessions, timer_now(), sid))
        emit_tree(s, "session", json_object_new_string(sid));
    A.login_ok = false;
    flush_now(); /* its own socket_connected first, as with Node */
    json_object *cfg = json_object_new_object();
    if (put(cfg, "supportedFeatures", features()))
        emit_tree(s, "config", cfg);
    else
        json_object_put(cfg);
    if (!A.production && s->client)
        emit_tree(s, "all_sockets", all_sockets());
}

/* ---- the UI's actions ---------------------------------------------------- */

/* emit (nsp, filter, ev, ...args), join/leave (nsp, room, filter),
 * _disconnect (nsp, close, filter): the namespace's sockets, or those in
 * the room `filter`. */
static void act(json_object *packet)
{
    const char *name = string_at(packet, 0), *nsp = string_at(packet, 1);
    if (A.readonly || !name || !nsp)
        return;
    bool emit = strcmp(name, "emit") == 0;
    const char *filter = string_at(packet, emit ? 2 : 3);
    pio_select sel = {.size = sizeof sel, .nsp = nsp};
    if (filter && *filter) {
        sel.rooms = &filter;
        sel.n_rooms = 1;
    }
    if (emit) {
        const char *ev = string_at(packet, 3);
        pio_out *o = ev ? out_new(NULL) : NULL;
        for (size_t i = 4; o && i < json_object_array_length(packet); i++)
            out_tree_value(o, json_object_array_get_idx(packet, i));
        if (o)
            broadcast_emit_host(&sel, ev, o);
    } else if (strcmp(name, "join") == 0 && string_at(packet, 2)) {
        broadcast_join(NULL, &sel, string_at(packet, 2));
    } else if (strcmp(name, "leave") == 0 && string_at(packet, 2)) {
        broadcast_leave(NULL, &sel, string_at(packet, 2));
    } else if (strcmp(name, "_disconnect") == 0) {
        broadcast_disconnect(NULL, &sel, json_object_get_boolean(json_object_array_get_idx(packet, 2)));
    } else {
        return;
    }
    log_info("admin: %s in %s%s%s", name, nsp, sel.n_rooms ? ", room " : "", sel.n_rooms ? filter : "");
}

/* ---- the observer ------------------------------------------------------- */

static void on_client_opened(eio_session *e)
{
    (void)e;
    count("rawConnection", NULL, 1);
}

static void on_client_closed(const char *reason) { count("rawDisconnection", reason, 1); }

static void on_message_in(size_t bytes)
{
    count("packetsIn", NULL, 1);
    count("bytesIn", NULL, bytes);
}

static void on_message_out(size_t bytes)
{
    count("packetsOut", NULL, 1);
    count("bytesOut", NULL, bytes);
}

static void on_socket_connected(pio_socket *s)
{
    if (watched()) {
        notify_about("room_joined", s, s->id, s->id); /* its own room, joined first */
        json_object *j = serialize(s);
        pio_out *o = j ? out_new(NULL) : NULL;
        if (o) {
            out_tree_value(o, j);
            out_date(o);
        }
        json_object_put(j);
        notify("socket_connected", o);
    }
    if (is_admin(s))
        welcome(s);
}

static void on_socket_disconnected(pio_socket *s, const char *reason)
{
    if (!watched())
        return;
    notify_about("socket_disconnected", s, s->id, reason);
    notify_about("room_left", s, s->id, s->id);
}

static void on_socket_upgraded(pio_socket *s)
{
    if (watched())
        notify_updated(s, "transport", json_object_new_string(sio_socket_transport(s)));
}

static void on_socket_data(pio_socket *s)
{
    json_object *copy = NULL;
    if (!watched())
        return;
    if (!s->data)
        copy = json_object_new_object();
    else if (json_object_deep_copy(s->data, &copy, NULL) != 0)
        return;
    notify_updated(s, "data", copy);
}

static void on_room_joined(pio_socket *s, const char *room)
{
    if (s->client && watched())
        notify_about("room_joined", s, room, s->id);
}

static void on_room_left(pio_socket *s, const char *room)
{
    if (seen(s) && watched())
        notify_about("room_left", s, room, s->id);
}

static void on_event_received(pio_socket *s, json_object *packet)
{
    if (is_admin(s)) {
        act(packet);
        return;
    }
    if (!watched())
        return;
    pio_out *o = out_new(NULL);
    if (!o)
        return;
    out_str(o, s->ns->name);
    out_str(o, s->id);
    out_tree_value(o, packet); /* its size is known only now: counted by notify */
    out_date(o);
    notify("event_received", o);
}

/* The args of packet `serial` as a tree: made once for all the
 * recipients of a broadcast (kept until the turn's flush). */
static json_object *sent_args(uint64_t serial, const char *event, const pio_out *args)
{
    if (A.sent_args && A.sent_serial == serial)
        return A.sent_args;
    forget_sent_args();
    if ((A.sent_args = out_tree(args, event)))
        A.sent_serial = serial;
    return A.sent_args;
}

static void on_event_sent(pio_socket *s, const char *event, const pio_out *args, uint64_t serial)
{
    /* Not even built once over the turn's budget: a broadcast is one
     * notification per recipient, each with its own copy of the args. */
    if (is_admin(s) || !watched() || !room_for(out_bytes(args)))
        return;
    json_object *list = sent_args(serial, event, args);
    pio_out *o = list ? out_new(NULL) : NULL;
    if (o) {
        out_str(o, s->ns->name);
        out_str(o, s->id);
        out_tree_value(o, list);
        out_date(o);
    }
    notify("event_sent", o);
}

/* In production only what server_stats and the login need: the Socket.IO
 * layer does not even call the rest. */
static const sio_observer quiet_observer = {
    .client_opened = on_client_opened,
    .client_closed = on_client_closed,
    .message_in = on_message_in,
    .message_out = on_message_out,
    .admit = admit,
    .socket_connected = on_socket_connected,
    .event_received = on_event_received,
};

static const sio_observer observer = {
    .client_opened = on_client_opened,
    .client_closed = on_client_closed,
    .message_in = on_message_in,
    .message_out = on_message_out,
    .admit = admit,
    .socket_connected = on_socket_connected,
    .socket_disconnected = on_socket_disconnected,
    .socket_upgraded = on_socket_upgraded,
    .socket_data = on_socket_data,
    .room_joined = on_room_joined,
    .room_left = on_room_left,
    .event_received = on_event_received,
    .event_sent = on_event_sent,
};

/* ---- start and stop ------------------------------------------------------ */

static bool copy(char **to, const char *from)
{
    *to = from ? strdup(from) : NULL;
    return !from || *to;
}

bool admin_start(const config *cfg)
{
    const config_admin *a = &cfg->admin;
    if (!a->enabled)
        return true;
    A.auth = a->auth;
    A.readonly = a->readonly;
    A.production = a->production;
    if (!copy(&A.nsp, a->nsp) || !copy(&A.username, a->username) ||
        !copy(&A.password, a->password) || !copy(&A.server_id, a->server_id)) {
        admin_stop();
        return false;
    }
    if (gethostname(A.hostname, sizeof A.hostname - 1) != 0)
        snprintf(A.hostname, sizeof A.hostname, "localhost");
    admin_sessions_init(&A.sessions, MAX_SESSIONS, (uint64_t)a->session_ttl * 1000);
    admin_throttle_init(&A.throttle, MAX_BACKOFFS, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
    A.started = timer_now();
    A.on = true;
    sio_observe(A.production ? &quiet_observer : &observer);
    timer_start(&A.stats, 0, emit_stats);
    log_info("admin: the Admin UI's namespace is %s (%s mode%s%s)", A.nsp,
             A.production ? "production" : "development", A.readonly ? ", read-only" : "",
             A.auth ? "" : ", NO authentication");
    return true;
}

void admin_stop(void)
{
    sio_observe(NULL);
    timer_stop(&A.stats);
    timer_stop(&A.flush);
    forget_sent_args();
    for (size_t i = 0; i < A.n_queue; i++)
        out_free(A.queue[i].out);
    free(A.queue);
    admin_sessions_free(&A.sessions);
    admin_throttle_free(&A.throttle);
    admin_events_free(&A.events);
    free(A.nsp);
    free(A.username);
    free(A.password);
    free(A.server_id);
    memset(&A, 0, sizeof A);
}
