/*
 * io.c - the test plugin of the io API (SDK ABI 1.1) that tests/e2e/io.test.js
 * and io-load.test.js run the host with.  Built twice from this one source,
 * libio_a.so and libio_b.so (BUILD_ID "a" / "b"), so the reload tests can
 * swap one for the other and tell which version's code ran.
 *
 * Like e2e.c, every handler turns an SDK call into something a stock
 * socket.io-client can observe, and does nothing clever: the tests assert
 * on what the clients see.
 *
 * A selection ("sel" below) is an object that becomes a pio_select, every
 * member optional: {nsp, rooms: [...], except: [...], exceptSender: bool,
 * volatile: bool}; nsp defaults to the namespace of the socket that asked.
 *
 * Events (symbol io_<event>; bound by the tests' YAML):
 *   connection   join the rooms listed in auth.join, count the connection,
 *                emit "welcome" {id, nsp, rooms, trail, build}
 *   join         (room | [room...]) join; ack with the socket's rooms
 *   leave        (room) leave; ack with the socket's rooms
 *   in_room      (room) ack with pio_socket_in_room != 0
 *   bcast        {sel, event, args: [...], repeat, size}: pio_broadcast
 *                `repeat` times (default 1) with `args`, or with [i, "x" * size]
 *                when size is given; ack with [count returned by each call]
 *   bcast_ack    {sel, event, args, timeout}: pio_broadcast_with_ack; ack with
 *                the count addressed; the callback emits "bcast_acked"
 *                {code, replies} to the socket that asked
 *   ask          {id, event, args, timeout}: pio_emit_with_ack to socket `id`
 *                (pio_socket_find); ack with the code; the callback emits
 *                "asked" {code, reply, from} to the socket that asked
 *   raw          {event, rooms, data}: pio_raw; ack with its count
 *   sockets      (sel) ack with the ids pio_select_sockets visits
 *   rooms        (nsp) ack with {room: members} from pio_rooms
 *   sjoin        {sel, room}: pio_select_join; ack with the count
 *   sleave       {sel, room}: pio_select_leave; ack with the count
 *   sdisconnect  {sel, close}: pio_select_disconnect; ack with the count
 *   find         {nsp, id}: ack with {id, nsp, rooms} of that socket, or null
 *   data_set     (key, value) set (no value: remove); ack with the code
 *   data_get     (key, id?) ack with the value (of socket `id` if given), or null
 *   stats        ack with {connections, build}
 *   timer        {delay, repeat, times, room}: pio_timer_start; every firing
 *                broadcasts "tick" {timer, n, build} to `room`; a repeating
 *                timer with `times` cancels itself after that many; ack with
 *                the timer id
 *   timer_cancel (id) ack with pio_timer_cancel's code
 *   pipe         (text) a non-blocking pipe: a write watch writes `text` and
 *                closes its end, a read watch reads it to EOF, then emits
 *                "piped" {text, build, reads} to the socket that asked
 *   work         {ms, n}: pio_work_submit: the worker sleeps ms and sums the
 *                squares 1..n; done emits "worked" {result, offLoop,
 *                doneOnLoop, build} to the socket that asked; ack right away
 *   build        ack with BUILD_ID
 *
 * Middleware (symbols mw_first, mw_second), driven by the auth payload
 * {reject, message, room}:
 *   mw_first     reject === "first": refuse with `message`; otherwise join
 *                `room` (if any) and set data "trail" = ["first"]
 *   mw_second    reject === "second": refuse; otherwise append "second" to
 *                the "trail" it finds (so the order shows)
 *
 * The load hook starts a repeating 100 ms timer that broadcasts "beat"
 * BUILD_ID to the room "beats" on "/"; it is never cancelled by the plugin,
 * so whether it stops when the version is replaced is the host's doing.
 *
 * Every SDK call's return code is checked; a failure is logged and returned.
 */
#include <plugio/plugio.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BUILD_ID
#define BUILD_ID "a"
#endif

static const char *io_load(pio_ctx *ctx, void *state);
static void *io_unload(pio_ctx *ctx, int final);

PIO_PLUGIN("io", BUILD_ID, .load = io_load, .unload = io_unload);

PIO_HANDLER(io_connection);
PIO_HANDLER(io_join);
PIO_HANDLER(io_leave);
PIO_HANDLER(io_in_room);
PIO_HANDLER(io_bcast);
PIO_HANDLER(io_bcast_ack);
PIO_HANDLER(io_ask);
PIO_HANDLER(io_raw);
PIO_HANDLER(io_sockets);
PIO_HANDLER(io_rooms);
PIO_HANDLER(io_sjoin);
PIO_HANDLER(io_sleave);
PIO_HANDLER(io_sdisconnect);
PIO_HANDLER(io_find);
PIO_HANDLER(io_data_set);
PIO_HANDLER(io_data_get);
PIO_HANDLER(io_stats);
PIO_HANDLER(io_timer);
PIO_HANDLER(io_timer_cancel);
PIO_HANDLER(io_pipe);
PIO_HANDLER(io_work);
PIO_HANDLER(io_build);
PIO_MIDDLEWARE(mw_first);
PIO_MIDDLEWARE(mw_second);

#define MAX_ROOMS 16
#define NAME_MAX_LEN 128

/* ---- Helpers ---------------------------------------------------------- */

static int fail(pio_ctx *ctx, const char *what, int rc)
{
    pio_log(ctx, PIO_LOG_ERROR, "%s: %s", what, pio_strerror(rc));
    return rc;
}

/* The string in v, or NULL when v is no string. */
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

/* Copy a NUL-terminated string into a fixed buffer; PIO_ERANGE if it does
 * not fit. */
static int copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return PIO_ERANGE;
    memcpy(dst, src, n + 1);
    return PIO_OK;
}

static int out_key_cstr(pio_out *out, const char *key, const char *val)
{
    PIO_TRY(pio_out_key(out, key, strlen(key)));
    return val ? pio_out_cstr(out, val) : pio_out_null(out);
}

static int out_key_int(pio_out *out, const char *key, int64_t val)
{
    PIO_TRY(pio_out_key(out, key, strlen(key)));
    return pio_out_int64(out, val);
}

static int out_key_value(pio_out *out, const char *key, const pio_value *v)
{
    PIO_TRY(pio_out_key(out, key, strlen(key)));
    if (!v || pio_value_type(v) == PIO_TYPE_NONE)
        return pio_out_null(out);
    return pio_out_value(out, v);
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

static int build_value(pio_out *out, void *userdata)
{
    const pio_value *v = userdata;
    if (!v || pio_value_type(v) == PIO_TYPE_NONE)
        return pio_out_null(out);
    return pio_out_value(out, v);
}

static int build_rooms(pio_out *out, void *userdata)
{
    const pio_socket *socket = userdata;
    void *cursor = NULL;
    PIO_TRY(pio_out_array_begin(out));
    for (const char *room; (room = pio_socket_room_next(socket, &cursor));)
        PIO_TRY(pio_out_cstr(out, room));
    return pio_out_array_end(out);
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

static int read_selection(const pio_value *v, pio_socket *socket, struct selection *s)
{
    memset(s, 0, sizeof *s);
    s->sel.size = sizeof s->sel;
    s->sel.nsp = pio_socket_namespace(socket);
    if (!v || pio_value_type(v) == PIO_TYPE_NONE || pio_value_type(v) == PIO_TYPE_NULL)
        return PIO_OK;
    if (pio_value_type(v) != PIO_TYPE_OBJECT)
        return PIO_EINVAL;
    const pio_value *nsp = pio_value_member(v, "nsp");
    if (nsp) {
        s->sel.nsp = string_of(nsp);
        if (!s->sel.nsp)
            return PIO_EINVAL;
    }
    PIO_TRY(read_names(pio_value_member(v, "rooms"), s->rooms, &s->sel.n_rooms));
    if (s->sel.n_rooms)
        s->sel.rooms = s->rooms;
    PIO_TRY(read_names(pio_value_member(v, "except"), s->except, &s->sel.n_except));
    if (s->sel.n_except)
        s->sel.except = s->except;
    if (bool_of(pio_value_member(v, "exceptSender")))
        s->sel.except_socket = socket;
    if (bool_of(pio_value_member(v, "volatile")))
        s->sel.flags |= PIO_SELECT_VOLATILE;
    return PIO_OK;
}

/* Append every element of the array `list` (none when absent). */
static int out_elements(pio_out *out, const pio_value *list)
{
    if (!list || pio_value_type(list) == PIO_TYPE_NONE)
        return PIO_OK;
    if (pio_value_type(list) != PIO_TYPE_ARRAY)
        return PIO_EINVAL;
    for (size_t i = 0; i < pio_value_count(list); i++)
        PIO_TRY(pio_out_value(out, pio_value_index(list, i)));
    return PIO_OK;
}

/* Who asked, kept across an asynchronous callback: found again by id. */
struct requester {
    char nsp[NAME_MAX_LEN];
    char id[NAME_MAX_LEN];
};

static int remember(struct requester *r, const pio_socket *socket)
{
    PIO_TRY(copy_name(r->nsp, sizeof r->nsp, pio_socket_namespace(socket)));
    return copy_name(r->id, sizeof r->id, pio_socket_id(socket));
}

/* Emit `event` with the arguments `build` makes to the remembered socket,
 * if it is still connected. */
static void emit_to(pio_ctx *ctx, const struct requester *r, const char *event, build_fn build,
                    void *userdata)
{
    pio_socket *socket = pio_socket_find(ctx, r->nsp, r->id);
    if (!socket) {
        pio_log(ctx, PIO_LOG_WARN, "%s: socket %s is gone", event, r->id);
        return;
    }
    pio_out *out = pio_out_new(ctx);
    if (!out) {
        fail(ctx, "pio_out_new", PIO_ENOMEM);
        return;
    }
    int rc = build(out, userdata);
    if (rc != PIO_OK) {
        pio_out_free(out);
        fail(ctx, event, rc);
        return;
    }
    rc = pio_emit(socket, event, out);
    if (rc != PIO_OK)
        fail(ctx, event, rc);
}

/* ---- connection, middleware --------------------------------------------- */

static long connections;

static int build_welcome(pio_out *out, void *userdata)
{
    pio_socket *socket = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_cstr(out, "id", pio_socket_id(socket)));
    PIO_TRY(out_key_cstr(out, "nsp", pio_socket_namespace(socket)));
    PIO_TRY(pio_out_key(out, "rooms", 5));
    PIO_TRY(build_rooms(out, socket));
    PIO_TRY(out_key_value(out, "trail", pio_socket_data_get(socket, "trail")));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    return pio_out_object_end(out);
}

PIO_HANDLER(io_connection)
{
    (void)args;
    connections++;
    const char *rooms[MAX_ROOMS];
    size_t n = 0;
    int rc = read_names(pio_value_member(pio_socket_auth(socket), "join"), rooms, &n);
    if (rc != PIO_OK)
        return fail(ctx, "auth.join", rc);
    for (size_t i = 0; i < n; i++) {
        rc = pio_socket_join(socket, rooms[i]);
        if (rc != PIO_OK)
            return fail(ctx, "pio_socket_join", rc);
    }
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    rc = build_welcome(out, socket);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "welcome", rc);
    }
    rc = pio_emit(socket, "welcome", out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_emit welcome", rc);
}

/* The refusal message the auth payload asks `stage` for, or NULL. */
static const char *refusal(pio_socket *socket, const char *stage)
{
    const pio_value *auth = pio_socket_auth(socket);
    const char *reject = string_of(pio_value_member(auth, "reject"));
    if (!reject || strcmp(reject, stage) != 0)
        return NULL;
    const char *message = string_of(pio_value_member(auth, "message"));
    return message ? message : "refused";
}

/* Set data `key` to a list: the strings of `prefix` (an array or NULL),
 * then `last`. */
static int set_trail(pio_ctx *ctx, pio_socket *socket, const pio_value *prefix, const char *last)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    int rc = pio_out_array_begin(out);
    for (size_t i = 0; rc == PIO_OK && i < pio_value_count(prefix); i++)
        rc = pio_out_value(out, pio_value_index(prefix, i));
    if (rc == PIO_OK)
        rc = pio_out_cstr(out, last);
    if (rc == PIO_OK)
        rc = pio_out_array_end(out);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return rc;
    }
    return pio_socket_data_set(socket, "trail", out);
}

PIO_MIDDLEWARE(mw_first)
{
    const char *no = refusal(socket, "first");
    if (no)
        return no;
    const char *room = string_of(pio_value_member(pio_socket_auth(socket), "room"));
    if (room && pio_socket_join(socket, room) != PIO_OK)
        return "mw_first: pio_socket_join failed";
    int rc = set_trail(ctx, socket, NULL, "first");
    if (rc != PIO_OK) {
        fail(ctx, "mw_first: trail", rc);
        return "mw_first: cannot set the trail";
    }
    return NULL;
}

PIO_MIDDLEWARE(mw_second)
{
    const char *no = refusal(socket, "second");
    if (no)
        return no;
    int rc = set_trail(ctx, socket, pio_socket_data_get(socket, "trail"), "second");
    if (rc != PIO_OK) {
        fail(ctx, "mw_second: trail", rc);
        return "mw_second: cannot set the trail";
    }
    return NULL;
}

/* ---- rooms ---------------------------------------------------------------- */

PIO_HANDLER(io_join)
{
    const char *rooms[MAX_ROOMS];
    size_t n = 0;
    int rc = read_names(pio_args_at(args, 0), rooms, &n);
    if (rc != PIO_OK)
        return fail(ctx, "join: rooms", rc);
    for (size_t i = 0; i < n; i++) {
        rc = pio_socket_join(socket, rooms[i]);
        if (rc != PIO_OK)
            return fail(ctx, "pio_socket_join", rc);
    }
    return ack_with(ctx, args, build_rooms, socket);
}

PIO_HANDLER(io_leave)
{
    const char *room = string_of(pio_args_at(args, 0));
    if (!room)
        return fail(ctx, "leave: room", PIO_EINVAL);
    int rc = pio_socket_leave(socket, room);
    if (rc != PIO_OK)
        return fail(ctx, "pio_socket_leave", rc);
    return ack_with(ctx, args, build_rooms, socket);
}

PIO_HANDLER(io_in_room)
{
    const char *room = string_of(pio_args_at(args, 0));
    if (!room)
        return fail(ctx, "in_room: room", PIO_EINVAL);
    return ack_int(ctx, args, pio_socket_in_room(socket, room) != 0);
}

/* ---- broadcasts ----------------------------------------------------------- */

struct bcast_counts {
    int64_t *counts;
    int64_t n;
};

static int build_counts(pio_out *out, void *userdata)
{
    const struct bcast_counts *c = userdata;
    PIO_TRY(pio_out_array_begin(out));
    for (int64_t i = 0; i < c->n; i++)
        PIO_TRY(pio_out_int64(out, c->counts[i]));
    return pio_out_array_end(out);
}

/* The arguments of the i-th broadcast of `bcast`. */
static int build_bcast_args(pio_out *out, const pio_value *req, int64_t i, const char *filler,
                            size_t size)
{
    if (filler) {
        PIO_TRY(pio_out_int64(out, i));
        return pio_out_string(out, filler, size);
    }
    return out_elements(out, pio_value_member(req, "args"));
}

PIO_HANDLER(io_bcast)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    int64_t repeat = int_of(pio_value_member(req, "repeat"), 1);
    int64_t size = int_of(pio_value_member(req, "size"), -1);
    if (!event || repeat < 1 || repeat > 100000 || size > 16 * 1024 * 1024)
        return fail(ctx, "bcast: {event, repeat, size}", PIO_EINVAL);
    struct selection s;
    int rc = read_selection(pio_value_member(req, "sel"), socket, &s);
    if (rc != PIO_OK)
        return fail(ctx, "bcast: sel", rc);

    char *filler = NULL;
    if (size >= 0) {
        filler = malloc((size_t)size + 1);
        if (!filler)
            return fail(ctx, "bcast: filler", PIO_ENOMEM);
        memset(filler, 'x', (size_t)size);
    }
    struct bcast_counts c = {calloc((size_t)repeat, sizeof *c.counts), repeat};
    if (!c.counts) {
        free(filler);
        return fail(ctx, "bcast: counts", PIO_ENOMEM);
    }
    for (int64_t i = 0; rc == PIO_OK && i < repeat; i++) {
        pio_out *out = pio_out_new(ctx);
        if (!out) {
            rc = PIO_ENOMEM;
            break;
        }
        rc = build_bcast_args(out, req, i, filler, (size_t)(size < 0 ? 0 : size));
        if (rc != PIO_OK) {
            pio_out_free(out);
            break;
        }
        int sent = pio_broadcast(ctx, &s.sel, event, out);
        if (sent < 0)
            rc = sent;
        else
            c.counts[i] = sent;
    }
    free(filler);
    if (rc == PIO_OK)
        rc = ack_with(ctx, args, build_counts, &c);
    else
        fail(ctx, "pio_broadcast", rc);
    free(c.counts);
    return rc;
}

struct bcast_ack_result {
    int status;
    pio_args *replies;
};

static int build_bcast_acked(pio_out *out, void *userdata)
{
    const struct bcast_ack_result *r = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_int(out, "code", r->status));
    PIO_TRY(pio_out_key(out, "replies", 7));
    PIO_TRY(pio_out_array_begin(out));
    for (size_t i = 0; i < pio_args_count(r->replies); i++)
        PIO_TRY(pio_out_value(out, pio_args_at(r->replies, i)));
    PIO_TRY(pio_out_array_end(out));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    return pio_out_object_end(out);
}

static void on_bcast_acked(pio_ctx *ctx, int status, pio_args *replies, void *userdata)
{
    struct requester *who = userdata;
    struct bcast_ack_result r = {status, replies};
    emit_to(ctx, who, "bcast_acked", build_bcast_acked, &r);
    free(who);
}

PIO_HANDLER(io_bcast_ack)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    int64_t timeout = int_of(pio_value_member(req, "timeout"), 1000);
    if (!event || timeout < 0 || timeout > 60000)
        return fail(ctx, "bcast_ack: {event, timeout}", PIO_EINVAL);
    struct selection s;
    int rc = read_selection(pio_value_member(req, "sel"), socket, &s);
    if (rc != PIO_OK)
        return fail(ctx, "bcast_ack: sel", rc);
    struct requester *who = malloc(sizeof *who);
    if (!who)
        return fail(ctx, "bcast_ack", PIO_ENOMEM);
    rc = remember(who, socket);
    pio_out *out = rc == PIO_OK ? pio_out_new(ctx) : NULL;
    if (!out) {
        free(who);
        return fail(ctx, "bcast_ack", rc == PIO_OK ? PIO_ENOMEM : rc);
    }
    rc = out_elements(out, pio_value_member(req, "args"));
    if (rc != PIO_OK) {
        pio_out_free(out);
        free(who);
        return fail(ctx, "bcast_ack: args", rc);
    }
    int n = pio_broadcast_with_ack(ctx, &s.sel, event, out, (uint32_t)timeout, on_bcast_acked,
                                   who);
    if (n < 0) {
        free(who); /* cb never runs on error */
        return fail(ctx, "pio_broadcast_with_ack", n);
    }
    return ack_int(ctx, args, n);
}

struct ask_state {
    struct requester who;
    char target[NAME_MAX_LEN];
    bool timer_after; /* the callback tries to start a timer */
};

struct ask_result {
    int status;
    pio_args *reply;
    const char *from;
    int timer; /* -1: not tried; else whether pio_timer_start gave an id */
};

static int build_asked(pio_out *out, void *userdata)
{
    const struct ask_result *r = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_int(out, "code", r->status));
    PIO_TRY(pio_out_key(out, "reply", 5));
    PIO_TRY(pio_out_array_begin(out));
    for (size_t i = 0; i < pio_args_count(r->reply); i++)
        PIO_TRY(pio_out_value(out, pio_args_at(r->reply, i)));
    PIO_TRY(pio_out_array_end(out));
    PIO_TRY(out_key_cstr(out, "from", r->from));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    if (r->timer >= 0) {
        PIO_TRY(pio_out_key(out, "timer", 5));
        PIO_TRY(pio_out_bool(out, r->timer));
    }
    return pio_out_object_end(out);
}

static void on_late_timer(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer, (void)userdata;
    pio_log(ctx, PIO_LOG_INFO, "late timer of build %s fired", BUILD_ID);
}

static void on_asked(pio_ctx *ctx, pio_socket *socket, int status, pio_args *reply, void *userdata)
{
    (void)socket;
    struct ask_state *st = userdata;
    struct ask_result r = {status, reply, st->target, -1};
    /* A version replaced since the emit runs this callback from its
     * still-mapped code; it must not be able to start a timer that would
     * outlive that code. */
    if (st->timer_after)
        r.timer = pio_timer_start(ctx, 50, 0, on_late_timer, NULL) != 0;
    emit_to(ctx, &st->who, "asked", build_asked, &r);
    free(st);
}

PIO_HANDLER(io_ask)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *id = string_of(pio_value_member(req, "id"));
    const char *event = string_of(pio_value_member(req, "event"));
    int64_t timeout = int_of(pio_value_member(req, "timeout"), 1000);
    if (!id || !event || timeout < 0 || timeout > 60000)
        return fail(ctx, "ask: {id, event, timeout}", PIO_EINVAL);
    pio_socket *target = pio_socket_find(ctx, pio_socket_namespace(socket), id);
    if (!target)
        return ack_int(ctx, args, PIO_ECLOSED);
    struct ask_state *st = malloc(sizeof *st);
    if (!st)
        return fail(ctx, "ask", PIO_ENOMEM);
    int rc = remember(&st->who, socket);
    if (rc == PIO_OK)
        rc = copy_name(st->target, sizeof st->target, id);
    int timer_after = 0;
    st->timer_after = pio_value_bool(pio_value_member(req, "timer_after"), &timer_after) == PIO_OK &&
                      timer_after;
    pio_out *out = rc == PIO_OK ? pio_out_new(ctx) : NULL;
    if (!out) {
        free(st);
        return fail(ctx, "ask", rc == PIO_OK ? PIO_ENOMEM : rc);
    }
    rc = out_elements(out, pio_value_member(req, "args"));
    if (rc != PIO_OK) {
        pio_out_free(out);
        free(st);
        return fail(ctx, "ask: args", rc);
    }
    rc = pio_emit_with_ack(target, event, out, (uint32_t)timeout, on_asked, st);
    if (rc != PIO_OK)
        free(st); /* cb never runs on error */
    return ack_int(ctx, args, rc);
}

PIO_HANDLER(io_raw)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    const char *event = string_of(pio_value_member(req, "event"));
    if (!event)
        return fail(ctx, "raw: event", PIO_EINVAL);
    const char *rooms[MAX_ROOMS];
    size_t n_rooms = 0;
    int rc = read_names(pio_value_member(req, "rooms"), rooms, &n_rooms);
    if (rc != PIO_OK)
        return fail(ctx, "raw: rooms", rc);
    pio_out *data = pio_out_new(ctx);
    if (!data)
        return fail(ctx, "raw", PIO_ENOMEM);
    const pio_value *v = pio_value_member(req, "data");
    rc = v ? pio_out_value(data, v) : pio_out_null(data);
    if (rc != PIO_OK) {
        pio_out_free(data);
        return fail(ctx, "raw: data", rc);
    }
    int sent = pio_raw(ctx, event, n_rooms ? rooms : NULL, n_rooms, data);
    if (sent < 0)
        return fail(ctx, "pio_raw", sent);
    return ack_int(ctx, args, sent);
}

/* ---- server operations ---------------------------------------------------- */

static int add_id(pio_ctx *ctx, pio_socket *s, void *userdata)
{
    (void)ctx;
    pio_out *out = userdata;
    return pio_out_cstr(out, pio_socket_id(s)) != PIO_OK; /* stop on error */
}

PIO_HANDLER(io_sockets)
{
    struct selection s;
    int rc = read_selection(pio_args_at(args, 0), socket, &s);
    if (rc != PIO_OK)
        return fail(ctx, "sockets: sel", rc);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "sockets", PIO_ENOMEM);
    rc = pio_out_array_begin(out);
    int n = rc == PIO_OK ? pio_select_sockets(ctx, &s.sel, add_id, out) : rc;
    if (n < 0 || (rc = pio_out_array_end(out)) != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "pio_select_sockets", n < 0 ? n : rc);
    }
    rc = pio_ack(args, out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_ack", rc);
}

static int add_room(pio_ctx *ctx, const char *room, size_t members, void *userdata)
{
    (void)ctx;
    pio_out *out = userdata;
    return pio_out_key(out, room, strlen(room)) != PIO_OK ||
           pio_out_int64(out, (int64_t)members) != PIO_OK;
}

PIO_HANDLER(io_rooms)
{
    const char *nsp = string_of(pio_args_at(args, 0));
    if (!nsp)
        nsp = pio_socket_namespace(socket);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "rooms", PIO_ENOMEM);
    int rc = pio_out_object_begin(out);
    int n = rc == PIO_OK ? pio_rooms(ctx, nsp, add_room, out) : rc;
    if (n < 0 || (rc = pio_out_object_end(out)) != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "pio_rooms", n < 0 ? n : rc);
    }
    rc = pio_ack(args, out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_ack", rc);
}

/* sjoin / sleave: {sel, room}. */
static int select_room_op(pio_ctx *ctx, pio_socket *socket, pio_args *args, int join)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *room = string_of(pio_value_member(req, "room"));
    if (!room)
        return fail(ctx, "sjoin/sleave: room", PIO_EINVAL);
    struct selection s;
    int rc = read_selection(pio_value_member(req, "sel"), socket, &s);
    if (rc != PIO_OK)
        return fail(ctx, "sjoin/sleave: sel", rc);
    int n = join ? pio_select_join(ctx, &s.sel, room) : pio_select_leave(ctx, &s.sel, room);
    if (n < 0)
        return fail(ctx, join ? "pio_select_join" : "pio_select_leave", n);
    return ack_int(ctx, args, n);
}

PIO_HANDLER(io_sjoin)
{
    return select_room_op(ctx, socket, args, 1);
}

PIO_HANDLER(io_sleave)
{
    return select_room_op(ctx, socket, args, 0);
}

PIO_HANDLER(io_sdisconnect)
{
    const pio_value *req = pio_args_at(args, 0);
    struct selection s;
    int rc = read_selection(pio_value_member(req, "sel"), socket, &s);
    if (rc != PIO_OK)
        return fail(ctx, "sdisconnect: sel", rc);
    int n = pio_select_disconnect(ctx, &s.sel, bool_of(pio_value_member(req, "close")));
    if (n < 0)
        return fail(ctx, "pio_select_disconnect", n);
    return ack_int(ctx, args, n);
}

static int build_found(pio_out *out, void *userdata)
{
    pio_socket *found = userdata;
    if (!found)
        return pio_out_null(out);
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_cstr(out, "id", pio_socket_id(found)));
    PIO_TRY(out_key_cstr(out, "nsp", pio_socket_namespace(found)));
    PIO_TRY(pio_out_key(out, "rooms", 5));
    PIO_TRY(build_rooms(out, found));
    return pio_out_object_end(out);
}

PIO_HANDLER(io_find)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    const char *id = string_of(pio_value_member(req, "id"));
    const char *nsp = string_of(pio_value_member(req, "nsp")); /* NULL: "/" */
    if (!id)
        return fail(ctx, "find: id", PIO_EINVAL);
    pio_socket *found = pio_socket_find(ctx, nsp, id);
    /* {kick: "close"}: disconnect what was found (closing its connection)
     * and then read it back - it is borrowed for the whole call. */
    const char *kick = string_of(pio_value_member(req, "kick"));
    if (found && kick)
        PIO_TRY(pio_socket_disconnect(found, strcmp(kick, "close") == 0));
    return ack_with(ctx, args, build_found, found);
}

/* ---- socket data ------------------------------------------------------------ */

PIO_HANDLER(io_data_set)
{
    const char *key = string_of(pio_args_at(args, 0));
    const pio_value *v = pio_args_at(args, 1);
    if (!key)
        return fail(ctx, "data_set: key", PIO_EINVAL);
    pio_out *value = NULL;
    if (v) {
        value = pio_out_new(ctx);
        if (!value)
            return fail(ctx, "data_set", PIO_ENOMEM);
        int rc = pio_out_value(value, v);
        if (rc != PIO_OK) {
            pio_out_free(value);
            return fail(ctx, "data_set: value", rc);
        }
    }
    return ack_int(ctx, args, pio_socket_data_set(socket, key, value));
}

PIO_HANDLER(io_data_get)
{
    const char *key = string_of(pio_args_at(args, 0));
    const char *id = string_of(pio_args_at(args, 1));
    if (!key)
        return fail(ctx, "data_get: key", PIO_EINVAL);
    pio_socket *of = id ? pio_socket_find(ctx, pio_socket_namespace(socket), id) : socket;
    const pio_value *v = of ? pio_socket_data_get(of, key) : NULL;
    return ack_with(ctx, args, build_value, (void *)v);
}

static int build_stats(pio_out *out, void *userdata)
{
    (void)userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_int(out, "connections", connections));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    return pio_out_object_end(out);
}

PIO_HANDLER(io_stats)
{
    (void)socket;
    return ack_with(ctx, args, build_stats, NULL);
}

PIO_HANDLER(io_build)
{
    (void)socket;
    const char *id = BUILD_ID;
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "build", PIO_ENOMEM);
    int rc = pio_out_cstr(out, id);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "build", rc);
    }
    return pio_ack(args, out);
}

/* ---- timers ------------------------------------------------------------------ */

/* Timers a client started, in fixed slots: nothing to free when the
 * version goes away and the host cancels them. */
struct tick {
    int used;
    uint64_t id;
    int64_t fired, times;
    int repeating;
    char room[NAME_MAX_LEN];
};
static struct tick ticks[64];

static int build_tick(pio_out *out, void *userdata)
{
    const struct tick *t = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_int(out, "timer", (int64_t)t->id));
    PIO_TRY(out_key_int(out, "n", t->fired));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    return pio_out_object_end(out);
}

static void on_tick(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    struct tick *t = userdata;
    if (!t->used || t->id != timer) {
        pio_log(ctx, PIO_LOG_ERROR, "tick: timer %llu fired for a slot it does not own",
                (unsigned long long)timer);
        return;
    }
    t->fired++;
    pio_out *out = pio_out_new(ctx);
    int rc = out ? build_tick(out, t) : PIO_ENOMEM;
    if (rc == PIO_OK) {
        pio_select sel = {.size = sizeof sel, .rooms = (const char *[]){t->room}, .n_rooms = 1};
        int sent = pio_broadcast(ctx, &sel, "tick", out);
        if (sent < 0)
            fail(ctx, "tick: pio_broadcast", sent);
    } else {
        if (out)
            pio_out_free(out);
        fail(ctx, "tick", rc);
    }
    if (!t->repeating) {
        t->used = 0; /* a one-shot timer is done */
    } else if (t->times > 0 && t->fired >= t->times) {
        rc = pio_timer_cancel(ctx, timer);
        if (rc != PIO_OK)
            fail(ctx, "tick: pio_timer_cancel", rc);
        t->used = 0;
    }
}

PIO_HANDLER(io_timer)
{
    (void)socket;
    const pio_value *req = pio_args_at(args, 0);
    int64_t delay = int_of(pio_value_member(req, "delay"), 0);
    int64_t repeat = int_of(pio_value_member(req, "repeat"), 0);
    int64_t times = int_of(pio_value_member(req, "times"), 0);
    const char *room = string_of(pio_value_member(req, "room"));
    if (!room || delay < 0 || delay > 600000 || repeat < 0 || repeat > 600000)
        return fail(ctx, "timer: {delay, repeat, times, room}", PIO_EINVAL);
    struct tick *t = NULL;
    for (size_t i = 0; !t && i < sizeof ticks / sizeof ticks[0]; i++)
        if (!ticks[i].used)
            t = &ticks[i];
    if (!t)
        return fail(ctx, "timer: all slots in use", PIO_ENOMEM);
    int rc = copy_name(t->room, sizeof t->room, room);
    if (rc != PIO_OK)
        return fail(ctx, "timer: room", rc);
    t->fired = 0;
    t->times = times;
    t->repeating = repeat > 0;
    t->id = pio_timer_start(ctx, (uint32_t)delay, (uint32_t)repeat, on_tick, t);
    if (t->id == 0)
        return fail(ctx, "pio_timer_start", PIO_ENOMEM);
    t->used = 1;
    return ack_int(ctx, args, (int64_t)t->id);
}

PIO_HANDLER(io_timer_cancel)
{
    (void)socket;
    int64_t id = int_of(pio_args_at(args, 0), -1);
    if (id < 0)
        return fail(ctx, "timer_cancel: id", PIO_EINVAL);
    int rc = pio_timer_cancel(ctx, (uint64_t)id);
    for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++)
        if (ticks[i].used && ticks[i].id == (uint64_t)id)
            ticks[i].used = 0;
    return ack_int(ctx, args, rc);
}

/* The load hook's timer: "beat" BUILD_ID to room "beats" every 100 ms. */
static void on_beat(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer;
    (void)userdata;
    pio_out *out = pio_out_new(ctx);
    if (!out || pio_out_cstr(out, BUILD_ID) != PIO_OK) {
        if (out)
            pio_out_free(out);
        fail(ctx, "beat", PIO_ENOMEM);
        return;
    }
    pio_select sel = {.size = sizeof sel, .rooms = (const char *[]){"beats"}, .n_rooms = 1};
    int sent = pio_broadcast(ctx, &sel, "beat", out);
    if (sent < 0)
        fail(ctx, "beat: pio_broadcast", sent);
}

/* ---- descriptor watches ---------------------------------------------------- */

/* One pipe per `pipe` request, in fixed slots (closed by unload if the
 * version goes before they finish). */
struct piping {
    int used;
    int rfd, wfd;
    uint64_t rwatch, wwatch;
    char text[256];
    size_t len;
    char got[256];
    size_t got_len;
    int reads;
    struct requester who;
};
static struct piping pipes[16];

static void pipe_close(struct piping *p)
{
    if (p->rfd >= 0)
        close(p->rfd);
    if (p->wfd >= 0)
        close(p->wfd);
    p->rfd = p->wfd = -1;
    p->used = 0;
}

static int build_piped(pio_out *out, void *userdata)
{
    const struct piping *p = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "text", 4));
    PIO_TRY(pio_out_string(out, p->got, p->got_len));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    PIO_TRY(out_key_int(out, "reads", p->reads));
    return pio_out_object_end(out);
}

static void on_pipe_writable(pio_ctx *ctx, int fd, unsigned events, void *userdata)
{
    struct piping *p = userdata;
    if (!(events & PIO_FD_WRITE))
        return;
    ssize_t n = write(fd, p->text, p->len);
    if (n != (ssize_t)p->len)
        pio_log(ctx, PIO_LOG_ERROR, "pipe: short write (%zd of %zu)", n, p->len);
    int rc = pio_fd_unwatch(ctx, p->wwatch);
    if (rc != PIO_OK)
        fail(ctx, "pipe: pio_fd_unwatch (write end)", rc);
    close(p->wfd); /* the reader sees EOF after the text */
    p->wfd = -1;
}

static void on_pipe_readable(pio_ctx *ctx, int fd, unsigned events, void *userdata)
{
    struct piping *p = userdata;
    (void)events;
    p->reads++;
    for (;;) {
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            size_t room = sizeof p->got - p->got_len;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(p->got + p->got_len, buf, take);
            p->got_len += take;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* level-triggered: called again when more comes */
        break;      /* EOF (or an error): done */
    }
    int rc = pio_fd_unwatch(ctx, p->rwatch);
    if (rc != PIO_OK)
        fail(ctx, "pipe: pio_fd_unwatch (read end)", rc);
    emit_to(ctx, &p->who, "piped", build_piped, p);
    pipe_close(p);
}

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? 0 : -1;
}

PIO_HANDLER(io_pipe)
{
    const char *text;
    size_t len;
    int rc = pio_value_string(pio_args_at(args, 0), &text, &len);
    if (rc != PIO_OK)
        return fail(ctx, "pipe: text", rc);
    struct piping *p = NULL;
    for (size_t i = 0; !p && i < sizeof pipes / sizeof pipes[0]; i++)
        if (!pipes[i].used)
            p = &pipes[i];
    if (!p || len > sizeof p->text)
        return fail(ctx, "pipe: no slot, or text too long", PIO_ERANGE);
    memset(p, 0, sizeof *p);
    p->rfd = p->wfd = -1;
    rc = remember(&p->who, socket);
    if (rc != PIO_OK)
        return fail(ctx, "pipe", rc);
    memcpy(p->text, text, len);
    p->len = len;
    int fds[2];
    if (pipe(fds) != 0)
        return fail(ctx, "pipe()", PIO_ENOMEM);
    p->used = 1;
    p->rfd = fds[0];
    p->wfd = fds[1];
    if (set_nonblocking(p->rfd) != 0 || set_nonblocking(p->wfd) != 0) {
        pipe_close(p);
        return fail(ctx, "pipe: O_NONBLOCK", PIO_EINVAL);
    }
    p->rwatch = pio_fd_watch(ctx, p->rfd, PIO_FD_READ, on_pipe_readable, p);
    if (p->rwatch == 0) {
        pipe_close(p);
        return fail(ctx, "pio_fd_watch (read end)", PIO_ENOMEM);
    }
    /* Re-asserting what is watched must be accepted. */
    rc = pio_fd_update(ctx, p->rwatch, PIO_FD_READ);
    if (rc == PIO_OK) {
        p->wwatch = pio_fd_watch(ctx, p->wfd, PIO_FD_WRITE, on_pipe_writable, p);
        if (p->wwatch == 0)
            rc = PIO_ENOMEM;
    }
    if (rc != PIO_OK) {
        int rc2 = pio_fd_unwatch(ctx, p->rwatch);
        if (rc2 != PIO_OK)
            fail(ctx, "pio_fd_unwatch", rc2);
        pipe_close(p);
        return fail(ctx, "pipe: watching", rc);
    }
    return ack_int(ctx, args, PIO_OK);
}

/* ---- blocking work ---------------------------------------------------------- */

struct job {
    struct requester who;
    pthread_t loop;
    int64_t n, ms, result;
    int off_loop, done_on_loop;
};

static void job_work(void *userdata)
{
    struct job *j = userdata;
    j->off_loop = !pthread_equal(pthread_self(), j->loop);
    struct timespec ts = {(time_t)(j->ms / 1000), (long)(j->ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    int64_t sum = 0;
    for (int64_t i = 1; i <= j->n; i++)
        sum += i * i;
    j->result = sum;
}

static int build_worked(pio_out *out, void *userdata)
{
    const struct job *j = userdata;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_int(out, "result", j->result));
    PIO_TRY(pio_out_key(out, "offLoop", 7));
    PIO_TRY(pio_out_bool(out, j->off_loop));
    PIO_TRY(pio_out_key(out, "doneOnLoop", 10));
    PIO_TRY(pio_out_bool(out, j->done_on_loop));
    PIO_TRY(out_key_cstr(out, "build", BUILD_ID));
    return pio_out_object_end(out);
}

static void job_done(pio_ctx *ctx, void *userdata)
{
    struct job *j = userdata;
    j->done_on_loop = pthread_equal(pthread_self(), j->loop);
    emit_to(ctx, &j->who, "worked", build_worked, j);
    free(j);
}

PIO_HANDLER(io_work)
{
    const pio_value *req = pio_args_at(args, 0);
    int64_t ms = int_of(pio_value_member(req, "ms"), 0);
    int64_t n = int_of(pio_value_member(req, "n"), 0);
    if (ms < 0 || ms > 10000 || n < 0 || n > 1000000)
        return fail(ctx, "work: {ms, n}", PIO_EINVAL);
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return fail(ctx, "work", PIO_ENOMEM);
    int rc = remember(&j->who, socket);
    if (rc != PIO_OK) {
        free(j);
        return fail(ctx, "work", rc);
    }
    j->loop = pthread_self();
    j->ms = ms;
    j->n = n;
    rc = pio_work_submit(ctx, job_work, job_done, j);
    if (rc != PIO_OK) {
        free(j);
        return fail(ctx, "pio_work_submit", rc);
    }
    return ack_int(ctx, args, PIO_OK);
}

/* ---- load / unload ------------------------------------------------------------ */

static const char *io_load(pio_ctx *ctx, void *state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++)
        pipes[i].rfd = pipes[i].wfd = -1;
    if (pio_timer_start(ctx, 100, 100, on_beat, NULL) == 0)
        return "cannot start the beat timer";
    pio_log(ctx, PIO_LOG_INFO, "build %s loaded", BUILD_ID);
    return NULL;
}

static void *io_unload(pio_ctx *ctx, int final)
{
    (void)final;
    /* The host removes this version's watches; the descriptors are ours. */
    for (size_t i = 0; i < sizeof pipes / sizeof pipes[0]; i++)
        if (pipes[i].used)
            pipe_close(&pipes[i]);
    pio_log(ctx, PIO_LOG_INFO, "build %s unloaded", BUILD_ID);
    return NULL;
}
