/*
 * auth - connection middleware that maps a token to a role.
 *
 * The client sends its token in the CONNECT packet's auth payload:
 *
 *     io("http://localhost:3000/chat", { auth: { token: "alice-token" } })
 *
 * The plugin's config block lists the tokens it knows and the role of each:
 *
 *     auth:
 *       path: ../build/plugins/auth/libauth.so
 *       config:
 *         tokens: { alice-token: admin, bob-token: user }
 *
 * `authenticate` (a PIO_MIDDLEWARE, named in the configuration's
 * `middleware:` list) accepts a known token: the socket joins the room
 * "role:<role>" and gets the socket data {role: "<role>"}, which later
 * handlers read with pio_socket_data_get(socket, "role").  A missing token
 * is refused with "missing token", any other with "unknown token": that is
 * the client's connect_error message.
 *
 *   socket.emit("whoami", ack)   ack({id, role})
 */
/* Middleware, rooms and socket data came with SDK 1.1: any 1.1 host or
 * newer may load this plugin (an older one refuses it, saying why). */
#define PIO_MIN_ABI_MINOR 1
#include <plugio/plugio.h>

#include <stdio.h>

static const char *auth_load(pio_ctx *ctx, void *state);

PIO_PLUGIN("auth", "1.0.0", .load = auth_load);

PIO_MIDDLEWARE(authenticate);
PIO_HANDLER(whoami);

#define MAX_ROLE_LEN 64

/* The config check: tokens must be an object of role names. */
static const char *auth_load(pio_ctx *ctx, void *state)
{
    (void)state;
    const pio_value *tokens = pio_value_member(pio_ctx_config(ctx), "tokens");
    if (pio_value_type(tokens) != PIO_TYPE_OBJECT)
        return "config.tokens must be an object: {token: role, ...}";
    void *cursor = NULL;
    const char *token;
    size_t n = 0;
    for (const pio_value *role; (role = pio_value_next(tokens, &cursor, &token)); n++) {
        const char *name;
        size_t len;
        if (pio_value_string(role, &name, &len) != PIO_OK || len == 0 || len > MAX_ROLE_LEN ||
            strlen(name) != len)
            return "config.tokens: every role must be a name of 1 to 64 bytes";
    }
    pio_log(ctx, PIO_LOG_INFO, "%zu token%s", n, n == 1 ? "" : "s");
    return NULL;
}

PIO_MIDDLEWARE(authenticate)
{
    const char *token;
    size_t len;
    const pio_value *given = pio_value_member(pio_socket_auth(socket), "token");
    if (!given || pio_value_string(given, &token, &len) != PIO_OK || len == 0)
        return "missing token";

    const pio_value *tokens = pio_value_member(pio_ctx_config(ctx), "tokens");
    const char *role;
    size_t role_len;
    if (strlen(token) != len ||
        pio_value_string(pio_value_member(tokens, token), &role, &role_len) != PIO_OK) {
        pio_log(ctx, PIO_LOG_INFO, "refused %s from %s: unknown token", pio_socket_id(socket),
                pio_socket_address(socket));
        return "unknown token";
    }

    char room[sizeof "role:" + MAX_ROLE_LEN];
    snprintf(room, sizeof room, "role:%s", role); /* the load hook checked the length */
    int rc = pio_socket_join(socket, room);
    if (rc != PIO_OK) {
        pio_log(ctx, PIO_LOG_ERROR, "pio_socket_join %s: %s", room, pio_strerror(rc));
        return "authentication failed";
    }
    /* A pio_out that went wrong stays invalid: the call consuming it says so. */
    pio_out *data = pio_out_new(ctx);
    if (!data)
        return "authentication failed";
    pio_out_string(data, role, role_len);
    rc = pio_socket_data_set(socket, "role", data); /* consumes data */
    if (rc != PIO_OK) {
        pio_log(ctx, PIO_LOG_ERROR, "pio_socket_data_set role: %s", pio_strerror(rc));
        return "authentication failed";
    }
    pio_log(ctx, PIO_LOG_DEBUG, "%s is %s", pio_socket_id(socket), role);
    return NULL;
}

PIO_HANDLER(whoami)
{
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    const pio_value *role = pio_socket_data_get(socket, "role");
    pio_out_object_begin(out);
    pio_out_key(out, "id", 2);
    pio_out_cstr(out, pio_socket_id(socket));
    pio_out_key(out, "role", 4);
    if (role)
        pio_out_value(out, role);
    else
        pio_out_null(out);
    pio_out_object_end(out);
    return pio_ack(args, out); /* reports any error above */
}
