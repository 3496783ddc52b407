/*
 * echo - custom events, answered through acknowledgements.
 *
 *   socket.emit("echo", ...args, ack)  ack(...args)         (or an "echo" event back)
 *   socket.emit("sum", [1, 2, 3], ack) ack({ sum: 6 })     or ack({ error: "..." })
 */
#include <plugio/plugio.h>

PIO_PLUGIN("echo", "1.0.0");

PIO_HANDLER(on_echo)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    for (size_t i = 0; i < pio_args_count(args); i++)
        pio_out_value(out, pio_args_at(args, i));
    if (pio_args_wants_ack(args))
        return pio_ack(args, out);
    return pio_emit(socket, "echo", out);
}

PIO_HANDLER(on_sum)
{
    (void)socket;
    const pio_value *list = pio_args_at(args, 0);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_object_begin(out);
    double sum = 0;
    const char *error = pio_value_type(list) == PIO_TYPE_ARRAY ? NULL : "expected an array";
    for (size_t i = 0; !error && i < pio_value_count(list); i++) {
        double x;
        if (pio_value_double(pio_value_index(list, i), &x) != PIO_OK)
            error = "expected numbers only";
        else
            sum += x;
    }
    if (error) {
        pio_out_key(out, "error", 5);
        pio_out_cstr(out, error);
    } else {
        pio_out_key(out, "sum", 3);
        pio_out_double(out, sum);
    }
    pio_out_object_end(out);
    if (!pio_args_wants_ack(args)) {
        pio_out_free(out);
        return PIO_OK;
    }
    return pio_ack(args, out);
}
