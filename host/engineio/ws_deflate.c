/*
 * ws_deflate.c - permessage-deflate on plugio's WebSockets (see
 * ws_deflate.h).
 *
 * libwebsockets 4.1.6 ships lws_extension_callback_pm_deflate, but it is
 * not used, both ways:
 *  - sending, it would compress every TEXT/BINARY write, below socket.io's
 *    threshold too, with a 256 KB deflater per connection; plugio writes
 *    raw frames and compresses with zip.c instead (http.c).
 *  - receiving, it aborts the process: its inflater asserts
 *    (`priv->rx.avail_out`, extension-permessage-deflate.c) when the last
 *    bytes of a message inflate past its output buffer, which a client can
 *    make happen at will (seen with 4 KB JSON events within seconds).
 * So the extension below only takes part in the handshake: it accepts the
 * offer (http.c may decline it per connection, LWS_CALLBACK_CONFIRM_
 * EXTENSION_OKAY) and answers server_no_context_takeover when asked,
 * which plugio honours anyway (zip.c compresses each message alone).
 * Payloads pass through it untouched, RSV1 and all, and http.c inflates
 * them here.  Leaving the payload alone means lws would check compressed
 * text frames as UTF-8, so the context does not ask it to; http.c checks
 * each text message once whole (server.c, http.c).
 */
#include "ws_deflate.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- the extension ----------------------------------------------------- */

static const struct lws_ext_options options[] = {
    {"server_no_context_takeover", EXTARG_NONE},
    {"client_no_context_takeover", EXTARG_NONE},
    {"server_max_window_bits", EXTARG_OPT_DEC},
    {"client_max_window_bits", EXTARG_OPT_DEC},
    {NULL, EXTARG_NONE},
};

/* lws's extension contract: 0 is "nothing done", for every reason but
 * CONSTRUCT (which must hand lws the option table) and OPTION_SET (0
 * echoes the option in the handshake's answer). */
static int extension(struct lws_context *context, const struct lws_extension *ext,
                     struct lws *wsi, enum lws_extension_callback_reasons reason, void *user,
                     void *in, size_t len)
{
    (void)context, (void)ext, (void)wsi, (void)len;
    switch (reason) {
    case LWS_EXT_CB_CONSTRUCT:
        *(void **)user = NULL; /* no per-connection state here: it is in http.c */
        if (in)
            *(const struct lws_ext_options **)in = options;
        return 0;
    case LWS_EXT_CB_OPTION_SET: {
        /* A client's inflater may keep its window whether or not ours is
         * reset, so only server_no_context_takeover is agreed to. */
        const struct lws_ext_option_arg *oa = in;
        return oa && oa->option_index == 0 ? 0 : 1;
    }
    default:
        return 0;
    }
}

static const struct lws_extension extensions[] = {
    {"permessage-deflate", extension, "permessage-deflate"},
    {NULL, NULL, NULL},
};

const struct lws_extension *ws_deflate_extensions(void) { return extensions; }

/* ---- inflating --------------------------------------------------------- */

struct ws_inflater {
    z_stream z;
};

/* The empty stored block the sender removed from the end of the message. */
static const unsigned char trailer[4] = {0x00, 0x00, 0xff, 0xff};

#define STREAM_ENDED 1 /* internal: no trailer is due */

static int inflate_some(z_stream *z, const void *in, size_t len, buf *out, size_t max)
{
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)len;
    for (;;) {
        /* Room for one byte past the limit: producing it means too big.
         * Grow with the input, so a small message leaves a small buffer. */
        size_t room = max + 1 - out->len, want = 256 + 4 * len;
        size_t chunk = want < 16384 ? want : 16384;
        if (chunk > room)
            chunk = room;
        if (!buf_reserve(out, chunk))
            return WS_INFLATE_CORRUPT;
        z->next_out = (Bytef *)out->data + out->len;
        z->avail_out = (uInt)chunk;
        int rc = inflate(z, Z_SYNC_FLUSH);
        out->len += chunk - z->avail_out;
        out->data[out->len] = '\0';
        if (out->len > max)
            return WS_INFLATE_TOO_BIG;
        if (rc == Z_STREAM_END) {
            /* A block marked final ends the sender's stream (RFC 7692
             * 7.2.3.4): the next message starts a new one. */
            inflateReset(z);
            return STREAM_ENDED;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return WS_INFLATE_CORRUPT;
        /* All input taken and room left over: nothing is pending. */
        if (!z->avail_in && z->avail_out)
            return WS_INFLATE_OK;
    }
}

int ws_inflate(ws_inflater **zi, const void *in, size_t len, bool last, buf *out, size_t max)
{
    if (!*zi) {
        ws_inflater *n = calloc(1, sizeof *n);
        /* Any window the client uses (<= 15 bits) inflates with 15. */
        if (!n || inflateInit2(&n->z, -15) != Z_OK) {
            free(n);
            return WS_INFLATE_CORRUPT;
        }
        *zi = n;
    }
    int rc = inflate_some(&(*zi)->z, in, len, out, max);
    if (rc == WS_INFLATE_OK && last)
        rc = inflate_some(&(*zi)->z, trailer, sizeof trailer, out, max);
    return rc == STREAM_ENDED ? WS_INFLATE_OK : rc;
}

void ws_inflater_free(ws_inflater **zi)
{
    if (*zi) {
        inflateEnd(&(*zi)->z);
        free(*zi);
        *zi = NULL;
    }
}
