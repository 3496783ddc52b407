/*
 * api.c - the host's function table (the SDK's pio_api), and the small
 * entries that need no module of their own: errors, logging, the plugin
 * context and event arguments.
 *
 * The table is append-only (see plugio.h): new entries go at the end of
 * the struct and of this initializer, with a new ABI minor.
 */
#include "base/args.h"
#include "base/log.h"
#include "base/out.h"
#include "plugin/ctx.h"
#include "plugin/routes.h"
#include "plugin/services.h"
#include "base/value_msgpack.h"
#include "socketio/adapter.h"
#include "socketio/broadcast.h"
#include "socketio/sio_dispatch.h"
#include "socketio/sio_client.h"
#include "socketio/sio_recovery.h"
#include "socketio/sio_socket.h"
#include "web/plugin_http.h"

#include <string.h>

static const char *api_strerror(int code)
{
    switch (code) {
    case PIO_OK: return "success";
    case PIO_EINVAL: return "invalid argument";
    case PIO_ETYPE: return "value has another type";
    case PIO_ERANGE: return "value out of range";
    case PIO_ENOMEM: return "out of memory";
    case PIO_ESTATE: return "not allowed in this state";
    case PIO_ECLOSED: return "socket disconnected";
    case PIO_ETIMEDOUT: return "timed out";
    case PIO_ENOSPACE: return "buffer too small";
    case PIO_EUNREACHABLE: return "other servers unreachable";
    default: return "unknown error";
    }
}

static void api_logv(pio_ctx *ctx, pio_log_level level, const char *fmt, va_list ap)
{
    if (level < PIO_LOG_DEBUG || level > PIO_LOG_ERROR)
        level = PIO_LOG_ERROR;
    log_msgv(level, ctx ? ctx->name : "plugin", fmt, ap);
}

static void api_log(pio_ctx *ctx, pio_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    api_logv(ctx, level, fmt, ap);
    va_end(ap);
}

static int api_log_enabled(pio_ctx *ctx, pio_log_level level)
{
    (void)ctx;
    return log_enabled(level);
}

static const char *api_ctx_name(pio_ctx *ctx) { return ctx->name; }

static const pio_value *api_ctx_config(pio_ctx *ctx) { return value_wrap(ctx->config); }

size_t args_count(const pio_args *a)
{
    if (!a || !a->list)
        return 0;
    size_t n = json_object_array_length(a->list);
    return n > a->first ? n - a->first : 0;
}

const pio_value *args_at(const pio_args *a, size_t i)
{
    if (i >= args_count(a))
        return NULL;
    return value_wrap(json_object_array_get_idx(a->list, a->first + i));
}

int args_wants_ack(const pio_args *a) { return a && a->wants_ack; }

int args_ack(pio_args *a, pio_out *out)
{
    if (!a || !a->wants_ack || !a->send_ack) {
        out_free(out);
        return PIO_ESTATE;
    }
    a->wants_ack = false;
    return a->send_ack(a, out);
}

/* ---- values from bytes (1.4) ------------------------------------------- */

static const pio_value *api_value_parse(const void *data, size_t len, unsigned format)
{
    json_object *j = NULL;
    bool undefined;
    if (!data && len)
        return NULL;
    if (format == PIO_FORMAT_JSON) {
        if (!value_parse(data, len, &j))
            return NULL;
    } else if (format != PIO_FORMAT_MSGPACK ||
               value_msgpack_parse(data, len, VALUE_MAX_DEPTH, &j, &undefined) != VMP_OK) {
        return NULL;
    }
    return value_wrap(j); /* null (and undefined) is the sentinel, freed as nothing */
}

static void api_value_free(const pio_value *v)
{
    if (v)
        json_object_put(value_unwrap(v));
}

static int api_value_msgpack(const pio_value *v, void *out, size_t cap, size_t *len)
{
    if (!v || !len || (!out && cap))
        return PIO_EINVAL;
    buf b = BUF_INIT;
    if (!value_msgpack_write(&b, value_unwrap(v), NULL, 0)) {
        buf_free(&b);
        return PIO_ENOMEM;
    }
    *len = b.len;
    int rc = PIO_ENOSPACE;
    if (cap >= b.len) {
        if (b.len)
            memcpy(out, b.data, b.len);
        rc = PIO_OK;
    }
    buf_free(&b);
    return rc;
}

const pio_api host_api = {
    .size = sizeof(pio_api),
    .abi_major = PIO_ABI_MAJOR,
    .abi_minor = PIO_ABI_MINOR,
    .strerror = api_strerror,
    .log = api_log,
    .logv = api_logv,
    .log_enabled = api_log_enabled,
    .ctx_name = api_ctx_name,
    .ctx_config = api_ctx_config,
    .value_type = value_type,
    .value_bool = value_bool,
    .value_double = value_double,
    .value_int64 = value_int64,
    .value_string = value_string,
    .value_binary = value_binary,
    .value_count = value_count,
    .value_index = value_index,
    .value_member = value_member,
    .value_next = value_next,
    .value_json = value_json,
    .args_count = args_count,
    .args_at = args_at,
    .args_wants_ack = args_wants_ack,
    .ack = args_ack,
    .out_new = out_new,
    .out_free = out_free,
    .out_null = out_null,
    .out_bool = out_bool,
    .out_double = out_double,
    .out_int64 = out_int64,
    .out_string = out_string,
    .out_binary = out_binary,
    .out_json = out_json,
    .out_value = out_value,
    .out_key = out_key,
    .out_array_begin = out_array_begin,
    .out_array_end = out_array_end,
    .out_object_begin = out_object_begin,
    .out_object_end = out_object_end,
    .socket_id = sio_socket_id,
    .socket_namespace = sio_socket_namespace,
    .socket_auth = sio_socket_auth,
    .socket_query = sio_socket_query,
    .socket_header = sio_socket_header,
    .socket_address = sio_socket_address,
    .socket_transport = sio_socket_transport,
    .emit = sio_socket_emit,
    .emit_with_ack = sio_socket_emit_with_ack,
    .socket_disconnect = sio_socket_disconnect,
    /* 1.1 */
    .socket_join = sio_socket_join,
    .socket_leave = sio_socket_leave,
    .socket_in_room = sio_socket_in_room,
    .socket_room_next = sio_socket_room_next,
    .broadcast = broadcast_emit,
    .broadcast_with_ack = broadcast_emit_with_ack,
    .raw = broadcast_raw,
    .select_sockets = broadcast_sockets,
    .rooms = broadcast_rooms,
    .select_join = broadcast_join,
    .select_leave = broadcast_leave,
    .select_disconnect = broadcast_disconnect,
    .socket_find = broadcast_find,
    .socket_data_set = sio_socket_data_set,
    .socket_data_get = sio_socket_data_get,
    .timer_start = services_timer_start,
    .timer_cancel = services_timer_cancel,
    .fd_watch = services_fd_watch,
    .fd_update = services_fd_update,
    .fd_unwatch = services_fd_unwatch,
    .work_submit = services_work_submit,
    /* 1.2 */
    .socket_recovered = sio_socket_recovered,
    /* 1.3 */
    .ack_defer = sio_ack_defer,
    .ack_later = sio_ack_later,
    .ack_drop = sio_ack_drop,
    .middleware_defer = sio_middleware_defer,
    .middleware_resolve = sio_middleware_resolve,
    /* 1.4 */
    .adapter_install = adapter_install,
    .adapter_answer = adapter_answer,
    .adapter_expect = adapter_expect,
    .adapter_done = adapter_done,
    .fetch_sockets = broadcast_fetch,
    .all_rooms = broadcast_all_rooms,
    .server_emit = broadcast_server_emit,
    .server_event = sio_server_event,
    .broadcast_ack_each = broadcast_ack_each,
    .value_parse = api_value_parse,
    .value_free = api_value_free,
    .value_msgpack = api_value_msgpack,
    /* 1.5 */
    .http_route = routes_add,
    .http_unroute = routes_remove,
    .http_method = plugin_http_method,
    .http_path = plugin_http_path,
    .http_address = plugin_http_address,
    .http_query = plugin_http_query,
    .http_header = plugin_http_header,
    .http_body = plugin_http_body,
    .http_respond = plugin_http_respond,
    .middleware_socket = sio_middleware_socket,
};
