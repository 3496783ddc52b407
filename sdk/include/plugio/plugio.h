/*
 * plugio.h - the plugio plugin SDK: the one header a plugin compiles against.
 *
 * A plugin is a shared object that carries one descriptor (PIO_PLUGIN) and
 * exports the functions its configuration names:
 *
 *     int handler(pio_ctx *ctx, pio_socket *socket, pio_args *args);
 *     const char *init(pio_ctx *ctx);
 *
 * Binary compatibility.  Every host service is reached through `pio_api`, a
 * table of function pointers that only ever grows at its end, and that
 * carries its own size.  The host stores a pointer to its table in the
 * plugin before calling anything in it; the macros at the end of this file
 * (pio_log, pio_emit, ...) call through that pointer, so plugin code reads
 * like ordinary function calls.  Handles (pio_ctx, pio_socket, pio_args,
 * pio_value, pio_out) are opaque: no host layout is visible.  The host loads
 * a plugin whose ABI major equals its own and whose minor is not newer than
 * its own; a plugin built against minor N may call every function that
 * version 1.N lists, and may test `pio_api->size` before calling a later one.
 *
 * Errors.  Functions that can fail return an int: PIO_OK (0) or a negative
 * PIO_E* code; pio_strerror() names it.  Accessors that return a pointer
 * return NULL when there is nothing to return.
 *
 * Ownership.  Unless a function says otherwise, a pointer the host hands to
 * a plugin is borrowed: valid until the plugin's function returns to the
 * host, and never freed by the plugin.  A pointer a plugin hands to the host
 * stays the plugin's: the host copies what it keeps before returning.  The
 * plugin never frees host memory and the host never frees plugin memory;
 * the one transfer is the state handed from a plugin version to the next
 * (see pio_plugin_desc.unload), which passes between two versions of the plugin.
 *
 * Threads.  The host runs every plugin function on its event-loop thread.
 * No pio_* function may be called from another thread.
 *
 * Reloading.  The host may replace a plugin's code at any time between two
 * calls into it.  Nothing a version registered runs after that version is
 * unmapped:
 *   - an ack callback (pio_emit_with_ack, pio_broadcast_with_ack) and a
 *     work item's done callback (pio_work_submit) are called exactly once,
 *     and the version that registered them stays mapped until then;
 *   - timers (pio_timer_start), descriptor watches (pio_fd_watch) and an
 *     adapter (pio_adapter_install) end before their version's unload
 *     hook runs: a version that needs them starts them again in its load
 *     hook (the previous one can hand over what it needs, such as the
 *     descriptor, through unload);
 *   - the callback of an operation across servers (pio_fetch_sockets,
 *     pio_all_rooms, pio_server_emit) is called exactly once, and its
 *     version stays mapped until then.
 * Global and static variables of a version die with it; hand state to the
 * next version through unload/load.  Per-socket data (pio_socket_data_set)
 * belongs to the host and survives reloads.
 *
 * Faults.  A call into a plugin that crashes (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL, abort()) or runs longer than the plugin's `timeoutMs` (default
 * 2000 ms) is cut short by the host, and that version is never called again:
 * none of its pending callbacks runs, its unload hook is not called, and its
 * state is not handed on.  The socket whose event faulted is disconnected;
 * the version the last reload replaced takes over (started afresh), or the
 * plugin is refused until a new build is loaded.  Blocking work belongs in
 * pio_work_submit, whose work function has no time limit.
 */
#ifndef PLUGIO_H
#define PLUGIO_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PIO_ABI_MAJOR 1
#define PIO_ABI_MINOR 5

/* The oldest host minor a plugin needs (see the top of this file). */
#ifndef PIO_MIN_ABI_MINOR
#define PIO_MIN_ABI_MINOR PIO_ABI_MINOR
#endif
#if PIO_MIN_ABI_MINOR > PIO_ABI_MINOR
#error "PIO_MIN_ABI_MINOR is newer than this SDK header"
#endif

#if defined(__GNUC__)
#define PIO_EXPORT __attribute__((visibility("default")))
#define PIO_HIDDEN __attribute__((visibility("hidden")))
#define PIO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PIO_EXPORT
#define PIO_HIDDEN
#define PIO_PRINTF(f, a)
#endif

/* ---- Error codes ------------------------------------------------------ */

enum {
    PIO_OK = 0,
    PIO_EINVAL = -1,     /* an argument is invalid (NULL, bad UTF-8, ...) */
    PIO_ETYPE = -2,      /* the value is not of the type asked for */
    PIO_ERANGE = -3,     /* the value does not fit the type asked for */
    PIO_ENOMEM = -4,     /* out of memory */
    PIO_ESTATE = -5,     /* not allowed now (ack already sent, none asked) */
    PIO_ECLOSED = -6,    /* the socket has disconnected */
    PIO_ETIMEDOUT = -7,  /* no answer came in time */
    PIO_ENOSPACE = -8,   /* the caller's buffer is too small */
    PIO_EUNREACHABLE = -9, /* (1.4) the other servers cannot be reached:
                              an adapter's link to them is down */
};

/* ---- Opaque handles ----------------------------------------------------- */

/* The plugin's context: its name, its config block, the host services.
 * Valid from the first call into a plugin version until that version is
 * unloaded; the same pointer is passed to every function of one version. */
typedef struct pio_ctx pio_ctx;

/* A client socket: one client connected to one namespace.  Borrowed: valid
 * for the duration of the call it is passed to.  Keep pio_socket_id() (a
 * copy of it) to refer to the socket later. */
typedef struct pio_socket pio_socket;

/* The arguments of one event (what the client passed to emit()), and its
 * acknowledgement.  Borrowed for the duration of the handler call. */
typedef struct pio_args pio_args;

/* A read-only JSON value, or a binary buffer.  Borrowed from whatever it
 * came from (pio_args, the plugin config, a socket's handshake): valid as
 * long as that is. */
typedef struct pio_value pio_value;

/* Which sockets a broadcast or a server operation addresses: socket.io's
 * io.of(nsp).to(rooms).except(rooms), with socket.broadcast's "all but the
 * sender" and the volatile flag.  Plugin-owned; the host reads it during
 * the call only.  Set size to sizeof(pio_select); a zero field means "no
 * restriction":
 *     pio_select sel = {.size = sizeof sel, .nsp = "/chat",
 *                       .rooms = (const char *[]){"lobby"}, .n_rooms = 1};
 */
typedef struct pio_select {
    uint32_t size;                    /* sizeof(pio_select) as built */
    uint32_t flags;                   /* PIO_SELECT_* */
    const char *nsp;                  /* the namespace; NULL for "/" */
    const char *const *rooms;         /* sockets in any of these rooms; */
    size_t n_rooms;                   /*   none: every socket of nsp */
    const char *const *except;        /* minus the sockets in any of these */
    size_t n_except;
    const pio_socket *except_socket;  /* minus this one (the sender) */
} pio_select;

/* Drop the packet for a client that cannot take it now (its transport is
 * busy) instead of queueing it, as socket.io's volatile emits. */
#define PIO_SELECT_VOLATILE 0x1u
/* This server only (socket.io's .local): the adapter (pio_adapter_install)
 * is not told.  An adapter delivering what another server sent sets it. */
#define PIO_SELECT_LOCAL 0x2u

/* Outgoing arguments under construction (see pio_out_new).  Owned by the
 * host; the plugin holds it from pio_out_new() until it passes it to one
 * function that consumes it (pio_emit*, pio_ack, pio_out_free). */
typedef struct pio_out pio_out;

/* ---- Plugin entry points ----------------------------------------------- */

/* An event handler, named in the configuration as `plugin:symbol`.
 * For `connection` args is empty; for `disconnect` it holds one string,
 * the reason, as socket.io names it: "client namespace disconnect",
 * "server namespace disconnect", "transport close", "transport error",
 * "ping timeout", "parse error" (the client sent a malformed packet),
 * "forced close" (the connection was closed: pio_socket_disconnect with
 * close, connectTimeout, a packet out of place) or "server shutting
 * down".  Return PIO_OK, or a negative code the host
 * logs with the plugin's name; the return value never reaches the client. */
typedef int (*pio_handler_fn)(pio_ctx *ctx, pio_socket *socket, pio_args *args);

/* The hooks.init function: called once, after the server exists and before
 * it accepts a connection.  Return NULL on success, or a message (owned by
 * the plugin, valid until the function returns) that aborts start-up. */
typedef const char *(*pio_init_fn)(pio_ctx *ctx);

/* Called after a version is loaded and before it receives any event.
 * `state` is what the previous version's unload returned (NULL for the
 * first load); this version owns it from here.  Return NULL to accept, or
 * a message (plugin-owned) to refuse: the new version is then discarded
 * and the previous one keeps serving - the host gives the state back to it
 * by calling the previous version's load again with it. */
typedef const char *(*pio_load_fn)(pio_ctx *ctx, void *state);

/* Called before a version is unloaded.  With `final` zero, a next version
 * is being loaded: return the state to hand to its load (or NULL).  With
 * `final` non-zero no version follows (the plugin was removed from the
 * configuration, or the host is stopping): free everything, return NULL. */
typedef void *(*pio_unload_fn)(pio_ctx *ctx, int final);

/* Connection middleware, named per namespace in the configuration's
 * `middleware:` list; runs in order before `connection`, with the
 * handshake readable (pio_socket_auth, _query, _header, _address).  Return
 * NULL to accept - the socket may have joined rooms and been given data -
 * or a message (plugin-owned, valid until return) to refuse: the client
 * gets it as its connect_error, and no connection or disconnect handler
 * runs. */
typedef const char *(*pio_middleware_fn)(pio_ctx *ctx, pio_socket *socket);

struct pio_api;

/* The descriptor every plugin carries, exported under the name `pio_plugin`.
 * Write it with PIO_PLUGIN(), never by hand. */
typedef struct pio_plugin_desc {
    uint32_t size;            /* sizeof(pio_plugin_desc) as the plugin was built */
    uint16_t abi_major;       /* PIO_ABI_MAJOR the plugin was built against */
    uint16_t abi_minor;       /* the oldest host minor the plugin needs:
                                 PIO_MIN_ABI_MINOR, by default PIO_ABI_MINOR */
    const char *name;         /* the plugin's own name, for logs */
    const char *version;      /* the plugin's version, for logs */
    const struct pio_api **api; /* the host stores its table here */
    pio_load_fn load;         /* optional */
    pio_unload_fn unload;     /* optional */
} pio_plugin_desc;

/* ---- Values ------------------------------------------------------------ */

typedef enum pio_type {
    PIO_TYPE_NONE = 0,   /* no value: an absent member or index, or NULL */
    PIO_TYPE_NULL,
    PIO_TYPE_BOOL,
    PIO_TYPE_NUMBER,
    PIO_TYPE_STRING,
    PIO_TYPE_ARRAY,
    PIO_TYPE_OBJECT,
    PIO_TYPE_BINARY,     /* a binary buffer (a Buffer/ArrayBuffer/Blob in JS) */
} pio_type;

typedef enum pio_log_level {
    PIO_LOG_DEBUG = 0,
    PIO_LOG_INFO,
    PIO_LOG_WARN,
    PIO_LOG_ERROR,
} pio_log_level;

/* Called with the client's answer to pio_emit_with_ack, exactly once.
 * status is PIO_OK and reply holds the answer's arguments, or status is
 * PIO_ETIMEDOUT / PIO_ECLOSED and reply is an empty argument list.
 * `socket` is the socket the event went to, or NULL when it has
 * disconnected.  Everything passed is borrowed for the call. */
typedef void (*pio_ack_fn)(pio_ctx *ctx, pio_socket *socket, int status,
                           pio_args *reply, void *userdata);

/* The answers to pio_broadcast_with_ack, once: status PIO_OK when every
 * addressed client answered, PIO_ETIMEDOUT when the timeout came first,
 * PIO_ECLOSED when the others answered but some disconnected first.
 * `replies` holds one value per client that answered (its first ack
 * argument, null when it gave none), in the order they came. */
typedef void (*pio_broadcast_ack_fn)(pio_ctx *ctx, int status, pio_args *replies,
                                     void *userdata);

/* Visits one socket; return non-zero to stop. The socket is borrowed for
 * the call. */
typedef int (*pio_socket_fn)(pio_ctx *ctx, pio_socket *socket, void *userdata);
/* Visits one room and its number of members; return non-zero to stop. */
typedef int (*pio_room_fn)(pio_ctx *ctx, const char *room, size_t members, void *userdata);

/* A timer fired (see pio_timer_start). */
typedef void (*pio_timer_fn)(pio_ctx *ctx, uint64_t timer, void *userdata);

/* Descriptor readiness, as PIO_FD_* bits (see pio_fd_watch). */
#define PIO_FD_READ 0x1u
#define PIO_FD_WRITE 0x2u
#define PIO_FD_HUP 0x4u
typedef void (*pio_fd_fn)(pio_ctx *ctx, int fd, unsigned events, void *userdata);

/* Blocking work (see pio_work_submit): `work` runs on a host worker
 * thread and must not call any pio_* function; `done` runs afterwards on
 * the event loop. */
typedef void (*pio_work_fn)(void *userdata);
typedef void (*pio_done_fn)(pio_ctx *ctx, void *userdata);

/* One answer of several (pio_broadcast_ack_each, pio_server_event): status
 * PIO_OK with `answer` the answer (borrowed for the call); a last call
 * may carry answer NULL and the final status, as each function says. */
typedef void (*pio_answer_fn)(pio_ctx *ctx, int status, const pio_value *answer,
                              void *userdata);

/* (1.5) One HTTP request to a plugin's route (see pio_http_route):
 * borrowed for the call of its pio_http_fn. */
typedef struct pio_http_request pio_http_request;
/* A plugin's route was asked for: answer with pio_http_respond before
 * returning (a request left unanswered gets a 500). */
typedef void (*pio_http_fn)(pio_ctx *ctx, pio_http_request *req, void *userdata);

/* Formats of pio_value_parse. */
#define PIO_FORMAT_JSON 0u
#define PIO_FORMAT_MSGPACK 1u   /* as notepack.io writes it (socket.io's
                                   msgpack parser and Redis adapter) */

/* ---- Adapters ----------------------------------------------------------- */

/* An adapter joins this server to others (socket.io's Adapter): it hears
 * what the server does to selections of sockets and carries it to the other
 * servers, and it hands the host what they send (with PIO_SELECT_LOCAL set,
 * through the ordinary functions: pio_broadcast, pio_select_join, ...).
 * The in-memory adapter is always there underneath: the host delivers to
 * its own sockets first, then calls the installed adapter.
 *
 * Every entry receives the adapter's ctx and the state given to
 * pio_adapter_install; `packet` is the event as socket.io's adapters carry
 * it, an array [event, arg...] whose binary arguments are binary values
 * (borrowed for the call); `sel` is the selection as the caller made it
 * (its nsp is never NULL here; except_socket is already turned into its id
 * in `except`).  An entry left NULL means the adapter has no such thing
 * to do: the operation stays on this server.
 *
 * The entries with a `request` are answered through pio_adapter_answer,
 * pio_adapter_expect and pio_adapter_done, at once or later (after a
 * network round trip); the host owns the time limit: when timeout_ms
 * passes, it completes the operation with what it has and the request
 * names nothing any more. */
typedef struct pio_adapter_ops {
    uint32_t size;   /* sizeof(pio_adapter_ops) as the plugin was built */
    /* A namespace exists (every one at install, then each new one: one the
     * configuration names after a reload, a child created by a client). */
    void (*namespace_created)(pio_ctx *ctx, void *state, const char *nsp);
    /* A child namespace was freed (cleanupEmptyChildNamespaces). */
    void (*namespace_deleted)(pio_ctx *ctx, void *state, const char *nsp);
    /* io.to(...).emit(): already delivered here. */
    void (*broadcast)(pio_ctx *ctx, void *state, const pio_select *sel, const pio_value *packet);
    /* io.timeout(ms).emitWithAck(): answer with pio_adapter_expect (each
     * other server's number of clients addressed), pio_adapter_answer (each
     * client's first ack argument) and pio_adapter_done once every server
     * has told its number. */
    void (*broadcast_with_ack)(pio_ctx *ctx, void *state, const pio_select *sel,
                               const pio_value *packet, uint32_t timeout_ms, uint64_t request);
    /* socketsJoin / socketsLeave / disconnectSockets: already done here. */
    void (*sockets_join)(pio_ctx *ctx, void *state, const pio_select *sel, const char *room);
    void (*sockets_leave)(pio_ctx *ctx, void *state, const pio_select *sel, const char *room);
    void (*disconnect_sockets)(pio_ctx *ctx, void *state, const pio_select *sel, int close);
    /* fetchSockets: answer with the other servers' sockets, each described
     * as pio_fetch_sockets describes one, then pio_adapter_done. */
    void (*fetch_sockets)(pio_ctx *ctx, void *state, const pio_select *sel, uint32_t timeout_ms,
                          uint64_t request);
    /* allRooms: answer with room names, then pio_adapter_done. */
    void (*all_rooms)(pio_ctx *ctx, void *state, const char *nsp, uint32_t timeout_ms,
                      uint64_t request);
    /* serverSideEmit: to the other servers only.  `request` is 0 when no
     * answer is wanted; otherwise answer with each server's reply, then
     * pio_adapter_done. */
    void (*server_emit)(pio_ctx *ctx, void *state, const char *nsp, const pio_value *packet,
                        uint32_t timeout_ms, uint64_t request);
} pio_adapter_ops;

/* ---- The host's function table ----------------------------------------- */

/* Append-only: a new function goes at the end, a new minor version says so,
 * nothing is ever removed or reordered. */
typedef struct pio_api {
    uint32_t size;        /* sizeof(pio_api) of the host: which entries exist */
    uint16_t abi_major;   /* the host's PIO_ABI_MAJOR */
    uint16_t abi_minor;   /* the host's PIO_ABI_MINOR */

    /* -- 1.0: errors and logging -- */

    /* A static description of a PIO_* code. */
    const char *(*strerror)(int code);
    /* Log a printf-style message under the plugin's name: one record, cut
     * at 2047 bytes.  In the host's JSON format (server.log.format) it is
     * escaped, bytes that are not UTF-8 become U+FFFD, and a call made
     * while a handler, middleware or ack callback runs for a socket also
     * names that socket, its namespace and the event. */
    void (*log)(pio_ctx *ctx, pio_log_level level, const char *fmt, ...) PIO_PRINTF(3, 4);
    void (*logv)(pio_ctx *ctx, pio_log_level level, const char *fmt, va_list ap);
    /* Non-zero when a message at `level` would be written. */
    int (*log_enabled)(pio_ctx *ctx, pio_log_level level);

    /* -- 1.0: the plugin's context -- */

    /* The name the configuration gives the plugin. Valid as long as ctx. */
    const char *(*ctx_name)(pio_ctx *ctx);
    /* The plugin's `config:` block (an object; an empty object when the
     * configuration gives none), read-only, valid as long as ctx. */
    const pio_value *(*ctx_config)(pio_ctx *ctx);

    /* -- 1.0: reading values -- */

    pio_type (*value_type)(const pio_value *v);
    /* Each returns PIO_OK and stores the value, PIO_ETYPE when v is of
     * another type (or absent), PIO_ERANGE when it does not fit. */
    int (*value_bool)(const pio_value *v, int *out);
    int (*value_double)(const pio_value *v, double *out);
    int (*value_int64)(const pio_value *v, int64_t *out); /* integral numbers only */
    /* The string's bytes (UTF-8, NUL-terminated, may contain NUL) and length. */
    int (*value_string)(const pio_value *v, const char **str, size_t *len);
    int (*value_binary)(const pio_value *v, const void **data, size_t *len);
    /* Elements of an array or members of an object; 0 for anything else. */
    size_t (*value_count)(const pio_value *v);
    /* The i-th element of an array; NULL when v is no array or i >= count. */
    const pio_value *(*value_index)(const pio_value *v, size_t i);
    /* The member `key` of an object; NULL when v is no object or has none. */
    const pio_value *(*value_member)(const pio_value *v, const char *key);
    /* Iterate an object's members in order: start with *cursor = NULL; each
     * call returns the next member's value and its key (borrowed, as v),
     * and NULL after the last one (the cursor is then NULL again, so a
     * further call starts over). */
    const pio_value *(*value_next)(const pio_value *v, void **cursor, const char **key);
    /* v as JSON text (binary buffers appear as Socket.IO placeholders),
     * written to buf (plugin-owned, `cap` bytes) with a NUL terminator.
     * *len receives the text's length either way; returns PIO_ENOSPACE when
     * cap <= *len, so a caller can size a buffer and call again. */
    int (*value_json)(const pio_value *v, char *buf, size_t cap, size_t *len);

    /* -- 1.0: an event's arguments -- */

    size_t (*args_count)(const pio_args *args);
    /* The i-th argument; NULL when i >= count. */
    const pio_value *(*args_at)(const pio_args *args, size_t i);
    /* Non-zero when the client asked for an acknowledgement. */
    int (*args_wants_ack)(const pio_args *args);
    /* Acknowledge the event with the arguments in `out` (consumed, even on
     * error; NULL acknowledges with no arguments).  Only during the handler
     * call, at most once: PIO_ESTATE when no ack was asked or one was sent. */
    int (*ack)(pio_args *args, pio_out *out);

    /* -- 1.0: building outgoing arguments -- */

    /* A new, empty argument list. NULL when out of memory. Each argument
     * is appended with the calls below; arrays and objects nest. Inside an
     * object, pio_out_key() precedes every member. A misuse (a member
     * without a key, an unbalanced end, invalid UTF-8) or an allocation
     * failure makes the list invalid for good, and the function that
     * consumes it returns the error (PIO_EINVAL, PIO_ENOMEM): code that
     * builds a list need not check each call. */
    pio_out *(*out_new)(pio_ctx *ctx);
    void (*out_free)(pio_out *out);
    int (*out_null)(pio_out *out);
    int (*out_bool)(pio_out *out, int value);
    int (*out_double)(pio_out *out, double value); /* NaN and infinities become null, as in JS */
    int (*out_int64)(pio_out *out, int64_t value);
    int (*out_string)(pio_out *out, const char *str, size_t len); /* UTF-8 */
    int (*out_binary)(pio_out *out, const void *data, size_t len); /* copied */
    /* Append JSON text (validated, copied) as one value. */
    int (*out_json)(pio_out *out, const char *json, size_t len);
    /* Append a copy of a value read from args, config or handshake. */
    int (*out_value)(pio_out *out, const pio_value *v);
    int (*out_key)(pio_out *out, const char *key, size_t len);
    int (*out_array_begin)(pio_out *out);
    int (*out_array_end)(pio_out *out);
    int (*out_object_begin)(pio_out *out);
    int (*out_object_end)(pio_out *out);

    /* -- 1.0: the socket -- */

    /* The socket's id (as socket.id in socket.io). Valid while connected. */
    const char *(*socket_id)(const pio_socket *s);
    /* The namespace's name, e.g. "/" or "/chat". */
    const char *(*socket_namespace)(const pio_socket *s);
    /* The auth payload of the CONNECT packet (an object, or NONE). */
    const pio_value *(*socket_auth)(const pio_socket *s);
    /* The handshake's query parameters as an object of strings. */
    const pio_value *(*socket_query)(const pio_socket *s);
    /* A handshake request header (name case-insensitive), or NULL. */
    const char *(*socket_header)(const pio_socket *s, const char *name);
    /* The client's address, e.g. "127.0.0.1". */
    const char *(*socket_address)(const pio_socket *s);
    /* The current transport: "polling" or "websocket". */
    const char *(*socket_transport)(const pio_socket *s);

    /* -- 1.0: emitting to a socket -- */

    /* Emit `event` with the arguments in `out` (consumed, even on error;
     * NULL for none). PIO_ECLOSED once the socket has disconnected. */
    int (*emit)(pio_socket *s, const char *event, pio_out *out);
    /* The same, asking the client for an acknowledgement: `cb` runs once,
     * with the answer or with PIO_ETIMEDOUT after timeout_ms (0: wait until
     * the socket disconnects). When this returns an error, cb never runs. */
    int (*emit_with_ack)(pio_socket *s, const char *event, pio_out *out,
                         uint32_t timeout_ms, pio_ack_fn cb, void *userdata);
    /* Disconnect the socket from its namespace; with `close` non-zero,
     * close the whole underlying connection. */
    int (*socket_disconnect)(pio_socket *s, int close);

    /* -- 1.1: rooms -- */

    /* Join or leave a room of the socket's namespace (every socket is
     * always in the room named by its id). The room name is copied. */
    int (*socket_join)(pio_socket *s, const char *room);
    int (*socket_leave)(pio_socket *s, const char *room);
    /* Non-zero when the socket is in the room. */
    int (*socket_in_room)(const pio_socket *s, const char *room);
    /* Iterate the socket's rooms: start with *cursor = NULL; returns each
     * room's name (borrowed, valid until the socket leaves it) and NULL
     * after the last. */
    const char *(*socket_room_next)(const pio_socket *s, void **cursor);

    /* -- 1.1: broadcasts (each encoded once, whatever the audience) -- */

    /* Emit to every selected socket; `out` is consumed (NULL: no args).
     * Returns the number of sockets it went to, or a negative PIO_E*. */
    int (*broadcast)(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out);
    /* The same, collecting every client's answer: `cb` runs once, when all
     * have answered or after timeout_ms (required, > 0). Returns the number
     * of sockets addressed (cb runs even for 0), or a negative PIO_E* and
     * then cb never runs. */
    int (*broadcast_with_ack)(pio_ctx *ctx, const pio_select *sel, const char *event,
                              pio_out *out, uint32_t timeout_ms, pio_broadcast_ack_fn cb,
                              void *userdata);
    /* strapi-plugin-io's io.raw({event, rooms, data}): emit `event` on "/"
     * to the sockets in `rooms` (n_rooms 0: everyone) with one argument,
     * {"data": <the single value in data>}. `data` is consumed. */
    int (*raw)(pio_ctx *ctx, const char *event, const char *const *rooms, size_t n_rooms,
               pio_out *data);

    /* -- 1.1: server operations -- */

    /* Visit the selected sockets (socket.io's fetchSockets). Returns how
     * many were visited. */
    int (*select_sockets)(pio_ctx *ctx, const pio_select *sel, pio_socket_fn fn, void *userdata);
    /* Visit the rooms of a namespace (NULL: "/"), the sockets' own id
     * rooms included. */
    int (*rooms)(pio_ctx *ctx, const char *nsp, pio_room_fn fn, void *userdata);
    /* Make the selected sockets join / leave a room (socketsJoin,
     * socketsLeave), or disconnect them (disconnectSockets). Return the
     * number of sockets affected. */
    int (*select_join)(pio_ctx *ctx, const pio_select *sel, const char *room);
    int (*select_leave)(pio_ctx *ctx, const pio_select *sel, const char *room);
    int (*select_disconnect)(pio_ctx *ctx, const pio_select *sel, int close);
    /* The connected socket with this id in a namespace (NULL: "/"), or
     * NULL. Borrowed for the current call. */
    pio_socket *(*socket_find)(pio_ctx *ctx, const char *nsp, const char *id);

    /* -- 1.1: per-socket data, owned by the host (survives reloads) -- */

    /* Store the single value in `value` under `key` (value consumed; NULL
     * removes the key). */
    int (*socket_data_set)(pio_socket *s, const char *key, pio_out *value);
    /* The value under `key`, or NULL. Borrowed until it is set again or
     * the socket is gone. */
    const pio_value *(*socket_data_get)(const pio_socket *s, const char *key);

    /* -- 1.1: host services -- */

    /* Run fn after delay_ms, then every repeat_ms when that is non-zero.
     * Returns the timer's id, or 0 when out of memory. The timer is
     * cancelled when the calling version is unloaded. */
    uint64_t (*timer_start)(pio_ctx *ctx, uint32_t delay_ms, uint32_t repeat_ms, pio_timer_fn fn,
                            void *userdata);
    /* Cancel a timer; PIO_EINVAL when there is no such timer (any more). */
    int (*timer_cancel)(pio_ctx *ctx, uint64_t timer);
    /* Call fn on the event loop when fd (the plugin's, never closed by the
     * host) is ready for the PIO_FD_* events asked. Readiness is
     * level-triggered: fn must read (or write) until it would block, or
     * change what it watches. Returns the watch's id, or 0. The watch is
     * removed when the calling version is unloaded. */
    uint64_t (*fd_watch)(pio_ctx *ctx, int fd, unsigned events, pio_fd_fn fn, void *userdata);
    int (*fd_update)(pio_ctx *ctx, uint64_t watch, unsigned events);
    int (*fd_unwatch)(pio_ctx *ctx, uint64_t watch);
    /* Run work(userdata) on a worker thread, then done(ctx, userdata) on
     * the loop; the calling version stays mapped until done has run. On
     * an error return neither runs. Work not yet started when the host
     * stops is dropped, without its done. */
    int (*work_submit)(pio_ctx *ctx, pio_work_fn work, pio_done_fn done, void *userdata);

    /* -- 1.2: connection state recovery -- */

    /* Non-zero when the socket is a previous one restored after a lost
     * connection (socket.recovered in socket.io): serverOptions has
     * connectionStateRecovery, the client came back within
     * maxDisconnectionDuration, and its id, rooms and data are the ones it
     * had; the packets it missed were sent to it before `connection`.
     * Middleware runs for it only with skipMiddlewares false. Zero for a
     * new socket, a NULL one, or with recovery off. Reads no memory the
     * plugin must manage. A 1.0/1.1 host has no such entry: a plugin that
     * must load there too tests pio_has(socket_recovered) first. */
    int (*socket_recovered)(const pio_socket *s);

    /* -- 1.3: answers that wait -- */

    /* Take over the ack the client asked for with this event, to send it
     * later - after a network round-trip, or from a work item's done
     * callback - with ack_later; `args` can no longer ack. Returns a
     * handle (a number, never reused), or 0 when no ack is due (none was
     * asked, or it was sent or taken already) or out of memory. The host
     * keeps what the handle names until it is answered or dropped; when
     * the socket leaves first the host forgets it, so a late answer gets
     * PIO_ECLOSED and a forgotten one leaks nothing (0 too when the
     * socket closed during the handler). */
    uint64_t (*ack_defer)(pio_args *args);
    /* Send a deferred ack with `out` as its arguments (consumed; NULL for
     * none), exactly once: PIO_ECLOSED when the handle names nothing any
     * more (answered or dropped already, or its socket left). */
    int (*ack_later)(uint64_t ack, pio_out *out);
    /* Give a deferred ack up without answering: the client's callback
     * never runs, as when a Node handler never calls its ack. */
    void (*ack_drop)(uint64_t ack);
    /* Called by a connection middleware, on the socket it was given, to
     * decide later (a token checked against a database): the value the
     * middleware then returns is ignored and the connection waits for
     * middleware_resolve - NULL lets it through to the next middleware,
     * a message refuses it with that connect_error.  Unanswered after
     * serverOptions.connectTimeout, it is refused with "middleware
     * timeout" (for a client's first namespace its session is closed by
     * then, as socket.io closes a client that joined no namespace in that
     * time).  A reload while it waits runs the new configuration's
     * middleware from the first.  Once per middleware call.  Returns the
     * handle, or 0 outside a middleware call, after the client closed,
     * or out of memory (the middleware's return value then counts). */
    uint64_t (*middleware_defer)(pio_socket *s);
    /* PIO_OK, or PIO_ECLOSED when the handle names nothing any more (the
     * client left, the time ran out, or it was resolved already).  The
     * refusal is copied. */
    int (*middleware_resolve)(uint64_t pending, const char *refusal);

    /* -- 1.4: adapters and server operations across servers -- */

    /* Install an adapter (see pio_adapter_ops; the table is copied) for
     * the namespace `nsp`, or with nsp NULL for every namespace without
     * one of its own, from hooks.init or a load hook.  ops NULL removes
     * this plugin's adapter.  PIO_ESTATE when another plugin's adapter is
     * installed there.  namespace_created runs for each namespace that
     * exists before this returns.  The adapter is removed before the
     * calling version's unload hook runs (as its timers and watches are):
     * the next version installs it again in its load hook, with the
     * state handed over. */
    int (*adapter_install)(pio_ctx *ctx, const char *nsp, const pio_adapter_ops *ops,
                           void *state);
    /* Add answers to a request: every top-level value of `answers`
     * (consumed) is one answer.  PIO_ECLOSED when the request names
     * nothing any more (it completed, or its time ran out). */
    int (*adapter_answer)(uint64_t request, pio_out *answers);
    /* broadcast_with_ack: `clients` more client answers to wait for. */
    int (*adapter_expect)(uint64_t request, uint32_t clients);
    /* Nothing more comes from the adapter but the client answers already
     * expected: the operation completes with `status` (PIO_OK, or what
     * went wrong, such as PIO_ETIMEDOUT) once those have come. */
    int (*adapter_done)(uint64_t request, int status);

    /* socket.io's fetchSockets(): `cb` runs once with every selected
     * socket of this server and of the others, each described as
     * {id, handshake: {headers, time, address, xdomain, secure, issued,
     * url, query, auth}, rooms, data} (copies: later changes to the
     * socket do not show), this server's first; status PIO_OK, or
     * PIO_ETIMEDOUT after timeout_ms (required, > 0) with what came, or
     * what kept the answers from coming (PIO_EUNREACHABLE: the adapter
     * cannot reach the other servers; PIO_ENOMEM), with what came.
     * With PIO_SELECT_LOCAL (or no adapter) cb runs before this returns.
     * Returns the number of this server's sockets, or a negative PIO_E*
     * and then cb never runs. */
    int (*fetch_sockets)(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                         pio_broadcast_ack_fn cb, void *userdata);
    /* socket.io's allRooms(): the room names of sel->nsp on every server
     * (ids included, each name once), with fetch_sockets' statuses.
     * sel's rooms and except do not restrict it. */
    int (*all_rooms)(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                     pio_broadcast_ack_fn cb, void *userdata);
    /* socket.io's serverSideEmit(): `event` with `out` (consumed) to the
     * serverEvents handler of namespace nsp (NULL: "/") on every other
     * server.  With cb NULL nothing is awaited; otherwise cb runs once
     * with each server's reply (its handler's first ack argument), status
     * PIO_OK when every server replied, PIO_ETIMEDOUT after timeout_ms
     * (> 0) with the replies that came (or fetch_sockets' other
     * statuses).  With no other server, cb runs at once with none.  Returns PIO_OK or a PIO_E*
     * (and then cb never runs). */
    int (*server_emit)(pio_ctx *ctx, const char *nsp, const char *event, pio_out *out,
                       uint32_t timeout_ms, pio_broadcast_ack_fn cb, void *userdata);
    /* An adapter hands over an event another server sent with
     * serverSideEmit: `packet` is [event, arg...]; the serverEvents
     * handler the configuration names for (nsp, event) runs with a NULL
     * socket.  With `reply` non-NULL the handler's args want an ack, and
     * reply runs exactly once: PIO_OK and the first ack argument (null
     * for none) when the handler acknowledges during its call (such args
     * cannot be deferred: pio_ack_defer returns 0), or PIO_ESTATE with
     * answer NULL when it returns without.  Returns PIO_OK,
     * or PIO_EINVAL when no handler is configured (reply never runs). */
    int (*server_event)(pio_ctx *ctx, const char *nsp, const pio_value *packet,
                        pio_answer_fn reply, void *userdata);
    /* broadcast_with_ack answering as the answers come: `each` runs with
     * PIO_OK and each client's first ack argument, then once more with
     * answer NULL and the final status (as pio_broadcast_ack_fn's).
     * Returns the number of sockets addressed. */
    int (*broadcast_ack_each)(pio_ctx *ctx, const pio_select *sel, const char *event,
                              pio_out *out, uint32_t timeout_ms, pio_answer_fn each,
                              void *userdata);

    /* -- 1.4: values from bytes -- */

    /* Parse one value in PIO_FORMAT_JSON or PIO_FORMAT_MSGPACK (binary
     * values come as binary; a msgpack Date as its ISO 8601 string).
     * Returns the value, owned by the plugin until pio_value_free, or
     * NULL when the bytes are malformed or memory ran out. */
    const pio_value *(*value_parse)(const void *data, size_t len, unsigned format);
    void (*value_free)(const pio_value *v);
    /* v as msgpack (as notepack.io writes it: binary as bin), like
     * value_json: PIO_ENOSPACE when cap < *len. */
    int (*value_msgpack)(const pio_value *v, void *buf, size_t cap, size_t *len);

    /* -- 1.5: HTTP routes of a plugin (a webhook's intake) -- */

    /* Serve the HTTP requests (not WebSocket upgrades) whose URL path is
     * exactly `path` (it begins with '/'; the query aside) on the server's
     * own port, whatever their method: fn runs on the loop once the whole
     * request has come.  A body needs a Content-Length (411 without one:
     * a Transfer-Encoding, or a POST, PUT or PATCH without a length) of at
     * most max_body bytes (413 above it, fn not called).  The path is
     * copied; routing a path this version routes already replaces that
     * route.  PIO_EINVAL for a path that does not begin with '/' or lies
     * under serverOptions.path, PIO_ESTATE when the host serves it already
     * (a health or metrics path, another plugin's route).  From
     * hooks.init or a load hook; the route is removed before the calling
     * version's unload hook runs (as its timers are): the next version
     * routes it again in its load hook.  A request that arrives while no
     * version routes it is answered as if no route existed (404). */
    int (*http_route)(pio_ctx *ctx, const char *path, size_t max_body, pio_http_fn fn,
                      void *userdata);
    /* Stop serving `path`: PIO_EINVAL when this version routes no such path. */
    int (*http_unroute)(pio_ctx *ctx, const char *path);
    /* The request's method ("GET", "POST", ...), URL path (decoded) and
     * peer address, valid for the call. */
    const char *(*http_method)(const pio_http_request *req);
    const char *(*http_path)(const pio_http_request *req);
    const char *(*http_address)(const pio_http_request *req);
    /* The query's parameters as an object of strings (empty without). */
    const pio_value *(*http_query)(const pio_http_request *req);
    /* A request header (name case-insensitive; any header, standard or
     * not), or NULL. */
    const char *(*http_header)(const pio_http_request *req, const char *name);
    /* The body (len 0 for none), borrowed for the call. */
    int (*http_body)(const pio_http_request *req, const void **data, size_t *len);
    /* Answer with `status` (200-599: a final answer), a Content-Type (NULL: none) and
     * `len` bytes of body (copied), once, during the call: PIO_ESTATE when
     * answered already, PIO_EINVAL for a bad status or a Content-Type
     * with a control character.  A HEAD request gets the answer's head. */
    int (*http_respond)(pio_http_request *req, unsigned status, const char *content_type,
                        const void *body, size_t len);

    /* -- 1.5: a deferred middleware's socket -- */

    /* The socket a middleware deferred its decision on (the handle of
     * pio_middleware_defer), still waiting: borrowed for the current call,
     * to join rooms and set data on before pio_middleware_resolve lets it
     * through (a refusal leaves whatever was joined).  NULL when the handle
     * names nothing any more (the client left, the time ran out, it was
     * resolved). */
    pio_socket *(*middleware_socket)(uint64_t pending);
} pio_api;

/* ---- For plugin code --------------------------------------------------- */

#ifndef PIO_HOST

/* Set by the host before any function of the plugin runs. */
extern PIO_HIDDEN const pio_api *pio__api;

/* PIO_PLUGIN(name, version) - the descriptor, once per plugin, at file
 * scope.  Optional load/unload hooks follow as designated initializers:
 *     PIO_PLUGIN("chat", "1.2.0", .load = chat_load, .unload = chat_unload);
 */
#define PIO_PLUGIN(plugin_name, plugin_version, ...)                          \
    PIO_HIDDEN const pio_api *pio__api;                                       \
    PIO_EXPORT const pio_plugin_desc pio_plugin = {                                \
        .size = sizeof(pio_plugin_desc),                                           \
        .abi_major = PIO_ABI_MAJOR,                                           \
        .abi_minor = PIO_MIN_ABI_MINOR,                                       \
        .name = (plugin_name),                                                \
        .version = (plugin_version),                                          \
        .api = &pio__api,                                                     \
        __VA_ARGS__}

/* Define a function the configuration names, exported so the host can
 * find it (declared first, so -Wmissing-prototypes stays quiet):
 *     PIO_HANDLER(on_message) { ... ctx, socket, args ... }
 *     PIO_INIT(init) { ... ctx ... return NULL; } */
#define PIO_HANDLER(fn)                                                       \
    PIO_EXPORT int fn(pio_ctx *ctx, pio_socket *socket, pio_args *args);      \
    PIO_EXPORT int fn(pio_ctx *ctx, pio_socket *socket, pio_args *args)
#define PIO_INIT(fn)                                                          \
    PIO_EXPORT const char *fn(pio_ctx *ctx);                                  \
    PIO_EXPORT const char *fn(pio_ctx *ctx)
#define PIO_MIDDLEWARE(fn)                                                    \
    PIO_EXPORT const char *fn(pio_ctx *ctx, pio_socket *socket);              \
    PIO_EXPORT const char *fn(pio_ctx *ctx, pio_socket *socket)

/* Non-zero when the host's table has the entry `fn` (a pio_api member
 * name, such as socket_join): needed only before calling a function newer
 * than PIO_MIN_ABI_MINOR. */
#define pio_has(fn)                                                           \
    (pio__api->size >= offsetof(pio_api, fn) + sizeof pio__api->fn)

#define pio_strerror(...) (pio__api->strerror(__VA_ARGS__))
#define pio_log(...) (pio__api->log(__VA_ARGS__))
#define pio_logv(...) (pio__api->logv(__VA_ARGS__))
#define pio_log_enabled(...) (pio__api->log_enabled(__VA_ARGS__))
#define pio_ctx_name(...) (pio__api->ctx_name(__VA_ARGS__))
#define pio_ctx_config(...) (pio__api->ctx_config(__VA_ARGS__))
#define pio_value_type(...) (pio__api->value_type(__VA_ARGS__))
#define pio_value_bool(...) (pio__api->value_bool(__VA_ARGS__))
#define pio_value_double(...) (pio__api->value_double(__VA_ARGS__))
#define pio_value_int64(...) (pio__api->value_int64(__VA_ARGS__))
#define pio_value_string(...) (pio__api->value_string(__VA_ARGS__))
#define pio_value_binary(...) (pio__api->value_binary(__VA_ARGS__))
#define pio_value_count(...) (pio__api->value_count(__VA_ARGS__))
#define pio_value_index(...) (pio__api->value_index(__VA_ARGS__))
#define pio_value_member(...) (pio__api->value_member(__VA_ARGS__))
#define pio_value_next(...) (pio__api->value_next(__VA_ARGS__))
#define pio_value_json(...) (pio__api->value_json(__VA_ARGS__))
#define pio_args_count(...) (pio__api->args_count(__VA_ARGS__))
#define pio_args_at(...) (pio__api->args_at(__VA_ARGS__))
#define pio_args_wants_ack(...) (pio__api->args_wants_ack(__VA_ARGS__))
#define pio_ack(...) (pio__api->ack(__VA_ARGS__))
#define pio_out_new(...) (pio__api->out_new(__VA_ARGS__))
#define pio_out_free(...) (pio__api->out_free(__VA_ARGS__))
#define pio_out_null(...) (pio__api->out_null(__VA_ARGS__))
#define pio_out_bool(...) (pio__api->out_bool(__VA_ARGS__))
#define pio_out_double(...) (pio__api->out_double(__VA_ARGS__))
#define pio_out_int64(...) (pio__api->out_int64(__VA_ARGS__))
#define pio_out_string(...) (pio__api->out_string(__VA_ARGS__))
#define pio_out_binary(...) (pio__api->out_binary(__VA_ARGS__))
#define pio_out_json(...) (pio__api->out_json(__VA_ARGS__))
#define pio_out_value(...) (pio__api->out_value(__VA_ARGS__))
#define pio_out_key(...) (pio__api->out_key(__VA_ARGS__))
#define pio_out_array_begin(...) (pio__api->out_array_begin(__VA_ARGS__))
#define pio_out_array_end(...) (pio__api->out_array_end(__VA_ARGS__))
#define pio_out_object_begin(...) (pio__api->out_object_begin(__VA_ARGS__))
#define pio_out_object_end(...) (pio__api->out_object_end(__VA_ARGS__))
#define pio_socket_id(...) (pio__api->socket_id(__VA_ARGS__))
#define pio_socket_namespace(...) (pio__api->socket_namespace(__VA_ARGS__))
#define pio_socket_auth(...) (pio__api->socket_auth(__VA_ARGS__))
#define pio_socket_query(...) (pio__api->socket_query(__VA_ARGS__))
#define pio_socket_header(...) (pio__api->socket_header(__VA_ARGS__))
#define pio_socket_address(...) (pio__api->socket_address(__VA_ARGS__))
#define pio_socket_transport(...) (pio__api->socket_transport(__VA_ARGS__))
#define pio_emit(...) (pio__api->emit(__VA_ARGS__))
#define pio_emit_with_ack(...) (pio__api->emit_with_ack(__VA_ARGS__))
#define pio_socket_disconnect(...) (pio__api->socket_disconnect(__VA_ARGS__))
#define pio_socket_join(...) (pio__api->socket_join(__VA_ARGS__))
#define pio_socket_leave(...) (pio__api->socket_leave(__VA_ARGS__))
#define pio_socket_in_room(...) (pio__api->socket_in_room(__VA_ARGS__))
#define pio_socket_room_next(...) (pio__api->socket_room_next(__VA_ARGS__))
#define pio_broadcast(...) (pio__api->broadcast(__VA_ARGS__))
#define pio_broadcast_with_ack(...) (pio__api->broadcast_with_ack(__VA_ARGS__))
#define pio_raw(...) (pio__api->raw(__VA_ARGS__))
#define pio_select_sockets(...) (pio__api->select_sockets(__VA_ARGS__))
#define pio_rooms(...) (pio__api->rooms(__VA_ARGS__))
#define pio_select_join(...) (pio__api->select_join(__VA_ARGS__))
#define pio_select_leave(...) (pio__api->select_leave(__VA_ARGS__))
#define pio_select_disconnect(...) (pio__api->select_disconnect(__VA_ARGS__))
#define pio_socket_find(...) (pio__api->socket_find(__VA_ARGS__))
#define pio_socket_data_set(...) (pio__api->socket_data_set(__VA_ARGS__))
#define pio_socket_data_get(...) (pio__api->socket_data_get(__VA_ARGS__))
#define pio_timer_start(...) (pio__api->timer_start(__VA_ARGS__))
#define pio_timer_cancel(...) (pio__api->timer_cancel(__VA_ARGS__))
#define pio_fd_watch(...) (pio__api->fd_watch(__VA_ARGS__))
#define pio_fd_update(...) (pio__api->fd_update(__VA_ARGS__))
#define pio_fd_unwatch(...) (pio__api->fd_unwatch(__VA_ARGS__))
#define pio_work_submit(...) (pio__api->work_submit(__VA_ARGS__))
#define pio_socket_recovered(...) (pio__api->socket_recovered(__VA_ARGS__))
#define pio_ack_defer(...) (pio__api->ack_defer(__VA_ARGS__))
#define pio_ack_later(...) (pio__api->ack_later(__VA_ARGS__))
#define pio_ack_drop(...) (pio__api->ack_drop(__VA_ARGS__))
#define pio_middleware_defer(...) (pio__api->middleware_defer(__VA_ARGS__))
#define pio_middleware_resolve(...) (pio__api->middleware_resolve(__VA_ARGS__))
#define pio_adapter_install(...) (pio__api->adapter_install(__VA_ARGS__))
#define pio_adapter_answer(...) (pio__api->adapter_answer(__VA_ARGS__))
#define pio_adapter_expect(...) (pio__api->adapter_expect(__VA_ARGS__))
#define pio_adapter_done(...) (pio__api->adapter_done(__VA_ARGS__))
#define pio_fetch_sockets(...) (pio__api->fetch_sockets(__VA_ARGS__))
#define pio_all_rooms(...) (pio__api->all_rooms(__VA_ARGS__))
#define pio_server_emit(...) (pio__api->server_emit(__VA_ARGS__))
#define pio_server_event(...) (pio__api->server_event(__VA_ARGS__))
#define pio_broadcast_ack_each(...) (pio__api->broadcast_ack_each(__VA_ARGS__))
#define pio_value_parse(...) (pio__api->value_parse(__VA_ARGS__))
#define pio_value_free(...) (pio__api->value_free(__VA_ARGS__))
#define pio_value_msgpack(...) (pio__api->value_msgpack(__VA_ARGS__))
#define pio_http_route(...) (pio__api->http_route(__VA_ARGS__))
#define pio_http_unroute(...) (pio__api->http_unroute(__VA_ARGS__))
#define pio_http_method(...) (pio__api->http_method(__VA_ARGS__))
#define pio_http_path(...) (pio__api->http_path(__VA_ARGS__))
#define pio_http_address(...) (pio__api->http_address(__VA_ARGS__))
#define pio_http_query(...) (pio__api->http_query(__VA_ARGS__))
#define pio_http_header(...) (pio__api->http_header(__VA_ARGS__))
#define pio_http_body(...) (pio__api->http_body(__VA_ARGS__))
#define pio_http_respond(...) (pio__api->http_respond(__VA_ARGS__))
#define pio_middleware_socket(...) (pio__api->middleware_socket(__VA_ARGS__))

/* Convenience: a NUL-terminated string. */
#define pio_out_cstr(out, s) pio_out_string((out), (s), strlen(s))

/* Convenience: evaluate expr, a call that returns PIO_OK or a PIO_E* code,
 * and return that code from the enclosing function unless it is PIO_OK.
 * For functions that return such a code, as handlers do:
 *     PIO_TRY(pio_out_key(out, "n", 1));
 *     PIO_TRY(pio_out_int64(out, n)); */
#define PIO_TRY(expr)                                                         \
    do {                                                                      \
        int pio__rc = (expr);                                                 \
        if (pio__rc != PIO_OK)                                                \
            return pio__rc;                                                   \
    } while (0)

#endif /* PIO_HOST */

#ifdef __cplusplus
}
#endif

#endif /* PLUGIO_H */
