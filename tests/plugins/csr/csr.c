/*
 * csr.c - the test plugin of connection state recovery (SDK ABI 1.2) that
 * tests/e2e/recovery.test.js runs the host with, next to the io plugin
 * (rooms, broadcasts, data) and the e2e plugin (disconnect reasons).
 *
 *   csr_connection  emit "welcome" {id, recovered, rooms, mw, note}: what
 *                   pio_socket_recovered says, the socket's rooms, and its
 *                   data "mw" and "note" (null when unset)
 *   csr_middleware  refuse with "refused" when auth.reject is true;
 *                   otherwise count its runs for this socket in data "mw"
 *                   (restored data included, so a recovery shows whether
 *                   it ran again)
 *   csr_is_recovered ack with pio_socket_recovered (0 or 1)
 */
#include <plugio/plugio.h>

#include <string.h>

PIO_PLUGIN("csr", "1.0.0");

PIO_HANDLER(csr_connection);
PIO_HANDLER(csr_is_recovered);
PIO_MIDDLEWARE(csr_middleware);

static int fail(pio_ctx *ctx, const char *what, int rc)
{
    pio_log(ctx, PIO_LOG_ERROR, "%s: %s", what, pio_strerror(rc));
    return rc;
}

static int key_value(pio_out *out, const char *key, const pio_value *v)
{
    int rc = pio_out_key(out, key, strlen(key));
    if (rc != PIO_OK)
        return rc;
    return v ? pio_out_value(out, v) : pio_out_null(out);
}

static int build_welcome(pio_out *out, pio_socket *socket)
{
    int rc = pio_out_object_begin(out);
    if (rc == PIO_OK && (rc = pio_out_key(out, "id", 2)) == PIO_OK)
        rc = pio_out_cstr(out, pio_socket_id(socket));
    if (rc == PIO_OK && (rc = pio_out_key(out, "recovered", 9)) == PIO_OK)
        rc = pio_out_bool(out, pio_socket_recovered(socket));
    if (rc == PIO_OK && (rc = pio_out_key(out, "rooms", 5)) == PIO_OK &&
        (rc = pio_out_array_begin(out)) == PIO_OK) {
        void *cursor = NULL;
        for (const char *r; rc == PIO_OK && (r = pio_socket_room_next(socket, &cursor));)
            rc = pio_out_cstr(out, r);
        if (rc == PIO_OK)
            rc = pio_out_array_end(out);
    }
    if (rc == PIO_OK)
        rc = key_value(out, "mw", pio_socket_data_get(socket, "mw"));
    if (rc == PIO_OK)
        rc = key_value(out, "note", pio_socket_data_get(socket, "note"));
    return rc == PIO_OK ? pio_out_object_end(out) : rc;
}

PIO_HANDLER(csr_connection)
{
    (void)args;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_welcome(out, socket);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "welcome", rc);
    }
    rc = pio_emit(socket, "welcome", out);
    return rc == PIO_OK ? PIO_OK : fail(ctx, "pio_emit welcome", rc);
}

PIO_HANDLER(csr_is_recovered)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = pio_out_int64(out, pio_socket_recovered(socket));
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "is_recovered", rc);
    }
    return pio_ack(args, out);
}

PIO_MIDDLEWARE(csr_middleware)
{
    int reject = 0;
    const pio_value *r = pio_value_member(pio_socket_auth(socket), "reject");
    if (r && pio_value_bool(r, &reject) == PIO_OK && reject)
        return "refused";
    int64_t runs = 0;
    const pio_value *mw = pio_socket_data_get(socket, "mw");
    if (mw && pio_value_int64(mw, &runs) != PIO_OK)
        return "mw: not an integer";
    pio_out *out = pio_out_new(ctx);
    if (!out || pio_out_int64(out, runs + 1) != PIO_OK) {
        if (out)
            pio_out_free(out);
        return "mw: out of memory";
    }
    return pio_socket_data_set(socket, "mw", out) == PIO_OK ? NULL : "mw: cannot set";
}
