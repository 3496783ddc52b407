/*
 * tp_init_fail - an init hook that refuses to start, as a plugin whose
 * database is down would.
 */
#include <plugio/plugio.h>

PIO_PLUGIN("tp_init_fail", "0.0.1");

PIO_INIT(init)
{
    (void)ctx;
    return "database unreachable";
}

PIO_HANDLER(on_event)
{
    (void)ctx;
    (void)socket;
    (void)args;
    return PIO_OK;
}
