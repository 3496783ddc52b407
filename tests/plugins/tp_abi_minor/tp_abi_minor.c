/*
 * tp_abi_minor - a descriptor written by hand, claiming a minor ABI newer
 * than the host's: the host must refuse it.
 */
#include <plugio/plugio.h>

PIO_HIDDEN const pio_api *pio__api;
PIO_EXPORT const pio_plugin_desc pio_plugin = {
    .size = sizeof(pio_plugin_desc),
    .abi_major = PIO_ABI_MAJOR,
    .abi_minor = PIO_ABI_MINOR + 1,
    .name = "tp_abi_minor",
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
