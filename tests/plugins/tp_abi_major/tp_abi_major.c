/*
 * tp_abi_major - a descriptor written by hand, claiming the next SDK ABI
 * major: the host must refuse it.
 */
#include <plugio/plugio.h>

PIO_HIDDEN const pio_api *pio__api;
PIO_EXPORT const pio_plugin_desc pio_plugin = {
    .size = sizeof(pio_plugin_desc),
    .abi_major = PIO_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "tp_abi_major",
    .version = "1.0.0",
    .api = &pio__api,
};

PIO_HANDLER(on_event)
{
    (void)ctx;
    (void)socket;
    (void)args;
    return PIO_OK;
}
