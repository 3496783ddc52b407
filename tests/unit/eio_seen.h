/*
 * eio_seen.h - for the Engine.IO codec tests (v4 and protocol 3): a
 * payload decoder callback that records what it was handed.
 */
#ifndef PIO_TEST_EIO_SEEN_H
#define PIO_TEST_EIO_SEEN_H

#include "protocol/eio_packet.h"

#include <criterion/criterion.h>
#include <string.h>

/* What a payload delivered, packet by packet. */
#define MAX_SEEN 8

typedef struct seen {
    int n;
    eio_type type[MAX_SEEN];
    bool binary[MAX_SEEN];
    size_t len[MAX_SEEN];
    char data[MAX_SEEN][64];
    int stop_after; /* return 99 after this many packets; 0: never */
} seen;

static inline int collect(void *ud, eio_type type, const char *data, size_t len, bool binary)
{
    seen *s = ud;
    cr_assert_lt(s->n, MAX_SEEN);
    cr_assert_lt(len, sizeof s->data[0]);
    s->type[s->n] = type;
    s->binary[s->n] = binary;
    s->len[s->n] = len;
    memcpy(s->data[s->n], data, len);
    s->n++;
    return s->stop_after && s->n == s->stop_after ? 99 : 0;
}

#endif
