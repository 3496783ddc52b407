/*
 * caller.c - a plugin that changes content elsewhere and tells clients
 * through the strapi plugin (plugins/strapi/strapi_emit.h), for
 * tests/e2e/strapi.test.js.
 *
 *   caller_emit (uid, action, entryJson) -> ack [rc]
 */
#include <plugio/plugio.h>

#include "strapi_emit.h"

PIO_PLUGIN("strapi_caller", "1.0.0");

static const char *str(const pio_value *v)
{
    const char *s;
    size_t len;
    return pio_value_string(v, &s, &len) == PIO_OK ? s : NULL;
}

PIO_HANDLER(caller_emit)
{
    (void)socket;
    int rc = strapi_emit(ctx, str(pio_args_at(args, 0)), str(pio_args_at(args, 1)),
                         str(pio_args_at(args, 2)));
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_int64(out, rc);
    return pio_ack(args, out);
}
