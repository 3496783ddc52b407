/*
 * chat - rooms, messages to a room, the users of a room and private
 * messages, on the io API (SDK 1.1).
 *
 *   socket.emit("join", "lobby", ack)          ack({room: "lobby", members: 3})
 *   socket.emit("leave", "lobby", ack)         ack({room: "lobby", members: 2})
 *   socket.emit("say", "lobby", "hi", ack)     ack({delivered: 2})
 *       the others in "lobby" get "message" {room, from, role, text}
 *   socket.emit("users", "lobby", ack)         ack(["<socket id>", ...])
 *   socket.emit("whisper", "<id>", "psst", ack) ack({delivered: 1})
 *       socket <id> gets "whisper" {from, role, text}
 *   socket.emit("image", "lobby", "image/png", <bytes>, ack)   ack({delivered: 2})
 *       the others in "lobby" get "image" {room, from, role, type, data: <bytes>}
 *       (a png, jpeg, gif or webp of at most 512 KiB, as binary: the demo
 *       page in web/demo pastes one)
 *
 * A failure is answered as ack({error: "..."}).
 *
 * Building outgoing arguments needs no error check per call: a pio_out
 * that went wrong (out of memory, a misuse) stays invalid, and the call
 * that consumes it - pio_ack, pio_broadcast - returns the error.  `role` is what the auth
 * example plugin stored in the socket's data (null without it).  The room
 * named by a socket's id is how a private message reaches it, so a client
 * may not join a room that is the id of a connected socket, nor a "role:"
 * room, which only the auth middleware hands out.
 */
#include <plugio/plugio.h>

PIO_PLUGIN("chat", "1.0.0");

PIO_HANDLER(on_join);
PIO_HANDLER(on_leave);
PIO_HANDLER(on_say);
PIO_HANDLER(on_users);
PIO_HANDLER(on_whisper);
PIO_HANDLER(on_image);

#define MAX_ROOM_LEN 128
#define MAX_TEXT_LEN 4096
#define MAX_IMAGE_LEN (512 * 1024)

/* The i-th argument as a string of 1..max bytes, or NULL. */
static const char *string_arg(pio_args *args, size_t i, size_t max, size_t *len)
{
    const char *s;
    if (pio_value_string(pio_args_at(args, i), &s, len) != PIO_OK || *len == 0 || *len > max ||
        strlen(s) != *len)
        return NULL;
    return s;
}

/* Answer the event, when the client asked, with what `out` holds
 * (consumed either way). */
static int answer(pio_ctx *ctx, pio_args *args, pio_out *out)
{
    if (!pio_args_wants_ack(args)) {
        pio_out_free(out);
        return PIO_OK;
    }
    int rc = pio_ack(args, out);
    if (rc != PIO_OK)
        pio_log(ctx, PIO_LOG_ERROR, "pio_ack: %s", pio_strerror(rc));
    return rc;
}

static int answer_error(pio_ctx *ctx, pio_args *args, const char *message)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    pio_out_key(out, "error", 5);
    pio_out_cstr(out, message);
    pio_out_object_end(out);
    return answer(ctx, args, out);
}

/* Answer {<key>: <room>?, <count_key>: n}. */
static int answer_count(pio_ctx *ctx, pio_args *args, const char *room, const char *key, int64_t n)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    if (room) {
        pio_out_key(out, "room", 4);
        pio_out_cstr(out, room);
    }
    pio_out_key(out, key, strlen(key));
    pio_out_int64(out, n);
    pio_out_object_end(out);
    return answer(ctx, args, out);
}

/* The sockets of this namespace in `room`. */
static pio_select in_room(const pio_socket *socket, const char *const *room)
{
    pio_select sel = {.size = sizeof sel, .nsp = pio_socket_namespace(socket), .rooms = room,
                      .n_rooms = 1};
    return sel;
}

static int count_one(pio_ctx *ctx, pio_socket *s, void *userdata)
{
    (void)ctx;
    (void)s;
    (void)userdata;
    return 0;
}

static int members(pio_ctx *ctx, const pio_socket *socket, const char *room)
{
    pio_select sel = in_room(socket, &room);
    return pio_select_sockets(ctx, &sel, count_one, NULL);
}

/* "from" and "role" of a message: the sender's id and its role (socket
 * data set by the auth middleware), then the rest the caller adds. */
static void out_sender(pio_out *out, const pio_socket *socket)
{
    pio_out_key(out, "from", 4);
    pio_out_cstr(out, pio_socket_id(socket));
    pio_out_key(out, "role", 4);
    const pio_value *role = pio_socket_data_get(socket, "role");
    if (role)
        pio_out_value(out, role);
    else
        pio_out_null(out);
}

/* Tell the others in `room` that the socket joined or left. */
static int announce(pio_ctx *ctx, pio_socket *socket, const char *room, const char *event)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    pio_out_key(out, "room", 4);
    pio_out_cstr(out, room);
    out_sender(out, socket);
    pio_out_object_end(out);
    pio_select sel = in_room(socket, &room);
    sel.except_socket = socket;
    int sent = pio_broadcast(ctx, &sel, event, out);
    return sent < 0 ? sent : PIO_OK;
}

PIO_HANDLER(on_join)
{
    size_t len;
    const char *room = string_arg(args, 0, MAX_ROOM_LEN, &len);
    if (!room)
        return answer_error(ctx, args, "join: expected a room name (1 to 128 bytes)");
    if (strncmp(room, "role:", 5) == 0)
        return answer_error(ctx, args, "join: role rooms are given by authentication");
    if (pio_socket_find(ctx, pio_socket_namespace(socket), room) &&
        strcmp(room, pio_socket_id(socket)) != 0)
        return answer_error(ctx, args, "join: that room is another user's private room");
    int rc = pio_socket_join(socket, room);
    if (rc != PIO_OK)
        return rc;
    PIO_TRY(announce(ctx, socket, room, "joined"));
    int n = members(ctx, socket, room);
    if (n < 0)
        return n;
    return answer_count(ctx, args, room, "members", n);
}

PIO_HANDLER(on_leave)
{
    size_t len;
    const char *room = string_arg(args, 0, MAX_ROOM_LEN, &len);
    if (!room)
        return answer_error(ctx, args, "leave: expected a room name");
    if (!pio_socket_in_room(socket, room))
        return answer_error(ctx, args, "leave: not in that room");
    if (strcmp(room, pio_socket_id(socket)) == 0)
        return answer_error(ctx, args, "leave: a socket always stays in its own room");
    PIO_TRY(pio_socket_leave(socket, room));
    PIO_TRY(announce(ctx, socket, room, "left"));
    int n = members(ctx, socket, room);
    if (n < 0)
        return n;
    return answer_count(ctx, args, room, "members", n);
}

/* Send "<event>" {room?, from, role, text} to the sockets of `room` but the
 * sender, and answer {delivered: n}. */
static int deliver(pio_ctx *ctx, pio_socket *socket, pio_args *args, const char *event,
                   const char *room, int with_room, const char *text, size_t text_len)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    if (with_room) {
        pio_out_key(out, "room", 4);
        pio_out_cstr(out, room);
    }
    out_sender(out, socket);
    pio_out_key(out, "text", 4);
    pio_out_string(out, text, text_len);
    pio_out_object_end(out);
    /* Everyone in the room except the sender, as socket.to(room).emit() in
     * socket.io: the sender has its own message already (and its ack says
     * how many got it).  A whisper to oneself reaches nobody. */
    pio_select sel = in_room(socket, &room);
    sel.except_socket = socket;
    int sent = pio_broadcast(ctx, &sel, event, out);
    if (sent < 0)
        return sent;
    return answer_count(ctx, args, NULL, "delivered", sent);
}

PIO_HANDLER(on_say)
{
    size_t room_len, text_len;
    const char *room = string_arg(args, 0, MAX_ROOM_LEN, &room_len);
    const char *text;
    if (!room || pio_value_string(pio_args_at(args, 1), &text, &text_len) != PIO_OK ||
        text_len > MAX_TEXT_LEN)
        return answer_error(ctx, args, "say: expected a room and a text");
    if (!pio_socket_in_room(socket, room))
        return answer_error(ctx, args, "say: join the room first");
    return deliver(ctx, socket, args, "message", room, 1, text, text_len);
}

PIO_HANDLER(on_whisper)
{
    size_t id_len, text_len;
    const char *id = string_arg(args, 0, MAX_ROOM_LEN, &id_len);
    const char *text;
    if (!id || pio_value_string(pio_args_at(args, 1), &text, &text_len) != PIO_OK ||
        text_len > MAX_TEXT_LEN)
        return answer_error(ctx, args, "whisper: expected a socket id and a text");
    if (!pio_socket_find(ctx, pio_socket_namespace(socket), id))
        return answer_error(ctx, args, "whisper: no such user");
    /* Every socket is in the room named by its id: that is its inbox. */
    return deliver(ctx, socket, args, "whisper", id, 0, text, text_len);
}

/* The image types a browser shows in an <img> without running anything
 * (no SVG: it may hold scripts). */
static int image_type_ok(const char *type)
{
    static const char *const ok[] = {"image/png", "image/jpeg", "image/gif", "image/webp"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(type, ok[i]) == 0)
            return 1;
    return 0;
}

PIO_HANDLER(on_image)
{
    size_t room_len, type_len, len;
    const char *room = string_arg(args, 0, MAX_ROOM_LEN, &room_len);
    const char *type = string_arg(args, 1, 32, &type_len);
    const void *data;
    if (!room || !type || !image_type_ok(type))
        return answer_error(ctx, args, "image: expected a room, an image type (png, jpeg, gif, webp) and bytes");
    if (pio_value_binary(pio_args_at(args, 2), &data, &len) != PIO_OK || len == 0 ||
        len > MAX_IMAGE_LEN)
        return answer_error(ctx, args, "image: expected binary data of 1 byte to 512 KiB");
    if (!pio_socket_in_room(socket, room))
        return answer_error(ctx, args, "image: join the room first");
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    pio_out_key(out, "room", 4);
    pio_out_cstr(out, room);
    out_sender(out, socket);
    pio_out_key(out, "type", 4);
    pio_out_string(out, type, type_len);
    pio_out_key(out, "data", 4);
    pio_out_binary(out, data, len);
    pio_out_object_end(out);
    pio_select sel = in_room(socket, &room);
    sel.except_socket = socket;
    int sent = pio_broadcast(ctx, &sel, "image", out);
    if (sent < 0)
        return sent;
    return answer_count(ctx, args, NULL, "delivered", sent);
}

static int add_id(pio_ctx *ctx, pio_socket *s, void *userdata)
{
    (void)ctx;
    return pio_out_cstr(userdata, pio_socket_id(s)) != PIO_OK; /* non-zero stops */
}

PIO_HANDLER(on_users)
{
    size_t len;
    const char *room = string_arg(args, 0, MAX_ROOM_LEN, &len);
    if (!room)
        return answer_error(ctx, args, "users: expected a room name");
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_select sel = in_room(socket, &room);
    pio_out_array_begin(out);
    int n = pio_select_sockets(ctx, &sel, add_id, out);
    pio_out_array_end(out);
    if (n < 0) {
        pio_out_free(out);
        return n;
    }
    return answer(ctx, args, out);
}
