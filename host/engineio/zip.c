/*
 * zip.c - zlib compression for polling responses and WebSocket messages
 * (see zip.h).
 *
 * One deflater per format for the whole process, reset before each input
 * rather than set up again: deflateInit2 allocates the window and hash
 * tables ((1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes, 256 KB at
 * socket.io's windowBits 15, memLevel 8), deflateReset only clears them.
 * It is set up again only when a reload changes the settings.
 *
 * Compressing each WebSocket message on its own is what RFC 7692 calls
 * server_no_context_takeover; a server may do it whether or not it was
 * negotiated (the client's inflater only ever sees valid back references),
 * so no connection holds a deflater: Node's ws keeps one per connection
 * (256 KB with those settings) to compress a little better across
 * messages.  It also lets a broadcast be compressed once for every
 * recipient (http.c caches it on the message).
 */
#include "zip.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

typedef struct deflater {
    z_stream z;
    bool ready;
    int level, mem_level, window_bits; /* what z was set up with */
} deflater;

static deflater deflaters[3]; /* by zip_format */

/* ---- Accept-Encoding ----------------------------------------------------- */

typedef struct accept_match {
    double q;
    int exact; /* 1: the coding's name, 0: "*" */
    int order; /* position in the header */
    bool found;
} accept_match;

/* Better as the `negotiator` package ranks: higher q, then more specific,
 * then earlier in the header. */
static bool better(const accept_match *a, const accept_match *b)
{
    if (!b->found)
        return true;
    if (a->exact != b->exact)
        return a->exact > b->exact;
    return a->q > b->q;
}

static void trim(const char **s, const char **end)
{
    while (*s < *end && isspace((unsigned char)**s))
        (*s)++;
    while (*end > *s && isspace((unsigned char)(*end)[-1]))
        (*end)--;
}

static double parse_q(const char *params, const char *end)
{
    while (params < end) {
        const char *semi = memchr(params, ';', (size_t)(end - params));
        const char *stop = semi ? semi : end, *p = params;
        trim(&p, &stop);
        if (stop - p > 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
            return strtod(p + 2, NULL);
        params = semi ? semi + 1 : end;
    }
    return 1.0;
}

zip_format zip_accepted(const char *header)
{
    static const char *const names[] = {"gzip", "deflate"};
    accept_match best[2] = {{0}};
    int order = 0;
    for (const char *s = header; s && *s; order++) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *name = s, *name_end = semi ? semi : end;
        trim(&name, &name_end);
        size_t n = (size_t)(name_end - name);
        accept_match m = {parse_q(semi ? semi + 1 : end, end), 0, order, true};
        for (int i = 0; i < 2; i++) {
            m.exact = n == strlen(names[i]) && strncasecmp(name, names[i], n) == 0;
            if ((m.exact || (n == 1 && *name == '*')) && better(&m, &best[i]))
                best[i] = m;
        }
        s = comma ? comma + 1 : end;
    }
    /* Rank the two as negotiator sorts: q, specificity, order, then ours. */
    zip_format pick = ZIP_NONE;
    for (int i = 0; i < 2; i++) {
        const accept_match *m = &best[i];
        if (!m->found || !(m->q > 0))
            continue;
        if (pick != ZIP_NONE) {
            const accept_match *p = &best[pick];
            if (m->q < p->q || (m->q == p->q && (m->exact < p->exact ||
                                                 (m->exact == p->exact && m->order >= p->order))))
                continue;
        }
        pick = (zip_format)i;
    }
    return pick;
}

const char *zip_name(zip_format f) { return f == ZIP_GZIP ? "gzip" : "deflate"; }

/* ---- compression -------------------------------------------------------- */

static z_stream *deflater_for(zip_format f, const config_compression *o)
{
    deflater *d = &deflaters[f];
    if (d->ready && d->level == o->level && d->mem_level == o->mem_level &&
        d->window_bits == o->window_bits) {
        if (deflateReset(&d->z) == Z_OK)
            return &d->z;
    }
    if (d->ready)
        deflateEnd(&d->z);
    memset(d, 0, sizeof *d);
    int bits = f == ZIP_GZIP ? o->window_bits + 16 : f == ZIP_MESSAGE ? -o->window_bits
                                                                      : o->window_bits;
    if (deflateInit2(&d->z, o->level, Z_DEFLATED, bits, o->mem_level, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    d->ready = true;
    d->level = o->level;
    d->mem_level = o->mem_level;
    d->window_bits = o->window_bits;
    return &d->z;
}

bool zip_compress(zip_format f, const config_compression *opts, const void *in, size_t len,
                  buf *out)
{
    z_stream *z = deflater_for(f, opts);
    if (!z)
        return false;
    int flush = f == ZIP_MESSAGE ? Z_SYNC_FLUSH : Z_FINISH;
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)len; /* messages are bounded far below 4 GB */
    size_t start = out->len;
    for (;;) {
        if (!buf_reserve(out, deflateBound(z, z->avail_in) + 16))
            return false;
        z->next_out = (Bytef *)out->data + out->len;
        z->avail_out = (uInt)(out->cap - out->len - 1);
        int rc = deflate(z, flush);
        out->len = out->cap - 1 - z->avail_out;
        if (rc == Z_STREAM_END || (flush == Z_SYNC_FLUSH && rc == Z_OK && z->avail_out > 0))
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return false;
    }
    if (f == ZIP_MESSAGE) {
        /* A sync flush ends with an empty stored block, 00 00 ff ff: the
         * receiver puts it back (RFC 7692 7.2.1). */
        if (out->len - start < 4 || memcmp(out->data + out->len - 4, "\0\0\xff\xff", 4) != 0)
            return false;
        out->len -= 4;
    }
    out->data[out->len] = '\0';
    return true;
}

void zip_shutdown(void)
{
    for (size_t i = 0; i < sizeof deflaters / sizeof *deflaters; i++) {
        if (deflaters[i].ready)
            deflateEnd(&deflaters[i].z);
        memset(&deflaters[i], 0, sizeof deflaters[i]);
    }
}
