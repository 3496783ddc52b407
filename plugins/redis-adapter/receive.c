/*
 * receive.c - what the other servers tell this one: their broadcasts,
 * their requests, and this server's answers to them (§3, §4 of
 * design/REDIS-ADAPTER.md, answering side; §5 for the emitter).
 *
 * Everything is handed to the host with PIO_SELECT_LOCAL, so the host
 * applies it to its own sockets and does not call the adapter back.
 * Anything unreadable is dropped with a debug line and counted: a message
 * from Redis never takes the server down.
 *
 * Own traffic (this server hears its own messages, being subscribed to
 * the channels it publishes on) is skipped by uid: the host applied this
 * server's broadcasts and socketsJoin/Leave/disconnectSockets before it
 * told the adapter, and this server does not answer its own requests.
 * The emitter's uid is "emitter", or none at all for 2/3/4.
 */
#include "adapter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading bodies ------------------------------------------------------ */

const pio_value *ra_parse_body(ra_adapter *a, const char *payload, size_t len)
{
    const pio_value *v = NULL;
    if (len > 0)
        v = pio_value_parse(payload, len, payload[0] == '{' ? PIO_FORMAT_JSON : PIO_FORMAT_MSGPACK);
    if (!v) {
        a->stats.malformed++;
        pio_log(a->ctx, PIO_LOG_DEBUG, "dropped an unreadable message (%zu bytes)", len);
    }
    return v;
}

int ra_member_string(const pio_value *v, const char *key, const char **s, size_t *len)
{
    return pio_value_string(pio_value_member(v, key), s, len) == PIO_OK ? 0 : -1;
}

static int is(const char *s, size_t len, const char *than)
{
    return s && strlen(than) == len && memcmp(s, than, len) == 0;
}

/* Room names from a wire array: strings, and integers (a JavaScript number
 * used as a room) as their decimal text.  Anything else names no room a
 * socket can be in and is left out; `given` still counts it, so that a
 * list of such names selects nobody rather than everybody. */
typedef struct names {
    const char **v;
    size_t n;
    size_t given;
    char (*numbers)[24]; /* the decimal texts */
} names;

static int names_read(names *x, const pio_value *list)
{
    memset(x, 0, sizeof *x);
    x->given = pio_value_count(list);
    if (x->given == 0)
        return 0;
    x->v = malloc(x->given * sizeof *x->v);
    if (!x->v)
        return -1;
    for (size_t i = 0; i < x->given; i++) {
        const pio_value *e = pio_value_index(list, i);
        const char *s;
        size_t len;
        int64_t num;
        if (pio_value_string(e, &s, &len) == PIO_OK) {
            if (strlen(s) == len)
                x->v[x->n++] = s;
        } else if (pio_value_int64(e, &num) == PIO_OK) {
            if (!x->numbers && !(x->numbers = malloc(x->given * sizeof *x->numbers)))
                return -1;
            snprintf(x->numbers[i], sizeof x->numbers[i], "%" PRId64, num);
            x->v[x->n++] = x->numbers[i];
        }
    }
    return 0;
}

static void names_free(names *x)
{
    free(x->v);
    free(x->numbers);
    memset(x, 0, sizeof *x);
}

/* A selection of this server's sockets from {rooms, except} (opts).  It
 * names the namespace with a copy of its own: a call that delivers or
 * disconnects can free the ra_nsp (its last socket gone, the host deletes
 * a child namespace), and the selection must stay whole meanwhile; the
 * copy is also how the caller finds the namespace again after such a
 * call (ra_nsp_find). */
typedef struct selection {
    pio_select sel;
    char *nsp;
    names rooms, except;
} selection;

/* 1 with s ready, 0 when it selects nobody, -1 when out of memory. */
static int selection_read(selection *s, const ra_nsp *ns, const pio_value *opts)
{
    memset(s, 0, sizeof *s);
    if (!(s->nsp = strdup(ns->name)) || names_read(&s->rooms, pio_value_member(opts, "rooms")) != 0 ||
        names_read(&s->except, pio_value_member(opts, "except")) != 0)
        return -1;
    if (s->rooms.given > 0 && s->rooms.n == 0)
        return 0;
    s->sel.size = sizeof s->sel;
    s->sel.flags = PIO_SELECT_LOCAL;
    s->sel.nsp = s->nsp;
    s->sel.rooms = s->rooms.v;
    s->sel.n_rooms = s->rooms.n;
    s->sel.except = s->except.v;
    s->sel.n_except = s->except.n;
    return 1;
}

static void selection_free(selection *s)
{
    free(s->nsp);
    s->nsp = NULL;
    names_free(&s->rooms);
    names_free(&s->except);
}

/* What event_of returns besides 0. */
#define NOT_AN_EVENT (-1)
#define NO_MEMORY (-2)

/* The event of a packet's data [event, arg...]: 0 with its name and the
 * arguments as a new pio_out (the caller's); NOT_AN_EVENT when data is
 * no event; NO_MEMORY when the arguments could not be copied (*args is
 * NULL then: an event is never delivered without its arguments). */
static int event_of(ra_adapter *a, const pio_value *data, const char **event, pio_out **args)
{
    size_t len, n = pio_value_count(data);
    *args = NULL;
    if (pio_value_type(data) != PIO_TYPE_ARRAY || n == 0 ||
        pio_value_string(pio_value_index(data, 0), event, &len) != PIO_OK || strlen(*event) != len)
        return NOT_AN_EVENT;
    pio_out *out = pio_out_new(a->ctx);
    if (!out)
        return NO_MEMORY;
    for (size_t i = 1; i < n; i++) {
        if (pio_out_value(out, pio_value_index(data, i)) != PIO_OK) {
            pio_out_free(out);
            return NO_MEMORY;
        }
    }
    *args = out;
    return 0;
}

static int stop_at_first(pio_ctx *ctx, pio_socket *socket, void *userdata)
{
    (void)ctx;
    (void)socket;
    *(int *)userdata = 1;
    return 1;
}

/* Has any socket of ns joined the room? */
static int room_exists(ra_adapter *a, const ra_nsp *ns, const char *room, size_t len)
{
    char small[256];
    char *name = len < sizeof small ? small : malloc(len + 1);
    if (!name)
        return 1; /* cannot tell: let the broadcast decide */
    memcpy(name, room, len);
    name[len] = '\0';
    int found = 0;
    if (strlen(name) == len) { /* a NUL inside names no room */
        const char *rooms[] = {name};
        pio_select sel = {.size = sizeof sel,
                          .flags = PIO_SELECT_LOCAL,
                          .nsp = ns->name,
                          .rooms = rooms,
                          .n_rooms = 1};
        pio_select_sockets(a->ctx, &sel, stop_at_first, &found);
    }
    if (name != small)
        free(name);
    return found;
}

/* ---- broadcasts (§3) ------------------------------------------------------ */

void ra_on_broadcast(ra_adapter *a, ra_nsp *ns, const char *channel, size_t channel_len,
                     const char *payload, size_t len)
{
    const char *room;
    size_t room_len;
    int named = ra_channel_room(&ns->ch, channel, channel_len, &room, &room_len);
    if (named < 0)
        return;
    /* A room no socket here is in: nobody to deliver to, and no need to
     * decode the message to know it. */
    if (named > 0 && !room_exists(a, ns, room, room_len))
        return;

    const pio_value *msg = pio_value_parse(payload, len, PIO_FORMAT_MSGPACK);
    selection s = {0};
    const char *uid = "", *nsp = "/", *event;
    size_t uid_len = 0, nsp_len = 1;
    int64_t type = 2;
    const pio_value *packet = pio_value_index(msg, 1), *opts = pio_value_index(msg, 2);
    pio_out *args = NULL;
    if (!msg || pio_value_type(msg) != PIO_TYPE_ARRAY || pio_value_type(packet) != PIO_TYPE_OBJECT)
        goto malformed;
    if (pio_value_string(pio_value_index(msg, 0), &uid, &uid_len) != PIO_OK) {
        uid = ""; /* no server's: compared with nothing */
        uid_len = 0;
    } else if (is(uid, uid_len, ns->uid)) {
        goto out; /* this server's own, delivered here already */
    }
    if (pio_value_member(packet, "nsp") &&
        ra_member_string(packet, "nsp", &nsp, &nsp_len) != 0)
        goto malformed;
    if (!is(nsp, nsp_len, ns->name))
        goto out; /* another namespace's, whose channel matched our pattern */
    if (pio_value_member(packet, "type") &&
        pio_value_int64(pio_value_member(packet, "type"), &type) != PIO_OK)
        goto malformed;
    if (type != 2 && type != 5) /* an EVENT (BINARY_EVENT from a lenient sender) */
        goto malformed;
    int rc = event_of(a, pio_value_member(packet, "data"), &event, &args);
    if (rc == NO_MEMORY) {
        a->stats.dropped++;
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a broadcast on %s is lost", ns->name);
        goto out;
    }
    if (rc != 0)
        goto malformed;
    rc = selection_read(&s, ns, opts);
    if (rc <= 0) {
        if (rc < 0) {
            a->stats.dropped++;
            pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a broadcast on %s is lost", ns->name);
        }
        goto out;
    }
    int is_volatile = 0;
    pio_value_bool(pio_value_member(pio_value_member(opts, "flags"), "volatile"), &is_volatile);
    if (is_volatile)
        s.sel.flags |= PIO_SELECT_VOLATILE;
    /* ns may be freed by this call (see selection): not used after it. */
    rc = pio_broadcast(a->ctx, &s.sel, event, args); /* consumes args */
    args = NULL;
    if (rc < 0)
        pio_log(a->ctx, PIO_LOG_DEBUG, "a broadcast of '%s' on %s from %.*s: %s", event, s.nsp,
                (int)uid_len, uid, pio_strerror(rc));
    goto out;
malformed:
    a->stats.malformed++;
    pio_log(a->ctx, PIO_LOG_DEBUG, "dropped an unreadable broadcast on %.*s (%zu bytes)",
            (int)channel_len, channel, len);
out:
    if (args)
        pio_out_free(args);
    selection_free(&s);
    if (msg)
        pio_value_free(msg);
}

/* ---- requests (§4) ------------------------------------------------------------ */

/* What a request says about who asked. */
typedef struct request {
    const pio_value *body;
    const char *uid; /* NULL: none (the emitter's 2/3/4) */
    size_t uid_len;
    const char *id; /* requestId; NULL: none */
    size_t id_len;
} request;

static void reply(ra_adapter *a, const ra_nsp *ns, const request *q, ra_buf *b)
{
    ra_publish_response(a, ns, q->uid, q->uid_len, b);
    ra_buf_free(b);
}

/* A JSON array being written, and how many elements it has. */
typedef struct json_list {
    ra_buf *b;
    size_t n;
} json_list;

/* 0: SOCKETS (legacy) - the ids of the sockets in any of `rooms`. */
static int add_socket_id(pio_ctx *ctx, pio_socket *socket, void *userdata)
{
    (void)ctx;
    json_list *l = userdata;
    const char *id = pio_socket_id(socket);
    if (l->n++)
        ra_buf_puts(l->b, ",");
    ra_buf_json_string(l->b, id, strlen(id));
    return 0;
}

static void answer_sockets(ra_adapter *a, const ra_nsp *ns, const request *q)
{
    selection s;
    ra_buf b = RA_BUF_INIT;
    json_list l = {&b, 0};
    ra_json_reply_head(&b, q->id, q->id_len, "sockets");
    ra_buf_puts(&b, "[");
    /* {rooms} at the top, as sockets(rooms) asked it */
    int rc = selection_read(&s, ns, q->body);
    if (rc > 0)
        pio_select_sockets(a->ctx, &s.sel, add_socket_id, &l);
    else if (rc < 0)
        b.failed = 1;
    selection_free(&s);
    ra_buf_puts(&b, "]}");
    reply(a, ns, q, &b);
}

/* 1: ALL_ROOMS. */
static int add_room(pio_ctx *ctx, const char *room, size_t members, void *userdata)
{
    (void)ctx;
    (void)members;
    json_list *l = userdata;
    if (l->n++)
        ra_buf_puts(l->b, ",");
    ra_buf_json_string(l->b, room, strlen(room));
    return 0;
}

static void answer_all_rooms(ra_adapter *a, const ra_nsp *ns, const request *q)
{
    ra_buf b = RA_BUF_INIT;
    json_list l = {&b, 0};
    ra_json_reply_head(&b, q->id, q->id_len, "rooms");
    ra_buf_puts(&b, "[");
    pio_rooms(a->ctx, ns->name, add_room, &l);
    ra_buf_puts(&b, "]}");
    reply(a, ns, q, &b);
}

/* 5: REMOTE_FETCH - each selected socket as pio_fetch_sockets describes
 * it.  With PIO_SELECT_LOCAL its callback runs before it returns. */
typedef struct fetched {
    ra_buf *b;
    int ran;
} fetched;

static void add_sockets(pio_ctx *ctx, int status, pio_args *replies, void *userdata)
{
    (void)ctx;
    (void)status;
    fetched *f = userdata;
    f->ran = 1;
    for (size_t i = 0, n = pio_args_count(replies); i < n; i++) {
        if (i)
            ra_buf_puts(f->b, ",");
        if (ra_value_json(f->b, pio_args_at(replies, i)) != 0)
            f->b->failed = 1;
    }
}

static void answer_fetch(ra_adapter *a, const ra_nsp *ns, const request *q)
{
    selection s;
    ra_buf b = RA_BUF_INIT;
    fetched f = {&b, 0};
    ra_json_reply_head(&b, q->id, q->id_len, "sockets");
    ra_buf_puts(&b, "[");
    int rc = selection_read(&s, ns, pio_value_member(q->body, "opts"));
    if (rc < 0)
        b.failed = 1;
    else if (rc > 0 &&
             pio_fetch_sockets(a->ctx, &s.sel, a->cfg.requests_timeout, add_sockets, &f) >= 0 &&
             !f.ran)
        pio_log(a->ctx, PIO_LOG_ERROR, "pio_fetch_sockets did not answer at once: answering none");
    selection_free(&s);
    ra_buf_puts(&b, "]}");
    reply(a, ns, q, &b);
}

/* 2, 3, 4 with opts: socketsJoin / socketsLeave / disconnectSockets. */
typedef struct sjson_list {
    char **v;
    size_t n, cap;
    int failed;
} sjson_list;

static int collect_id(pio_ctx *ctx, pio_socket *socket, void *userdata)
{
    (void)ctx;
    sjson_list *l = userdata;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->failed = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(pio_socket_id(socket)))) {
        l->failed = 1;
        return 1;
    }
    l->n++;
    return 0;
}

/* Joins (or leaves) every selected socket to every room.  With more than
 * one room the sockets are chosen first, as Node's adapter does: joining
 * the first room could otherwise change whom the selection names. */
static void apply_rooms(ra_adapter *a, const ra_nsp *ns, const pio_select *sel,
                        const names *rooms, int join)
{
    if (rooms->n == 1) {
        if (join)
            pio_select_join(a->ctx, sel, rooms->v[0]);
        else
            pio_select_leave(a->ctx, sel, rooms->v[0]);
        return;
    }
    sjson_list l = {0};
    pio_select_sockets(a->ctx, sel, collect_id, &l);
    if (l.failed)
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a %s on %s is partly lost",
                join ? "socketsJoin" : "socketsLeave", ns->name);
    for (size_t i = 0; i < l.n; i++) {
        pio_socket *socket = pio_socket_find(a->ctx, sel->nsp, l.v[i]);
        for (size_t r = 0; socket && r < rooms->n; r++) {
            if (join)
                pio_socket_join(socket, rooms->v[r]);
            else
                pio_socket_leave(socket, rooms->v[r]);
        }
        free(l.v[i]);
    }
    free(l.v);
}

static void apply_operation(ra_adapter *a, const ra_nsp *ns, const request *q, int64_t type,
                            const pio_value *opts)
{
    selection s;
    names rooms = {0};
    int rc = selection_read(&s, ns, opts);
    if (rc > 0 && type == RA_REMOTE_DISCONNECT) {
        int close = 0;
        pio_value_bool(pio_value_member(q->body, "close"), &close);
        pio_select_disconnect(a->ctx, &s.sel, close);
    } else if (rc > 0 && names_read(&rooms, pio_value_member(q->body, "rooms")) == 0) {
        if (rooms.n)
            apply_rooms(a, ns, &s.sel, &rooms, type == RA_REMOTE_JOIN);
    } else if (rc != 0) {
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a request of type %d on %s is lost",
                (int)type, ns->name);
    }
    names_free(&rooms);
    selection_free(&s);
}

/* A single room name: a string, or an integer as its decimal text (in
 * text[]).  NULL for anything else. */
static const char *room_of(const pio_value *v, char text[24])
{
    const char *name;
    size_t len;
    int64_t num;
    if (pio_value_string(v, &name, &len) == PIO_OK)
        return strlen(name) == len ? name : NULL;
    if (pio_value_int64(v, &num) == PIO_OK) {
        snprintf(text, 24, "%" PRId64, num);
        return text;
    }
    return NULL;
}

/* 2, 3, 4 in the sid form of adapter 7.x: for one socket, answered by the
 * server that has it. */
static void apply_to_sid(ra_adapter *a, const ra_nsp *ns, const request *q, int64_t type)
{
    const char *sid;
    size_t sid_len;
    if (ra_member_string(q->body, "sid", &sid, &sid_len) != 0 || strlen(sid) != sid_len)
        return;
    pio_socket *socket = pio_socket_find(a->ctx, ns->name, sid);
    if (!socket)
        return; /* another server's */
    if (type == RA_REMOTE_DISCONNECT) {
        int close = 0;
        pio_value_bool(pio_value_member(q->body, "close"), &close);
        if (!q->id) {
            pio_socket_disconnect(socket, close);
            return;
        }
        /* The last socket of a child namespace gone, the host deletes it
         * (and this ns) before the call returns: found again by name. */
        char *name = strdup(ns->name);
        pio_socket_disconnect(socket, close);
        ns = name ? ra_nsp_find(a, name) : NULL;
        if (!ns)
            pio_log(a->ctx, PIO_LOG_DEBUG, "a disconnect's answer is not sent: %s",
                    name ? "its namespace went with the socket" : "out of memory");
        free(name);
        if (!ns)
            return;
    } else {
        char text[24];
        const char *room = room_of(pio_value_member(q->body, "room"), text);
        if (!room)
            return;
        if (type == RA_REMOTE_JOIN)
            pio_socket_join(socket, room);
        else
            pio_socket_leave(socket, room);
    }
    if (q->id) {
        ra_buf b = RA_BUF_INIT;
        ra_json_reply_done(&b, q->id, q->id_len);
        reply(a, ns, q, &b);
    }
}

/* 6: SERVER_SIDE_EMIT - the namespace's serverEvents handler; with a
 * requestId, its ack goes to the shared response channel (always that
 * one, even with publishOnSpecificResponseChannel, as Node does). */
typedef struct sse_reply {
    char *nsp;
    size_t id_len;
    char id[];
} sse_reply;

static void on_sse_reply(pio_ctx *ctx, int status, const pio_value *answer, void *userdata)
{
    (void)ctx;
    sse_reply *r = userdata;
    ra_adapter *a = ra_current();
    ra_nsp *ns = a ? ra_nsp_find(a, r->nsp) : NULL;
    if (ns && status == PIO_OK) {
        ra_buf b = RA_BUF_INIT;
        ra_json_server_emit_reply_head(&b, r->id, r->id_len);
        if (!answer)
            ra_buf_puts(&b, "null");
        else if (ra_value_json(&b, answer) != 0)
            b.failed = 1;
        ra_buf_puts(&b, "}");
        ra_publish_response(a, ns, NULL, 0, &b);
        ra_buf_free(&b);
    }
    free(r->nsp);
    free(r);
}

static void answer_server_emit(ra_adapter *a, const ra_nsp *ns, const request *q)
{
    const pio_value *data = pio_value_member(q->body, "data");
    if (pio_value_type(data) != PIO_TYPE_ARRAY || pio_value_count(data) == 0) {
        a->stats.malformed++;
        return;
    }
    /* The handler may disconnect sockets, and so free ns: the host is
     * given a copy of the name, which outlives the call. */
    char *name = strdup(ns->name);
    sse_reply *r = NULL;
    if (name && q->id) {
        r = malloc(sizeof *r + q->id_len + 1);
        if (r && !(r->nsp = strdup(ns->name))) {
            free(r);
            r = NULL;
        }
        if (r) {
            r->id_len = q->id_len;
            memcpy(r->id, q->id, q->id_len);
            r->id[q->id_len] = '\0';
        }
    }
    if (!name || (q->id && !r)) {
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a serverSideEmit on %s is lost", ns->name);
        free(name);
        return;
    }
    int rc = pio_server_event(a->ctx, name, data, r ? on_sse_reply : NULL, r);
    if (rc != PIO_OK) { /* the reply never runs */
        pio_log(a->ctx, PIO_LOG_DEBUG, "a serverSideEmit on %s: %s", name, pio_strerror(rc));
        if (r) {
            free(r->nsp);
            free(r);
        }
    }
    free(name);
}

/* 7: BROADCAST with acks - a local broadcast asking each client for an
 * ack; this server's number of clients goes back at once (type 8), each
 * ack as it comes (type 9). */
typedef struct ack_relay {
    char *nsp;
    char *uid; /* the asker's, for publishOnSpecificResponseChannel */
    size_t uid_len;
    size_t id_len;
    int in_call; /* pio_broadcast_ack_each has not returned yet */
    int finished; /* the final call came */
    char id[];
} ack_relay;

static void ack_relay_free(ack_relay *r)
{
    free(r->nsp);
    free(r->uid);
    free(r);
}

static void on_client_ack(pio_ctx *ctx, int status, const pio_value *answer, void *userdata)
{
    (void)ctx;
    (void)status;
    ack_relay *r = userdata;
    if (!answer) { /* the last call */
        r->finished = 1;
        if (!r->in_call)
            ack_relay_free(r);
        return;
    }
    /* After a reload this version's adapter is gone (ra_current() is
     * NULL): the ack is not relayed (see redis_adapter.c). */
    ra_adapter *a = ra_current();
    ra_nsp *ns = a ? ra_nsp_find(a, r->nsp) : NULL;
    if (!ns)
        return;
    ra_buf value = RA_BUF_INIT, b = RA_BUF_INIT;
    if (ra_value_msgpack(&value, answer) != 0 ||
        ra_pack_ack_answer(&b, r->id, r->id_len, value.data, value.len) != 0)
        b.failed = 1;
    ra_publish_response(a, ns, r->uid, r->uid_len, &b);
    ra_buf_free(&value);
    ra_buf_free(&b);
}

static ack_relay *ack_relay_new(const ra_nsp *ns, const request *q)
{
    ack_relay *r = calloc(1, sizeof *r + q->id_len + 1);
    if (!r)
        return NULL;
    r->nsp = strdup(ns->name);
    r->uid = q->uid ? strndup(q->uid, q->uid_len) : NULL;
    r->uid_len = q->uid_len;
    r->id_len = q->id_len;
    memcpy(r->id, q->id, q->id_len);
    if (!r->nsp || (q->uid && !r->uid)) {
        ack_relay_free(r);
        return NULL;
    }
    return r;
}

static void answer_broadcast(ra_adapter *a, const ra_nsp *ns, const request *q)
{
    const pio_value *packet = pio_value_member(q->body, "packet");
    const pio_value *opts = pio_value_member(q->body, "opts");
    const char *event;
    pio_out *args = NULL;
    selection s;
    ack_relay *r = NULL;
    uint32_t clients = 0;
    int rc = selection_read(&s, ns, opts);
    int ev = event_of(a, pio_value_member(packet, "data"), &event, &args);
    if (ev == NOT_AN_EVENT) {
        a->stats.malformed++;
    } else if (ev == NO_MEMORY || rc < 0 || !(r = ack_relay_new(ns, q))) {
        a->stats.dropped++;
        pio_log(a->ctx, PIO_LOG_ERROR, "out of memory: a broadcast with acks on %s is lost",
                ns->name);
    } else if (rc > 0) {
        int64_t timeout = 0;
        pio_value_int64(pio_value_member(pio_value_member(opts, "flags"), "timeout"), &timeout);
        if (timeout <= 0 || timeout > UINT32_MAX)
            timeout = a->cfg.requests_timeout;
        r->in_call = 1;
        int n = pio_broadcast_ack_each(a->ctx, &s.sel, event, args, (uint32_t)timeout,
                                       on_client_ack, r);
        args = NULL; /* consumed */
        r->in_call = 0;
        if (n > 0)
            clients = (uint32_t)n;
        if (n >= 0 && !r->finished)
            r = NULL; /* the last call frees it */
        /* A send that overflowed may have closed a session, the last of
         * a child namespace, which the host then deleted: ns with it. */
        ns = ra_nsp_find(a, s.nsp);
    }
    if (r)
        ack_relay_free(r);
    if (args)
        pio_out_free(args);
    if (!ns)
        pio_log(a->ctx, PIO_LOG_DEBUG,
                "%s went while a broadcast with acks was delivered: its count is not sent",
                s.nsp);
    selection_free(&s);
    if (!ns)
        return;
    /* Every server tells its count, 0 included, even when it could not
     * broadcast: the asker waits for a count from each server. */
    ra_buf b = RA_BUF_INIT;
    ra_json_client_count(&b, q->id, q->id_len, clients);
    reply(a, ns, q, &b);
}

void ra_on_request(ra_adapter *a, ra_nsp *ns, const char *payload, size_t len)
{
    request q = {0};
    q.body = ra_parse_body(a, payload, len);
    if (!q.body)
        return;
    int64_t type;
    if (pio_value_int64(pio_value_member(q.body, "type"), &type) != PIO_OK) {
        a->stats.malformed++;
        goto out;
    }
    if (ra_member_string(q.body, "uid", &q.uid, &q.uid_len) != 0)
        q.uid = NULL;
    if (ra_member_string(q.body, "requestId", &q.id, &q.id_len) != 0)
        q.id = NULL;
    /* The emitter's uid, "emitter", is no server's. */
    if (q.uid && is(q.uid, q.uid_len, ns->uid))
        goto out;
    /* A request of this server's, by an earlier uid of this namespace
     * (it was deleted and made again): not to be answered either. */
    if (q.id && ra_pending_find(&a->pending, q.id, q.id_len))
        goto out;

    switch (type) {
    case RA_SOCKETS:
    case RA_ALL_ROOMS:
    case RA_REMOTE_FETCH:
    case RA_BROADCAST:
        if (!q.id) {
            a->stats.malformed++;
            break;
        }
        if (type == RA_SOCKETS)
            answer_sockets(a, ns, &q);
        else if (type == RA_ALL_ROOMS)
            answer_all_rooms(a, ns, &q);
        else if (type == RA_REMOTE_FETCH)
            answer_fetch(a, ns, &q);
        else
            answer_broadcast(a, ns, &q);
        break;
    case RA_REMOTE_JOIN:
    case RA_REMOTE_LEAVE:
    case RA_REMOTE_DISCONNECT: {
        const pio_value *opts = pio_value_member(q.body, "opts");
        if (opts)
            apply_operation(a, ns, &q, type, opts);
        else
            apply_to_sid(a, ns, &q, type);
        break;
    }
    case RA_SERVER_SIDE_EMIT:
        answer_server_emit(a, ns, &q);
        break;
    default:
        pio_log(a->ctx, PIO_LOG_DEBUG, "ignored a request of type %" PRId64 " on %s", type,
                ns->name);
    }
out:
    pio_value_free(q.body);
}
