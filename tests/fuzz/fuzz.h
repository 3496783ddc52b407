/*
 * fuzz.h - what the libFuzzer targets share: an invariant check that
 * aborts (libFuzzer then keeps the input as a crash), and a list of the
 * Engine.IO packets a decoder delivered, to compare two decodings.
 */
#ifndef PIO_FUZZ_H
#define PIO_FUZZ_H

#include "protocol/eio_packet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);   \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* One delivered packet, its bytes copied (a decoder lends them for the
 * call only). */
typedef struct fuzz_packet {
    eio_type type;
    bool binary;
    size_t len;
    char *data;
} fuzz_packet;

typedef struct fuzz_packets {
    fuzz_packet *items;
    size_t n, cap;
} fuzz_packets;

/* An eio_payload_fn that appends to the fuzz_packets ud. */
static inline int fuzz_collect(void *ud, eio_type type, const char *data, size_t len, bool binary)
{
    fuzz_packets *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        fuzz_packet *items = realloc(l->items, cap * sizeof *items);
        FUZZ_CHECK(items);
        l->items = items;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    FUZZ_CHECK(copy);
    if (len)
        memcpy(copy, data, len);
    l->items[l->n++] = (fuzz_packet){type, binary, len, copy};
    return 0;
}

static inline bool fuzz_packets_equal(const fuzz_packets *a, const fuzz_packets *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const fuzz_packet *x = &a->items[i], *y = &b->items[i];
        if (x->type != y->type || x->binary != y->binary || x->len != y->len ||
            (x->len && memcmp(x->data, y->data, x->len) != 0))
            return false;
    }
    return true;
}

static inline void fuzz_packets_free(fuzz_packets *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].data);
    free(l->items);
    *l = (fuzz_packets){0};
}

#endif
