/*
 * logger - logs every connection and disconnection through the host's
 * logger.  Its config block sets the level it logs at:
 *
 *     logger:
 *       path: ../build/plugins/logger/liblogger.so
 *       config: { level: info }     # debug, info, warn or error
 */
#include <plugio/plugio.h>

PIO_PLUGIN("logger", "1.0.0");

static pio_log_level configured_level(pio_ctx *ctx)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *level;
    size_t len;
    if (pio_value_string(pio_value_member(pio_ctx_config(ctx), "level"), &level, &len) != PIO_OK)
        return PIO_LOG_INFO;
    for (int i = 0; i < 4; i++)
        if (strcmp(level, names[i]) == 0)
            return (pio_log_level)i;
    return PIO_LOG_INFO;
}

PIO_INIT(init)
{
    const char *level;
    size_t len;
    const pio_value *v = pio_value_member(pio_ctx_config(ctx), "level");
    if (v && pio_value_string(v, &level, &len) != PIO_OK)
        return "config.level must be a string: debug, info, warn or error";
    pio_log(ctx, PIO_LOG_INFO, "ready");
    return NULL;
}

PIO_HANDLER(on_connection)
{
    (void)args;
    pio_log(ctx, configured_level(ctx), "connection %s on %s from %s over %s",
            pio_socket_id(socket), pio_socket_namespace(socket), pio_socket_address(socket),
            pio_socket_transport(socket));
    return PIO_OK;
}

PIO_HANDLER(on_disconnect)
{
    const char *reason = "?";
    size_t len;
    pio_value_string(pio_args_at(args, 0), &reason, &len);
    pio_log(ctx, configured_level(ctx), "disconnect %s from %s: %s", pio_socket_id(socket),
            pio_socket_namespace(socket), reason);
    return PIO_OK;
}
