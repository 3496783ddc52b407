/*
 * args.h - the arguments of one event or ack as plugins see them
 * (the SDK's pio_args): a window onto the packet's JSON array, and the
 * means to acknowledge it.
 */
#ifndef PIO_ARGS_H
#define PIO_ARGS_H

#include "value.h"

struct pio_args {
    json_object *list;   /* the packet's array (borrowed), or NULL: no arguments */
    size_t first;        /* index of the first argument: 1 skips an event's name */
    bool wants_ack;      /* the client asked for an ack and none was sent yet */
    /* Sends the ack (set by the socket layer when wants_ack). Consumes out. */
    int (*send_ack)(pio_args *args, pio_out *out);
    void *owner;         /* the socket layer's state for send_ack */
    int64_t ack_id;      /* the id the ack answers */
};

size_t args_count(const pio_args *a);
const pio_value *args_at(const pio_args *a, size_t i);
int args_wants_ack(const pio_args *a);
int args_ack(pio_args *a, pio_out *out);

#endif
