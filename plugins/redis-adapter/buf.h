/*
 * buf.h - a growable byte buffer for the payloads the adapter publishes.
 *
 * An allocation failure marks the buffer failed and makes every later
 * write a no-op, so code that composes a payload checks once, at the end
 * (as pio_out does).  Pure: no host calls.
 */
#ifndef RA_BUF_H
#define RA_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ra_buf {
    char *data; /* NUL-terminated when len > 0 and not failed */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the contents are incomplete */
} ra_buf;

#define RA_BUF_INIT {NULL, 0, 0, 0}

/* Room for n more bytes (plus a terminator) at data + len, or NULL when
 * out of memory (the buffer is then failed). */
char *ra_buf_reserve(ra_buf *b, size_t n);
void ra_buf_put(ra_buf *b, const void *data, size_t len);
void ra_buf_puts(ra_buf *b, const char *s);
void ra_buf_printf(ra_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ra_buf_free(ra_buf *b);

/* A JSON string literal, quoted and escaped as JSON.stringify writes one
 * (the bytes are UTF-8 already: only '"', '\\' and controls change). */
void ra_buf_json_string(ra_buf *b, const char *s, size_t len);
/* A JSON array of strings. */
void ra_buf_json_strings(ra_buf *b, const char *const *v, size_t n);

/* msgpack-c's packer callback (msgpack_packer_write) writing to a ra_buf
 * given as `data`. */
int ra_buf_msgpack_write(void *data, const char *buf, size_t len);

#endif
