/*
 * reload - a test plugin built several ways, for the hot-reload tests:
 *   libreload_a.so / libreload_b.so   answer "a" / "b" (BUILD_ID)
 *   libreload_nosym.so                lacks the `which` handler (OMIT_WHICH)
 *   libreload_abi2.so                 claims SDK ABI major 2 (ABI_MAJOR_BUMP)
 *
 * `which` acks with [BUILD_ID, the event's first argument], so a client
 * can tell which build answered which event.  `count` acks with a counter
 * that survives reloads: unload hands it to the next version, load takes
 * it.  `ask` emits "question" asking the client for an ack; the callback,
 * wherever the swap has got to by then, emits "answered" with the id of
 * the build whose code ran it.
 */
#include <plugio/plugio.h>
#include <stdlib.h>

#ifndef BUILD_ID
#define BUILD_ID "a"
#endif

static long *counter;

static const char *on_load(pio_ctx *ctx, void *state)
{
    (void)ctx;
    counter = state ? state : calloc(1, sizeof *counter);
    return counter ? NULL : "out of memory";
}

static void *on_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    long *state = counter;
    counter = NULL;
    if (final) {
        free(state);
        return NULL;
    }
    return state;
}

#ifdef ABI_MAJOR_BUMP
/* What PIO_PLUGIN expands to, with another major. */
PIO_HIDDEN const pio_api *pio__api;
PIO_EXPORT const pio_plugin_desc pio_plugin = {
    .size = sizeof(pio_plugin_desc),
    .abi_major = PIO_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "reload",
    .version = "abi2",
    .api = &pio__api,
    .load = on_load,
    .unload = on_unload,
};
#else
PIO_PLUGIN("reload", BUILD_ID, .load = on_load, .unload = on_unload);
#endif

#ifndef OMIT_WHICH
PIO_HANDLER(which)
{
    (void)socket;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_cstr(out, BUILD_ID);
    const pio_value *tag = pio_args_at(args, 0);
    if (tag)
        pio_out_value(out, tag);
    return pio_ack(args, out);
}
#endif

PIO_HANDLER(count)
{
    (void)socket;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_int64(out, ++*counter);
    pio_out_cstr(out, BUILD_ID);
    return pio_ack(args, out);
}

static void on_answer(pio_ctx *ctx, pio_socket *socket, int status, pio_args *reply, void *ud)
{
    (void)ud;
    if (!socket)
        return;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return;
    pio_out_cstr(out, BUILD_ID);
    pio_out_cstr(out, status == PIO_OK ? "ok" : pio_strerror(status));
    const pio_value *v = pio_args_at(reply, 0);
    if (v)
        pio_out_value(out, v);
    pio_emit(socket, "answered", out);
}

PIO_HANDLER(ask)
{
    (void)args;
    return pio_emit_with_ack(socket, "question", pio_out_new(ctx), 10000, on_answer, NULL);
}
