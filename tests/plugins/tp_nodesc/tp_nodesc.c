/*
 * tp_nodesc - a valid shared object with an exported function but no
 * plugio descriptor (someone forgot PIO_PLUGIN).
 */
#include <plugio/plugio.h>

PIO_HANDLER(on_event)
{
    (void)ctx;
    (void)socket;
    (void)args;
    return PIO_OK;
}
