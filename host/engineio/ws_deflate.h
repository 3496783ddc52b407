/*
 * ws_deflate.h - permessage-deflate (RFC 7692) on plugio's WebSockets:
 * the extension libwebsockets negotiates, and the inflater of what a
 * client sends compressed.  What plugio sends is compressed by zip.c
 * and framed by http.c (see ws_deflate.c for why lws's own
 * permessage-deflate is not used).
 */
#ifndef PIO_WS_DEFLATE_H
#define PIO_WS_DEFLATE_H

#include "base/buf.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>

/* For lws_context_creation_info.extensions: lives as long as the process. */
const struct lws_extension *ws_deflate_extensions(void);

/* One connection's inflater, created by the first compressed message and
 * kept for the next ones (the client may refer back to earlier messages). */
typedef struct ws_inflater ws_inflater;

enum { WS_INFLATE_OK = 0, WS_INFLATE_CORRUPT = -1, WS_INFLATE_TOO_BIG = -2 };

/* Inflates the next `len` bytes of a compressed message, appending to
 * `out`; `last`: they end the message.  Stops, with WS_INFLATE_TOO_BIG,
 * as soon as `out` would hold more than `max` bytes, whatever the input
 * claims, so a small message that inflates to gigabytes costs `max` bytes.
 * WS_INFLATE_CORRUPT for invalid data or no memory. */
int ws_inflate(ws_inflater **zi, const void *in, size_t len, bool last, buf *out, size_t max);

void ws_inflater_free(ws_inflater **zi); /* *zi may be NULL; set to NULL */

#endif
