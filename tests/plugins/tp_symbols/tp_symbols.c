/*
 * tp_symbols - a plugin whose exports are not all functions, for the
 * binding's check that a handler names a function of the plugin itself:
 * data objects, a thread-local variable, a handler reached through an
 * IFUNC (dlsym returns what the resolver picked, not the symbol), and a
 * call into libc, so that `puts` is found through the plugin's handle
 * although the plugin does not define it.
 */
#include <plugio/plugio.h>

#include <stdio.h>

PIO_PLUGIN("tp_symbols", "1.0.0");

PIO_EXPORT int tp_counter = 7;
PIO_EXPORT const char tp_greeting[] = "hello";
PIO_EXPORT _Thread_local int tp_per_thread;

/* A real handler, calling libc: puts is one of the plugin's undefined,
 * imported symbols. */
PIO_HANDLER(on_event)
{
    (void)ctx;
    (void)socket;
    (void)args;
    if (tp_counter < 0)
        puts(tp_greeting);
    return 77;
}

/* on_fast is an IFUNC: its resolver picks this (not exported) function. */
static int fast_impl(pio_ctx *ctx, pio_socket *socket, pio_args *args)
{
    (void)ctx;
    (void)socket;
    (void)args;
    return 78;
}

typedef int handler_fn(pio_ctx *, pio_socket *, pio_args *);
static handler_fn *resolve_fast(void) { return fast_impl; }

PIO_EXPORT int on_fast(pio_ctx *ctx, pio_socket *socket, pio_args *args)
    __attribute__((ifunc("resolve_fast")));
