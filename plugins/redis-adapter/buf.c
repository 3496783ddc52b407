/*
 * buf.c - the adapter's byte buffer (see buf.h).
 *
 * The host has the same kind of buffer and JSON string writer
 * (host/base/buf.c, out.c), but a plugin is a separate image that sees
 * only the SDK: it cannot link the host's internals, and libc has no
 * growable buffer, so the plugin keeps its own small one.
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ra_buf_reserve(ra_buf *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (n >= SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return NULL;
    }
    size_t need = b->len + n + 1; /* the terminator */
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = 1;
            return NULL;
        }
        b->data = data;
        b->cap = cap;
    }
    return b->data + b->len;
}

void ra_buf_put(ra_buf *b, const void *data, size_t len)
{
    char *at = ra_buf_reserve(b, len);
    if (!at)
        return;
    if (len)
        memcpy(at, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ra_buf_puts(ra_buf *b, const char *s)
{
    ra_buf_put(b, s, strlen(s));
}

void ra_buf_printf(ra_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[64];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ra_buf_put(b, small, (size_t)n);
        return;
    }
    char *at = ra_buf_reserve(b, (size_t)n);
    if (!at)
        return;
    va_start(ap, fmt);
    vsnprintf(at, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ra_buf_free(ra_buf *b)
{
    free(b->data);
    *b = (ra_buf)RA_BUF_INIT;
}

void ra_buf_json_string(ra_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ra_buf_put(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, written in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        ra_buf_put(b, s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        ra_buf_put(b, esc, n);
    }
    ra_buf_put(b, s + len - run, run);
    ra_buf_put(b, "\"", 1);
}

void ra_buf_json_strings(ra_buf *b, const char *const *v, size_t n)
{
    ra_buf_put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ra_buf_put(b, ",", 1);
        ra_buf_json_string(b, v[i], strlen(v[i]));
    }
    ra_buf_put(b, "]", 1);
}

int ra_buf_msgpack_write(void *data, const char *buf, size_t len)
{
    ra_buf *b = data;
    ra_buf_put(b, buf, len);
    return b->failed ? -1 : 0;
}
