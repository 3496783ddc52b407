/*
 * hello - the smallest out-of-tree plugin: built against an installed SDK
 * only (pkg-config plugio or find_package(plugio)), never the source tree.
 */
#include <plugio/plugio.h>

PIO_PLUGIN("hello", "0.0.1");

/* Not exported: -fvisibility=hidden comes with the SDK's flags. */
int hello_helper(void);
int hello_helper(void) { return 1; }

PIO_INIT(hello_init)
{
    pio_log(ctx, PIO_LOG_INFO, "hello");
    return NULL;
}

PIO_HANDLER(on_hello)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_cstr(out, "hello");
    pio_out_int64(out, hello_helper());
    if (pio_args_wants_ack(args))
        return pio_ack(args, out);
    return pio_emit(socket, "hello", out);
}
