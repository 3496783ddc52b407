/*
 * bench - the plugin tools/bench drives plugio with; tools/bench/node/
 * server.js does exactly the same on Node.js socket.io.
 *
 *   ack     acks with a copy of the event's arguments
 *   join    joins the room "bench", acks with no arguments
 *   fanout  broadcasts the event's arguments to the room "bench", the
 *           sender excluded (socket.to("bench").emit(...) in socket.io)
 *
 * Built twice (libbench_a.so, libbench_b.so; BENCH_BUILD names the build)
 * so that the reload scenario can swap two different files.
 */
#include <plugio/plugio.h>

#ifndef BENCH_BUILD
#define BENCH_BUILD "a"
#endif

PIO_PLUGIN("bench", "1.0.0-" BENCH_BUILD);

/* A copy of every argument of an event, or NULL when out of memory. */
static pio_out *copy_args(pio_ctx *ctx, const pio_args *args)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return NULL;
    size_t n = pio_args_count(args);
    for (size_t i = 0; i < n; i++) {
        int rc = pio_out_value(out, pio_args_at(args, i));
        if (rc != PIO_OK) {
            pio_out_free(out);
            return NULL;
        }
    }
    return out;
}

/* Hosts of ABI 1.1 under construction may leave a 1.1 entry NULL. */
#define HAS_API(fn) (pio__api->size > offsetof(pio_api, fn) && pio__api->fn != NULL)

PIO_HANDLER(ack)
{
    (void)socket;
    pio_out *out = copy_args(ctx, args);
    if (!out)
        return PIO_ENOMEM;
    return pio_ack(args, out);
}

PIO_HANDLER(join)
{
    (void)ctx;
    if (!HAS_API(socket_join))
        return PIO_ESTATE;
    int rc = pio_socket_join(socket, "bench");
    if (rc != PIO_OK)
        return rc;
    return pio_ack(args, NULL);
}

PIO_HANDLER(fanout)
{
    if (!HAS_API(broadcast))
        return PIO_ESTATE;
    pio_out *out = copy_args(ctx, args);
    if (!out)
        return PIO_ENOMEM;
    const pio_select sel = {
        .size = sizeof sel,
        .rooms = (const char *const[]){"bench"},
        .n_rooms = 1,
        .except_socket = socket,
    };
    int n = pio_broadcast(ctx, &sel, "fanout", out);
    return n < 0 ? n : PIO_OK;
}
