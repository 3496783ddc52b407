/*
 * tp_good - a well-formed plugin for the loader tests: a descriptor, an
 * init hook that succeeds, handlers that prove which build answered and
 * that the host filled in its function table.
 */
#include <plugio/plugio.h>

#ifndef TP_GOOD_BUILD
#define TP_GOOD_BUILD 4242
#endif

PIO_PLUGIN("tp_good", "1.2.3");

static int calls;

PIO_INIT(init)
{
    (void)ctx;
    return NULL;
}

/* Returns TP_GOOD_BUILD when the host's table is in place; tolerates NULL
 * ctx, socket and args. */
PIO_HANDLER(on_event)
{
    (void)ctx;
    (void)socket;
    (void)args;
    if (!pio__api || pio__api->abi_major != PIO_ABI_MAJOR)
        return PIO_ESTATE;
    return TP_GOOD_BUILD;
}

/* Returns the integer config.answer, read through the SDK, or -1. */
PIO_HANDLER(on_config)
{
    (void)socket;
    (void)args;
    int64_t answer;
    if (pio_value_int64(pio_value_member(pio_ctx_config(ctx), "answer"), &answer) != PIO_OK)
        return -1;
    return (int)answer;
}

/* Counts calls: a global of this mapping, so two loaded copies count
 * separately. */
PIO_EXPORT int tp_good_count(void);
PIO_EXPORT int tp_good_count(void) { return ++calls; }

/* Defined but not exported: the host must not find it. */
int tp_good_hidden(void);
int tp_good_hidden(void) { return 1; }
