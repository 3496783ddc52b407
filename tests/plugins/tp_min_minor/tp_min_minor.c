/*
 * tp_min_minor - a plugin built with this SDK that also runs in 1.0 hosts:
 * it requires minor 0 and tests pio_has() before using a 1.1 function.
 */
#define PIO_MIN_ABI_MINOR 0
#include <plugio/plugio.h>

PIO_PLUGIN("tp_min_minor", "1.0.0");

/* 1 when the host it was loaded into has rooms (SDK 1.1), else 0. */
PIO_EXPORT int tp_has_rooms(void);
PIO_EXPORT int tp_has_rooms(void)
{
    return pio_has(socket_join) ? 1 : 0;
}
