/*
 * sio_socket.c - Socket.IO sockets (see sio_socket.h and sio_client.h):
 * their handshake data, emits, the acks the server awaits, per-socket
 * data, joining and leaving.
 *
 * A socket is reference counted: its client holds one while it is
 * connected, and dispatch holds one around a handler call, so a handler
 * may disconnect its own socket.  A socket exists before it is accepted,
 * so connection middleware can read its handshake and join rooms.
 *
 * Each ack the server awaits holds a reference on the plugin context that
 * registered it, so that plugin version stays mapped until the callback
 * has run - with the answer, PIO_ETIMEDOUT, or PIO_ECLOSED when the socket
 * goes first.  Ack ids are unique across the process (socket.io numbers
 * them per namespace), so one broadcast packet can carry one id for every
 * recipient.
 */
#include "sio_socket.h"

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
#include "sio_stats.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* socket.io's ids: random, except for a v2 client, whose own idea of its
 * id is the session id, prefixed by "<nsp>#" outside "/". */
static bool make_id(pio_socket *s, const char *nsp, const eio_session *e)
{
    s->id = s->id_buf;
    if (eio_session_protocol(e) != 3) {
        if (!eio_random_chars(s->id_buf, 20))
            return false; /* no guessable id: the CONNECT is refused */
        s->id_buf[20] = '\0';
    } else if (strcmp(nsp, "/") == 0) {
        memcpy(s->id_buf, eio_session_sid(e), sizeof s->id_buf);
    } else {
        size_t n = strlen(nsp);
        if (!(s->id = malloc(n + 1 + EIO_SID_LEN + 1)))
            return false;
        memcpy(s->id, nsp, n);
        s->id[n] = '#';
        memcpy(s->id + n + 1, eio_session_sid(e), EIO_SID_LEN + 1);
    }
    return true;
}

pio_socket *sio_socket_new(sio_client *c, sio_nsp *ns, json_object *auth)
{
    pio_socket *s = calloc(1, sizeof *s);
    if (!s || !make_id(s, ns->name, c->session)) {
        free(s);
        json_object_put(auth);
        return NULL;
    }
    nsp_retain(ns); /* the namespace and its name live while s does */
    s->auth = auth;
    s->refs = 1;
    s->ns = ns;
    s->session = c->session;
    eio_session_ref(s->session);
    return s;
}

bool sio_socket_accept(sio_client *c, pio_socket *s)
{
    if (!c->n_sockets && c->sockets != &c->first) {
        free(c->sockets); /* held more once; one again fits inline */
        c->sockets = &c->first;
    } else if (c->n_sockets) {
        pio_socket **was = c->sockets == &c->first ? NULL : c->sockets;
        pio_socket **list = realloc(was, (c->n_sockets + 1) * sizeof *list);
        if (!list)
            return false;
        if (!was)
            list[0] = c->first;
        c->sockets = list;
    }
    if (!nsp_add_socket(s->ns, s))
        return false;
    s->client = c;
    c->sockets[c->n_sockets++] = s;
    return true;
}

void sio_socket_unref(pio_socket *s)
{
    if (!s || --s->refs > 0)
        return;
    room_leave_all(s);
    eio_session_unref(s->session);
    json_object_put(s->auth);
    json_object_put(s->data);
    free(s->csr);
    const binding *b = sio_binding();
    nsp_release(s->ns, b && b->cfg->opts.cleanup_empty_child_namespaces);
    if (s->id != s->id_buf)
        free(s->id);
    free(s);
}

/* ---- accessors --------------------------------------------------------- */

const char *sio_socket_id(const pio_socket *s) { return s ? s->id : NULL; }
const char *sio_socket_namespace(const pio_socket *s) { return s ? s->ns->name : NULL; }
/* socket.io gives handlers an empty object when the client sent no auth:
 * one shared object serves every such socket. */
const pio_value *sio_socket_auth(const pio_socket *s)
{
    static json_object *empty;
    if (!s)
        return NULL;
    if (s->auth)
        return value_wrap(s->auth);
    if (!empty)
        empty = json_object_new_object();
    return empty ? value_wrap(empty) : NULL;
}

const pio_value *sio_socket_query(const pio_socket *s)
{
    json_object *q = s ? eio_session_query(s->session) : NULL;
    return q ? value_wrap(q) : NULL;
}

const char *sio_socket_header(const pio_socket *s, const char *name)
{
    return s && name ? eio_session_header(s->session, name) : NULL;
}

const char *sio_socket_address(const pio_socket *s) { return s ? eio_session_address(s->session) : NULL; }

const char *sio_socket_transport(const pio_socket *s)
{
    if (!s)
        return NULL;
    return eio_session_transport(s->session) == EIO_WEBSOCKET ? "websocket" : "polling";
}

/* An emit to s, counted in sio_stats when a plugin made it. */
static int emit_one(pio_socket *s, const char *event, pio_out *out, bool counted)
{
    if (!s || !sio_event_name_ok(event)) {
        out_free(out);
        return PIO_EINVAL;
    }
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    if (counted)
        sio_stats_emitted(event);
    if (sio_recovery_on() && !s->client->closed) { /* logged for its id room, as socket.io does */
        const char *room = s->id;
        size_t sent;
        int rc = sio_recovery_emit(&s, 1, s->ns->name, &room, 1, NULL, 0, NULL, event, out, &sent);
        out_free(out);
        return rc;
    }
    return sio_send(s->client, SIO_EVENT, s->ns->name, -1, event, out);
}

int sio_socket_emit(pio_socket *s, const char *event, pio_out *out)
{
    return emit_one(s, event, out, true);
}

int sio_socket_emit_host(pio_socket *s, const char *event, pio_out *out)
{
    return emit_one(s, event, out, false);
}

/* ---- acks the server awaits -------------------------------------------- */

void sio_socket_add_ack(pio_socket *s, pending_ack *a)
{
    a->socket = s;
    a->next = s->acks;
    s->acks = a;
}

void sio_socket_unlink_ack(pio_socket *s, pending_ack *a)
{
    for (pending_ack **pp = &s->acks; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            return;
        }
    }
}

typedef struct ack_call {
    pending_ack *a;
    pio_socket *s;
    int status;
    pio_args *args;
} ack_call;

static void call_ack(void *arg)
{
    ack_call *c = arg;
    c->a->cb(c->a->ctx, c->s, c->status, c->args, c->a->userdata);
}

/* Run a single ack's callback once and forget the registration. */
static void complete_ack(pending_ack *a, pio_socket *s, int status, json_object *reply)
{
    sio_socket_unlink_ack(a->socket, a);
    timer_stop(&a->timeout);
    pio_args args = {.list = reply, .first = 0};
    ack_call c = {a, s, status, &args};
    log_scope outer = log_scope_enter(a->socket->ns->name, a->socket->id, NULL);
    guard_call(a->ctx, "ack callback", NULL, call_ack, &c);
    log_scope_leave(outer);
    ctx_unref(a->ctx);
    free(a);
}

/* An answer, a timeout or a disconnect settles an ack, single or part of
 * a broadcast's. */
static void settle(pending_ack *a, pio_socket *s, int status, json_object *reply)
{
    if (a->settle)
        a->settle(a, status, reply);
    else
        complete_ack(a, s, status, reply);
}

static void ack_overdue(timer *t)
{
    pending_ack *a = (pending_ack *)((char *)t - offsetof(pending_ack, timeout));
    pio_socket *s = a->socket;
    s->refs++;
    complete_ack(a, s->client ? s : NULL, PIO_ETIMEDOUT, NULL);
    sio_socket_unref(s);
}

int sio_socket_emit_with_ack(pio_socket *s, const char *event, pio_out *out, uint32_t timeout_ms,
                             pio_ack_fn cb, void *userdata)
{
    if (!s || !cb || !sio_event_name_ok(event)) {
        out_free(out);
        return PIO_EINVAL;
    }
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    pio_ctx *caller = ctx_running();
    if (!caller) {
        out_free(out);
        return PIO_ESTATE;
    }
    pending_ack *a = calloc(1, sizeof *a);
    if (!a) {
        out_free(out);
        return PIO_ENOMEM;
    }
    a->id = sio_next_ack_id();
    sio_stats_emitted(event);
    int rc = sio_send(s->client, SIO_EVENT, s->ns->name, a->id, event, out);
    /* A send that overflows the session's queue closes it, and its acks
     * were settled then: this one would never be. */
    if (rc == PIO_OK && !s->client)
        rc = PIO_ECLOSED;
    if (rc != PIO_OK) {
        free(a);
        return rc;
    }
    a->ctx = ctx_ref(caller);
    a->cb = cb;
    a->userdata = userdata;
    sio_socket_add_ack(s, a);
    if (timeout_ms)
        timer_start(&a->timeout, timeout_ms, ack_overdue);
    return PIO_OK;
}

void sio_socket_ack_received(pio_socket *s, sio_packet *p)
{
    for (pending_ack *a = s->acks; a; a = a->next) {
        if (a->id == p->id) {
            settle(a, s, PIO_OK, p->data);
            return;
        }
    }
}

/* ---- rooms and data ----------------------------------------------------- */

int sio_socket_join(pio_socket *s, const char *room) { return room_join(s, room); }

int sio_socket_leave(pio_socket *s, const char *room)
{
    if (s && room && strcmp(room, s->id) == 0)
        return PIO_EINVAL; /* a socket stays in its own room */
    return room_leave(s, room);
}

int sio_socket_in_room(const pio_socket *s, const char *room) { return room_has(s, room); }

/* Its own id room first (while connected), then the rooms it joined. */
const char *sio_socket_room_next(const pio_socket *s, void **cursor)
{
    if (!s || !cursor)
        return NULL;
    size_t i = (size_t)(uintptr_t)*cursor;
    if (i == 0 && !s->client)
        i = 1; /* not connected: no id room */
    if (i > s->n_memb) {
        *cursor = NULL;
        return NULL;
    }
    *cursor = (void *)(uintptr_t)(i + 1);
    return i == 0 ? s->id : s->memb[i - 1].r->name;
}

int sio_socket_data_set(pio_socket *s, const char *key, pio_out *value)
{
    if (!s || !key || (value && (!out_is_complete(value) || value->count != 1 || value->n_bins))) {
        out_free(value);
        return PIO_EINVAL; /* one JSON value; binary buffers are not kept */
    }
    if (!s->data && !(s->data = json_object_new_object())) {
        out_free(value);
        return PIO_ENOMEM;
    }
    if (!value) {
        json_object_object_del(s->data, key);
        if (s->client)
            SIO_OBSERVE(socket_data, s);
        return PIO_OK;
    }
    json_object *v;
    bool ok = value_parse(value->text.data, value->text.len, &v);
    out_free(value);
    if (!ok)
        return PIO_ENOMEM; /* the writer only makes valid JSON */
    if (json_object_object_add(s->data, key, v) != 0) {
        json_object_put(v);
        return PIO_ENOMEM;
    }
    if (s->client)
        SIO_OBSERVE(socket_data, s);
    return PIO_OK;
}

const pio_value *sio_socket_data_get(const pio_socket *s, const char *key)
{
    json_object *v;
    if (!s || !key || !s->data || !json_object_object_get_ex(s->data, key, &v))
        return NULL;
    return value_wrap(v);
}

/* ---- disconnecting ----------------------------------------------------- */

void sio_socket_closed(pio_socket *s, const char *reason)
{
    sio_client *c = s->client;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_sockets; i++) {
        if (c->sockets[i] == s) {
            c->sockets[i] = c->sockets[--c->n_sockets];
            break;
        }
    }
    s->client = NULL;
    if (s->n_later) /* acks a handler was to send later */
        later_forget_group(s);
    sio_recovery_persist(s, reason);
    SIO_OBSERVE(socket_disconnected, s, reason); /* still in its rooms: they are left next */
    nsp_remove_socket(s->ns, s);
    while (s->acks)
        settle(s->acks, NULL, PIO_ECLOSED, NULL);
    json_object *why = json_object_new_array();
    if (why)
        json_object_array_add(why, json_object_new_string(reason));
    pio_args args = {.list = why, .first = 0};
    sio_dispatch(s, "disconnect", &args);
    json_object_put(why);
    sio_socket_unref(s); /* the client's reference */
}

static void send_disconnect(pio_socket *s) { sio_send_value(s->client, SIO_DISCONNECT, s->ns->name, NULL); }

int sio_socket_disconnect(pio_socket *s, int close)
{
    if (!s)
        return PIO_EINVAL;
    sio_client *c = s->client;
    if (!c)
        return PIO_ECLOSED;
    /* Closing may drop the last references to s and its session. */
    eio_session *e = s->session;
    eio_session_ref(e);
    s->refs++;
    /* A DISCONNECT that overflows the session's queue closes the session,
     * and with it every socket, there and then. */
    if (!close) {
        send_disconnect(s);
        if (s->client)
            sio_socket_closed(s, "server namespace disconnect");
    } else {
        while (c->n_sockets) {
            pio_socket *each = c->sockets[c->n_sockets - 1];
            each->refs++;
            send_disconnect(each);
            if (each->client)
                sio_socket_closed(each, "server namespace disconnect");
            sio_socket_unref(each);
        }
        eio_session_end(e, "forced close");
    }
    sio_socket_unref(s);
    eio_session_unref(e);
    return PIO_OK;
}

/* ---- what fetchSockets tells about a socket --------------------------- */

/* JavaScript's Date.prototype.toString, as socket.io's handshake.time. */
static json_object *date_string(uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char text[96];
    if (!localtime_r(&t, &tm) || !strftime(text, sizeof text, "%a %b %d %Y %H:%M:%S GMT%z (%Z)", &tm))
        return json_object_new_string("");
    return json_object_new_string(text);
}

/* s percent-encoded as a URL's query encodes it. */
static void append_encoded(buf *url, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            strchr("-_.~", *p))
            buf_append_char(url, (char)*p);
        else
            buf_printf(url, "%%%02X", *p);
    }
}

/* The handshake's URL as the client asked for it: the path, then the
 * query (percent-encoded again).  NULL when out of memory. */
static json_object *handshake_url(pio_socket *s)
{
    json_object *q = eio_session_query(s->session);
    if (!q)
        return NULL;
    const binding *b = sio_binding();
    buf url = BUF_INIT;
    buf_append_str(&url, b && b->cfg->opts.path ? b->cfg->opts.path : "/socket.io");
    buf_append_char(&url, '/');
    char sep = '?';
    json_object_object_foreach(q, key, val)
    {
        buf_append_char(&url, sep);
        sep = '&';
        append_encoded(&url, key);
        buf_append_char(&url, '=');
        append_encoded(&url, json_object_get_string(val));
    }
    json_object *j = url.failed ? NULL : json_object_new_string_len(url.data, (int)url.len);
    buf_free(&url);
    return j;
}

/* Add v (taken over, even on failure) as obj[key]. */
static bool put(json_object *obj, const char *key, json_object *v)
{
    if (v && json_object_object_add(obj, key, v) == 0)
        return true;
    json_object_put(v);
    return false;
}

/* A copy the caller owns of a value the socket may change later (its
 * data, as pio_socket_data_set replaces members in place), or {}. */
static json_object *copy_or_empty(json_object *j)
{
    json_object *copy = NULL;
    if (!j)
        return json_object_new_object();
    return json_object_deep_copy(j, &copy, NULL) == 0 ? copy : NULL;
}

json_object *sio_socket_describe(pio_socket *s)
{
    json_object *d = json_object_new_object(), *hs = json_object_new_object();
    json_object *headers = json_object_new_object(), *rooms = json_object_new_array();
    bool ok = d && hs && headers && rooms;
    const char *name, *value;
    for (unsigned i = 0; ok && (name = eio_session_header_at(s->session, i, &value)); i++)
        ok = put(headers, name, json_object_new_string(value));
    void *cursor = NULL;
    const char *room;
    while (ok && (room = sio_socket_room_next(s, &cursor))) {
        json_object *r = json_object_new_string(room);
        if (!(ok = r && json_object_array_add(rooms, r) == 0))
            json_object_put(r);
    }
    json_object *query = eio_session_query(s->session);
    uint64_t issued = eio_session_issued(s->session);
    if (ok) {
        ok = put(hs, "headers", headers);
        headers = NULL; /* taken, even on failure */
    }
    ok = ok && put(hs, "time", date_string(issued)) &&
         put(hs, "address", json_object_new_string(eio_session_address(s->session))) &&
         put(hs, "xdomain", json_object_new_boolean(eio_session_header(s->session, "origin") != NULL)) &&
         put(hs, "secure", json_object_new_boolean(0)) &&
         put(hs, "issued", json_object_new_int64((int64_t)issued)) && put(hs, "url", handshake_url(s)) &&
         put(hs, "query", copy_or_empty(query)) && put(hs, "auth", copy_or_empty(s->auth));
    if ((ok = ok && put(d, "id", json_object_new_string(s->id)))) {
        ok = put(d, "handshake", hs);
        hs = NULL;
    }
    if (ok) {
        ok = put(d, "rooms", rooms);
        rooms = NULL;
    }
    ok = ok && put(d, "data", copy_or_empty(s->data));
    json_object_put(headers);
    json_object_put(rooms);
    json_object_put(hs);
    if (!ok) {
        json_object_put(d);
        return NULL;
    }
    return d;
}
