/*
 * buf.h - a growable byte buffer, the one the whole host uses to assemble
 * packets, payloads and messages.  Always NUL-terminated after its bytes
 * (the terminator is not counted in len), so text built in it can be handed
 * to functions expecting a C string.  An allocation failure is sticky:
 * `failed` is set, later appends do nothing, and the caller checks once.
 */
#ifndef PIO_BUF_H
#define PIO_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data;   /* NULL until the first append */
    size_t len;
    size_t cap;
    bool failed;  /* an allocation failed; contents are incomplete */
} buf;

#define BUF_INIT {NULL, 0, 0, false}

bool buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *data, size_t len);
void buf_append_str(buf *b, const char *s);
void buf_append_char(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(buf *b);       /* len = 0, keeps the memory */
void buf_free(buf *b);        /* frees the memory, back to BUF_INIT */
/* Hands the bytes to the caller (free() them); the buffer is reset. */
char *buf_steal(buf *b, size_t *len);

#endif
