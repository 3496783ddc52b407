/*
 * zip.h - zlib compression for socket.io's two options: httpCompression
 * (gzip or deflate polling responses the client accepts so) and
 * perMessageDeflate (RFC 7692 raw deflate for WebSocket messages).
 *
 * Every call compresses one whole input on its own: nothing is kept per
 * connection, so a connection costs no zlib memory (see zip.c).
 */
#ifndef PIO_ZIP_H
#define PIO_ZIP_H

#include "base/buf.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum zip_format {
    ZIP_NONE = -1,
    ZIP_GZIP = 0,   /* Content-Encoding: gzip (RFC 1952) */
    ZIP_DEFLATE,    /* Content-Encoding: deflate, which is zlib (RFC 1950) */
    ZIP_MESSAGE,    /* a permessage-deflate message: raw deflate, sync-flushed,
                       without the final 00 00 ff ff (RFC 7692 7.2.1) */
} zip_format;

/* The encoding engine.io would pick for this Accept-Encoding header value
 * (NULL: none sent) among gzip and deflate, as the `accepts` package
 * does: highest q, an exact name before "*", then the header's order,
 * then gzip. ZIP_NONE when neither is acceptable. */
zip_format zip_accepted(const char *accept_encoding);

/* The Content-Encoding name of an HTTP format. */
const char *zip_name(zip_format f);

/* Appends `len` bytes of `in`, compressed as `f` with `opts`' level, window
 * and memory level, to `out`.  False when zlib or an allocation fails
 * (out->failed tells which); `out` then holds garbage after its old end. */
bool zip_compress(zip_format f, const config_compression *opts, const void *in, size_t len,
                  buf *out);

/* Frees the deflaters kept between calls (at exit, for leak checkers). */
void zip_shutdown(void);

#endif
