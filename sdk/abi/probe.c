/* sdk/abi/probe.c - the SDK's types as a shared library, for abidiff.
 * Nothing calls it: each function takes one public type, so the DWARF of
 * the library (built with -g -O0) describes every struct, enum and
 * callback of plugio.h; tools/check-abi compares that with plugio.abi.
 * A new public type of plugio.h gets a function here (and a refreshed
 * baseline: tools/check-abi --update). */
#include <plugio/plugio.h>

#define PROBE(name, type)                                        \
    PIO_EXPORT void pio_abi_probe_##name(type *p);               \
    PIO_EXPORT void pio_abi_probe_##name(type *p) { (void)p; }

/* The structs the host and plugins share. */
PROBE(api, pio_api)
PROBE(plugin_desc, pio_plugin_desc)
PROBE(select, pio_select)
PROBE(adapter_ops, pio_adapter_ops)

/* The enums. */
PROBE(type, pio_type)
PROBE(log_level, pio_log_level)

/* The callbacks. */
PROBE(handler_fn, pio_handler_fn)
PROBE(init_fn, pio_init_fn)
PROBE(load_fn, pio_load_fn)
PROBE(unload_fn, pio_unload_fn)
PROBE(middleware_fn, pio_middleware_fn)
PROBE(ack_fn, pio_ack_fn)
PROBE(broadcast_ack_fn, pio_broadcast_ack_fn)
PROBE(socket_fn, pio_socket_fn)
PROBE(room_fn, pio_room_fn)
PROBE(timer_fn, pio_timer_fn)
PROBE(fd_fn, pio_fd_fn)
PROBE(work_fn, pio_work_fn)
PROBE(done_fn, pio_done_fn)
PROBE(answer_fn, pio_answer_fn)
PROBE(http_fn, pio_http_fn)

/* The values of the error codes (an anonymous enum) and of the #defines
 * plugins compile in (not PIO_ABI_MINOR, which grows), mirrored as an
 * enum so that DWARF carries them. */
enum pio_abi_constants {
    PIO_ABI_C_MAJOR = PIO_ABI_MAJOR,
    PIO_ABI_C_OK = PIO_OK,
    PIO_ABI_C_EINVAL = PIO_EINVAL,
    PIO_ABI_C_ETYPE = PIO_ETYPE,
    PIO_ABI_C_ERANGE = PIO_ERANGE,
    PIO_ABI_C_ENOMEM = PIO_ENOMEM,
    PIO_ABI_C_ESTATE = PIO_ESTATE,
    PIO_ABI_C_ECLOSED = PIO_ECLOSED,
    PIO_ABI_C_ETIMEDOUT = PIO_ETIMEDOUT,
    PIO_ABI_C_ENOSPACE = PIO_ENOSPACE,
    PIO_ABI_C_EUNREACHABLE = PIO_EUNREACHABLE,
    PIO_ABI_C_SELECT_VOLATILE = PIO_SELECT_VOLATILE,
    PIO_ABI_C_SELECT_LOCAL = PIO_SELECT_LOCAL,
    PIO_ABI_C_FD_READ = PIO_FD_READ,
    PIO_ABI_C_FD_WRITE = PIO_FD_WRITE,
    PIO_ABI_C_FD_HUP = PIO_FD_HUP,
    PIO_ABI_C_FORMAT_JSON = PIO_FORMAT_JSON,
    PIO_ABI_C_FORMAT_MSGPACK = PIO_FORMAT_MSGPACK,
};
PROBE(constants, enum pio_abi_constants)
