/*
 * cluster.c - the test plugin of plugio in a cluster (SDK ABI 1.4) that
 * the tests/e2e/redis-*.test.js files run with the Redis adapter plugin.
 * It makes a plugio node look like the Node.js reference node of those
 * tests (tests/e2e/cluster/node-server.js): the same client events, the
 * same serverEvents answers; and its control events make plugio the
 * ASKER of every operation across servers, each reporting its result in
 * the control client's ack.  Every handler makes one SDK call and reports
 * what it gave; the tests assert on what clients see.
 *
 * Config: {name} - the server's name in serverEvents answers.
 *
 * Client events (namespaces "/" and "/chat"; symbol = event name):
 *   on_connection  joins the rooms of auth.join (a room or a list) and
 *                  stores every member of auth.data as socket data (so a
 *                  fetch describes data as that object)
 *   join           (room | [room...]) join; ack with the socket's rooms
 *   leave          (room) leave; ack with the socket's rooms
 *   rooms          ack with the socket's rooms
 *   broadcast      {event, args}: socket.broadcast.emit (all but the
 *                  sender); ack with the local count
 *
 * Control events (namespace "/ctl"; symbol p_<name>), each acked with
 * ONE argument (emitWithAck resolves with the first).  A selection is
 * {nsp (default "/"), rooms, except, volatile, local}:
 *   p-emit         {sel..., event, args}: pio_broadcast; acks the count
 *   p-emit-ack     {sel..., event, args, timeout}: pio_broadcast_with_ack;
 *                  acks [status, [reply...]] when it completes
 *   p-emit-each    the same with pio_broadcast_ack_each: each answer is
 *                  emitted to the control client as "p-each" {status,
 *                  answer}; acks [status, number of answers] at the end
 *   p-fetch        {sel..., timeout}: pio_fetch_sockets; acks [status, [socket...]]
 *   p-rooms        {nsp, local, timeout}: pio_all_rooms; acks [status, [room...]]
 *   p-join         {sel..., room}: pio_select_join; acks the count
 *   p-leave        {sel..., room}: pio_select_leave; acks the count
 *   p-disconnect   {sel..., close}: pio_select_disconnect; acks the count
 *   p-sse          {nsp, event, args, ack, timeout}: pio_server_emit;
 *                  without ack: acks its code; with: acks [status, [reply...]]
 *   p-local        {nsp}: acks [id...], this server's sockets of nsp
 *                  (pio_select_sockets, no adapter involved)
 *
 * serverEvents (symbols on_server_event for "/", on_server_event_chat for
 * "/chat", both bound to the event "sse"): each call is reported to the
 * control clients in room "observers" of "/ctl" (this server only) as
 * "server-event" {nsp, event, args, wantsAck, socket: null or an id};
 * when an ack is wanted it answers {server: name, nsp, args}, unless
 * args[0] is "no-ack" (then it returns without answering).
 */
#include <plugio/plugio.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PIO_PLUGIN("cluster", "1.0.0");

PIO_HANDLER(on_connection);
PIO_HANDLER(join);
PIO_HANDLER(leave);
PIO_HANDLER(rooms);
PIO_HANDLER(broadcast);
PIO_HANDLER(p_emit);
PIO_HANDLER(p_emit_ack);
PIO_HANDLER(p_emit_each);
PIO_HANDLER(p_fetch);
PIO_HANDLER(p_rooms);
PIO_HANDLER(p_join);
PIO_HANDLER(p_leave);
PIO_HANDLER(p_disconnect);
PIO_HANDLER(p_sse);
PIO_HANDLER(p_local);
PIO_HANDLER(on_server_event);
PIO_HANDLER(on_server_event_chat);

#define MAX_ROOMS 16
#define NAME_MAX_LEN 128
#define DEFAULT_TIMEOUT_MS 5000

/* ---- Helpers ------------------------------------------------------------ */

static int fail(pio_ctx *ctx, const char *what, int rc)
{
    pio_log(ctx, PIO_LOG_ERROR, "%s: %s", what, pio_strerror(rc));
    return rc;
}

static const char *string_of(const pio_value *v)
{
    const char *s = NULL;
    size_t len = 0;
    if (!v || pio_value_string(v, &s, &len) != PIO_OK)
        return NULL;
    return s;
}

static int64_t int_of(const pio_value *v, int64_t dflt)
{
    int64_t n;
    if (!v || pio_value_int64(v, &n) != PIO_OK)
        return dflt;
    return n;
}

static int bool_of(const pio_value *v)
{
    int b = 0;
    if (!v || pio_value_bool(v, &b) != PIO_OK)
        return 0;
    return b;
}

static int copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return PIO_ERANGE;
    memcpy(dst, src, n + 1);
    return PIO_OK;
}

/* A timeout in ms from the request, within (0, 60 s]. */
static uint32_t timeout_of(const pio_value *req)
{
    int64_t ms = int_of(pio_value_member(req, "timeout"), DEFAULT_TIMEOUT_MS);
    if (ms <= 0 || ms > 60000)
        ms = DEFAULT_TIMEOUT_MS;
    return (uint32_t)ms;
}

/* Read a list of strings (or one string) into names[]. */
static int read_names(const pio_value *v, const char **names, size_t *n)
{
    *n = 0;
    if (!v || pio_value_type(v) == PIO_TYPE_NONE || pio_value_type(v) == PIO_TYPE_NULL)
        return PIO_OK;
    if (pio_value_type(v) == PIO_TYPE_STRING) {
        names[(*n)++] = string_of(v);
        return PIO_OK;
    }
    if (pio_value_type(v) != PIO_TYPE_ARRAY || pio_value_count(v) > MAX_ROOMS)
        return PIO_EINVAL;
    for (size_t i = 0; i < pio_value_count(v); i++) {
        const char *s = string_of(pio_value_index(v, i));
        if (!s)
            return PIO_EINVAL;
        names[(*n)++] = s;
    }
    return PIO_OK;
}

/* A pio_select and the room lists it points into (borrowed from args). */
struct selection {
    pio_select sel;
    const char *rooms[MAX_ROOMS];
    const char *except[MAX_ROOMS];
};

/* {nsp, rooms, except, volatile, local}; nsp defaults to "/". */
static int read_selection(const pio_value *req, struct selection *s)
{
    memset(s, 0, sizeof *s);
    s->sel.size = sizeof s->sel;
    s->sel.nsp = "/";
    if (!req || pio_value_type(req) != PIO_TYPE_OBJECT)
        return PIO_EINVAL;
    const pio_value *nsp = pio_value_member(req, "nsp");
    if (nsp && pio_value_type(nsp) != PIO_TYPE_NULL) {
        s->sel.nsp = string_of(nsp);
        if (!s->sel.nsp)
            return PIO_EINVAL;
    }
    PIO_TRY(read_names(pio_value_member(req, "rooms"), s->rooms, &s->sel.n_rooms));
    if (s->sel.n_rooms)
        s->sel.rooms = s->rooms;
    PIO_TRY(read_names(pio_value_member(req, "except"), s->except, &s->sel.n_except));
    if (s->sel.n_except)
        s->sel.except = s->except;
    if (bool_of(pio_value_member(req, "volatile")))
        s->sel.flags |= PIO_SELECT_VOLATILE;
    if (bool_of(pio_value_member(req, "local")))
        s->sel.flags |= PIO_SELECT_LOCAL;
    return PIO_OK;
}

/* Append every element of the array `list` (none when absent). */
static int out_elements(pio_out *out, const pio_value *list)
{
    if (!list || pio_value_type(list) == PIO_TYPE_NONE || pio_value_type(list) == PIO_TYPE_NULL)
        return PIO_OK;
    if (pio_value_type(list) != PIO_TYPE_ARRAY)
        return PIO_EINVAL;
    for (size_t i = 0; i < pio_value_count(list); i++)
        PIO_TRY(pio_out_value(out, pio_value_index(list, i)));
    return PIO_OK;
}

static int out_rooms(pio_out *out, const pio_socket *socket)
{
    void *cursor = NULL;
    PIO_TRY(pio_out_array_begin(out));
    for (const char *room; (room = pio_socket_room_next(socket, &cursor));)
        PIO_TRY(pio_out_cstr(out, room));
    return pio_out_array_end(out);
}

/* Acknowledge with what `build` appends to a fresh argument list. */
typedef int (*build_fn)(pio_out *out, void *userdata);

static int ack_with(pio_ctx *ctx, pio_args *args, build_fn build, void *userdata)
{
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build(out, userdata);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "building the ack", rc);
    }
    rc = pio_ack(args, out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_ack", rc);
}

static int build_int(pio_out *out, void *userdata)
{
    return pio_out_int64(out, *(const int64_t *)userdata);
}

static int ack_int(pio_ctx *ctx, pio_args *args, int64_t n)
{
    return ack_with(ctx, args, build_int, &n);
}

static int build_rooms(pio_out *out, void *userdata)
{
    return out_rooms(out, userdata);
}

/* Send a deferred ack, one argument [status, [value...]]; `values` may
 * be NULL. */
static void answer_later(pio_ctx *ctx, uint64_t ack, int status, pio_args *values)
{
    if (!ack)
        return;
    pio_out *out = pio_out_new(ctx);
    if (!out) {
        fail(ctx, "pio_out_new", PIO_ENOMEM);
        pio_ack_drop(ack);
        return;
    }
    pio_out_array_begin(out);
    pio_out_int64(out, status);
    pio_out_array_begin(out);
    for (size_t i = 0; values && i < pio_args_count(values); i++)
        pio_out_value(out, pio_args_at(values, i));
    pio_out_array_end(out);
    pio_out_array_end(out);
    int rc = pio_ack_later(ack, out);
    if (rc != PIO_OK)
        fail(ctx, "pio_ack_later", rc);
}

/* The result callbacks of the asking calls: userdata is a heap copy of
 * the deferred ack's handle. */
static void on_result(pio_ctx *ctx, int status, pio_args *values, void *userdata)
{
    uint64_t *ack = userdata;
    answer_later(ctx, *ack, status, values);
    free(ack);
}

static uint64_t *defer_ack(pio_args *args)
{
    uint64_t *ack = malloc(sizeof *ack);
    if (ack)
        *ack = pio_ack_defer(args);
    return ack;
}

/* An asking call refused at once (its callback never runs). */
static int refused(pio_ctx *ctx, uint64_t *ack, const char *what, int rc)
{
    answer_later(ctx, *ack, rc, NULL);
    free(ack);
    return fail(ctx, what, rc);
}

/* ---- Client events --------------------------------------------------------- */

PIO_HANDLER(on_connection)
{
    (void)args;
    const pio_value *auth = pio_socket_auth(socket);
    const char *names[MAX_ROOMS];
    size_t n = 0;
    int rc = read_names(pio_value_member(auth, "join"), names, &n);
    if (rc != PIO_OK)
        return fail(ctx, "auth.join", rc);
    for (size_t i = 0; i < n; i++) {
        rc = pio_socket_join(socket, names[i]);
        if (rc != PIO_OK)
            return fail(ctx, "pio_socket_join", rc);
    }
    const pio_value *data = pio_value_member(auth, "data");
    if (data && pio_value_type(data) == PIO_TYPE_OBJECT) {
        void *cursor = NULL;
        const char *key;
        for (const pio_value *v; (v = pio_value_next(data, &cursor, &key));) {
            pio_out *out = pio_out_new(ctx);
            if (!out)
                return fail(ctx, "pio_out_new", PIO_ENOMEM);
            pio_out_value(out, v);
            rc = pio_socket_data_set(socket, key, out);
            if (rc != PIO_OK)
                return fail(ctx, "pio_socket_data_set", rc);
        }
    }
    return PIO_OK;
}

PIO_HANDLER(join)
{
    const char *names[MAX_ROOMS];
    size_t n = 0;
    int rc = read_names(pio_args_at(args, 0), names, &n);
    if (rc != PIO_OK)
        return fail(ctx, "join: rooms", rc);
    for (size_t i = 0; i < n; i++) {
        rc = pio_socket_join(socket, names[i]);
        if (rc != PIO_OK)
            return fail(ctx, "pio_socket_join", rc);
    }
    return ack_with(ctx, args, build_rooms, socket);
}

PIO_HANDLER(leave)
{
    const char *room = string_of(pio_args_at(args, 0));
    if (!room)
        return fail(ctx, "leave: room", PIO_EINVAL);
    int rc = pio_socket_leave(socket, room);
    if (rc != PIO_OK)
        return fail(ctx, "pio_socket_leave", rc);
    return ack_with(ctx, args, build_rooms, socket);
}

PIO_HANDLER(rooms)
{
    return ack_with(ctx, args, build_rooms, socket);
}

PIO_HANDLER(broadcast)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    if (!event)
        return fail(ctx, "broadcast: event", PIO_EINVAL);
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket), .except_socket = socket};
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = out_elements(out, pio_value_member(req, "args"));
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "broadcast: args", rc);
    }
    int n = pio_broadcast(ctx, &sel, event, out);
    if (n < 0)
        return fail(ctx, "pio_broadcast", n);
    return ack_int(ctx, args, n);
}

/* ---- Control events: plugio asks ------------------------------------------ */

/* The event's arguments: `args` of the request, copied. */
static pio_out *event_args(pio_ctx *ctx, const pio_value *req, int *rc)
{
    pio_out *out = pio_out_new(ctx);
    if (!out) {
        *rc = PIO_ENOMEM;
        return NULL;
    }
    *rc = out_elements(out, pio_value_member(req, "args"));
    if (*rc != PIO_OK) {
        pio_out_free(out);
        return NULL;
    }
    return out;
}

PIO_HANDLER(p_emit)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK || !event)
        return fail(ctx, "p-emit: {sel, event}", rc != PIO_OK ? rc : PIO_EINVAL);
    pio_out *out = event_args(ctx, req, &rc);
    if (!out)
        return fail(ctx, "p-emit: args", rc);
    int n = pio_broadcast(ctx, &s.sel, event, out);
    if (n < 0)
        return fail(ctx, "pio_broadcast", n);
    return ack_int(ctx, args, n);
}

PIO_HANDLER(p_emit_ack)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK || !event)
        return fail(ctx, "p-emit-ack: {sel, event}", rc != PIO_OK ? rc : PIO_EINVAL);
    pio_out *out = event_args(ctx, req, &rc);
    if (!out)
        return fail(ctx, "p-emit-ack: args", rc);
    uint64_t *ack = defer_ack(args);
    if (!ack) {
        pio_out_free(out);
        return fail(ctx, "p-emit-ack", PIO_ENOMEM);
    }
    int n = pio_broadcast_with_ack(ctx, &s.sel, event, out, timeout_of(req), on_result, ack);
    if (n < 0)
        return refused(ctx, ack, "pio_broadcast_with_ack", n);
    return PIO_OK;
}

/* p-emit-each: where the answers go, and how many came. */
struct each_state {
    uint64_t ack;
    char nsp[NAME_MAX_LEN];
    char id[NAME_MAX_LEN];
    int64_t answers;
};

static void on_each(pio_ctx *ctx, int status, const pio_value *answer, void *userdata)
{
    struct each_state *st = userdata;
    if (answer) {
        st->answers++;
        pio_socket *to = pio_socket_find(ctx, st->nsp, st->id);
        pio_out *out = to ? pio_out_new(ctx) : NULL;
        if (out) {
            pio_out_object_begin(out);
            pio_out_key(out, "status", 6);
            pio_out_int64(out, status);
            pio_out_key(out, "answer", 6);
            pio_out_value(out, answer);
            pio_out_object_end(out);
            int rc = pio_emit(to, "p-each", out);
            if (rc != PIO_OK)
                fail(ctx, "p-each", rc);
        }
        return;
    }
    if (st->ack) {
        pio_out *out = pio_out_new(ctx);
        if (out) {
            pio_out_array_begin(out);
            pio_out_int64(out, status);
            pio_out_int64(out, st->answers);
            pio_out_array_end(out);
            int rc = pio_ack_later(st->ack, out);
            if (rc != PIO_OK)
                fail(ctx, "pio_ack_later", rc);
        } else {
            pio_ack_drop(st->ack);
        }
    }
    free(st);
}

PIO_HANDLER(p_emit_each)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK || !event)
        return fail(ctx, "p-emit-each: {sel, event}", rc != PIO_OK ? rc : PIO_EINVAL);
    struct each_state *st = calloc(1, sizeof *st);
    if (!st)
        return fail(ctx, "p-emit-each", PIO_ENOMEM);
    if (copy_name(st->nsp, sizeof st->nsp, pio_socket_namespace(socket)) != PIO_OK ||
        copy_name(st->id, sizeof st->id, pio_socket_id(socket)) != PIO_OK) {
        free(st);
        return fail(ctx, "p-emit-each: requester", PIO_ERANGE);
    }
    pio_out *out = event_args(ctx, req, &rc);
    if (!out) {
        free(st);
        return fail(ctx, "p-emit-each: args", rc);
    }
    st->ack = pio_ack_defer(args);
    int n = pio_broadcast_ack_each(ctx, &s.sel, event, out, timeout_of(req), on_each, st);
    if (n < 0) {
        answer_later(ctx, st->ack, n, NULL);
        free(st);
        return fail(ctx, "pio_broadcast_ack_each", n);
    }
    return PIO_OK;
}

/* p-fetch and p-rooms: the same request, answered once by on_result. */
typedef int (*gather_fn)(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                         pio_broadcast_ack_fn cb, void *userdata);

static int gather(pio_ctx *ctx, pio_args *args, gather_fn fn, const char *what)
{
    const pio_value *req = pio_args_at(args, 0);
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK)
        return fail(ctx, what, rc);
    uint64_t *ack = defer_ack(args);
    if (!ack)
        return fail(ctx, what, PIO_ENOMEM);
    int n = fn(ctx, &s.sel, timeout_of(req), on_result, ack);
    if (n < 0)
        return refused(ctx, ack, what, n);
    return PIO_OK;
}

PIO_HANDLER(p_fetch)
{
    (void)socket;
    return gather(ctx, args, pio__api->fetch_sockets, "pio_fetch_sockets");
}

PIO_HANDLER(p_rooms)
{
    (void)socket;
    return gather(ctx, args, pio__api->all_rooms, "pio_all_rooms");
}

/* p-join, p-leave, p-disconnect */
enum select_op { OP_JOIN, OP_LEAVE, OP_DISCONNECT };

static int select_op(pio_ctx *ctx, pio_args *args, enum select_op op)
{
    const pio_value *req = pio_args_at(args, 0);
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK)
        return fail(ctx, "p-join/leave/disconnect: sel", rc);
    const char *room = string_of(pio_value_member(req, "room"));
    if (op != OP_DISCONNECT && !room)
        return fail(ctx, "p-join/leave: room", PIO_EINVAL);
    int n = op == OP_JOIN    ? pio_select_join(ctx, &s.sel, room)
            : op == OP_LEAVE ? pio_select_leave(ctx, &s.sel, room)
                             : pio_select_disconnect(ctx, &s.sel, bool_of(pio_value_member(req, "close")));
    if (n < 0)
        return fail(ctx, "pio_select_join/leave/disconnect", n);
    return ack_int(ctx, args, n);
}

PIO_HANDLER(p_join)
{
    (void)socket;
    return select_op(ctx, args, OP_JOIN);
}

PIO_HANDLER(p_leave)
{
    (void)socket;
    return select_op(ctx, args, OP_LEAVE);
}

PIO_HANDLER(p_disconnect)
{
    (void)socket;
    return select_op(ctx, args, OP_DISCONNECT);
}

PIO_HANDLER(p_sse)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    const pio_value *nsp_v = pio_value_member(req, "nsp");
    const char *nsp = nsp_v ? string_of(nsp_v) : NULL;
    if (!event || (nsp_v && pio_value_type(nsp_v) != PIO_TYPE_NULL && !nsp))
        return fail(ctx, "p-sse: {nsp, event}", PIO_EINVAL);
    int rc;
    pio_out *out = event_args(ctx, req, &rc);
    if (!out)
        return fail(ctx, "p-sse: args", rc);
    if (!bool_of(pio_value_member(req, "ack"))) {
        rc = pio_server_emit(ctx, nsp, event, out, 0, NULL, NULL);
        if (rc != PIO_OK)
            fail(ctx, "pio_server_emit", rc);
        return ack_int(ctx, args, rc);
    }
    uint64_t *ack = defer_ack(args);
    if (!ack) {
        pio_out_free(out);
        return fail(ctx, "p-sse", PIO_ENOMEM);
    }
    rc = pio_server_emit(ctx, nsp, event, out, timeout_of(req), on_result, ack);
    if (rc != PIO_OK)
        return refused(ctx, ack, "pio_server_emit", rc);
    return PIO_OK;
}

static int add_id(pio_ctx *ctx, pio_socket *socket, void *userdata)
{
    (void)ctx;
    return pio_out_cstr(userdata, pio_socket_id(socket)) != PIO_OK;
}

PIO_HANDLER(p_local)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    struct selection s;
    int rc = read_selection(req, &s);
    if (rc != PIO_OK)
        return fail(ctx, "p-local: sel", rc);
    s.sel.flags |= PIO_SELECT_LOCAL;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    pio_out_array_begin(out);
    pio_select_sockets(ctx, &s.sel, add_id, out);
    pio_out_array_end(out);
    rc = pio_ack(args, out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_ack", rc);
}

/* ---- serverEvents ----------------------------------------------------------- */

static int build_record(pio_out *out, const char *nsp, pio_socket *socket, pio_args *args)
{
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "nsp", 3));
    PIO_TRY(pio_out_cstr(out, nsp));
    PIO_TRY(pio_out_key(out, "event", 5));
    PIO_TRY(pio_out_cstr(out, "sse"));
    PIO_TRY(pio_out_key(out, "args", 4));
    PIO_TRY(pio_out_array_begin(out));
    for (size_t i = 0; i < pio_args_count(args); i++)
        PIO_TRY(pio_out_value(out, pio_args_at(args, i)));
    PIO_TRY(pio_out_array_end(out));
    PIO_TRY(pio_out_key(out, "wantsAck", 8));
    PIO_TRY(pio_out_bool(out, pio_args_wants_ack(args) != 0));
    PIO_TRY(pio_out_key(out, "socket", 6));
    PIO_TRY(socket ? pio_out_cstr(out, pio_socket_id(socket)) : pio_out_null(out));
    return pio_out_object_end(out);
}

static int build_answer(pio_ctx *ctx, pio_out *out, const char *nsp, pio_args *args)
{
    const char *name = string_of(pio_value_member(pio_ctx_config(ctx), "name"));
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "server", 6));
    PIO_TRY(pio_out_cstr(out, name ? name : "plugio"));
    PIO_TRY(pio_out_key(out, "nsp", 3));
    PIO_TRY(pio_out_cstr(out, nsp));
    PIO_TRY(pio_out_key(out, "args", 4));
    PIO_TRY(pio_out_array_begin(out));
    for (size_t i = 0; i < pio_args_count(args); i++)
        PIO_TRY(pio_out_value(out, pio_args_at(args, i)));
    PIO_TRY(pio_out_array_end(out));
    return pio_out_object_end(out);
}

static int server_event(pio_ctx *ctx, pio_socket *socket, pio_args *args, const char *nsp)
{
    /* Reported on this server only: a plugio peer has "/ctl" observers too. */
    pio_select observers = {.size = sizeof observers,
                            .flags = PIO_SELECT_LOCAL,
                            .nsp = "/ctl",
                            .rooms = (const char *[]){"observers"},
                            .n_rooms = 1};
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_record(out, nsp, socket, args);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "server-event record", rc);
    }
    int n = pio_broadcast(ctx, &observers, "server-event", out);
    if (n < 0)
        fail(ctx, "pio_broadcast server-event", n);

    if (!pio_args_wants_ack(args))
        return PIO_OK;
    const char *first = string_of(pio_args_at(args, 0));
    if (first && strcmp(first, "no-ack") == 0)
        return PIO_OK;
    out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    rc = build_answer(ctx, out, nsp, args);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "server-event answer", rc);
    }
    rc = pio_ack(args, out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_ack", rc);
}

PIO_HANDLER(on_server_event)
{
    return server_event(ctx, socket, args, "/");
}

PIO_HANDLER(on_server_event_chat)
{
    return server_event(ctx, socket, args, "/chat");
}
