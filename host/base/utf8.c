/*
 * utf8.c - the UTF-8 validator (see utf8.h).
 *
 * Written here because none of the libraries the host links exports one:
 * json-c and libwebsockets validate only inside their own parsers.  The
 * text the host checks is mostly ASCII, so ASCII is skipped eight bytes at
 * a time; a multi-byte sequence is checked against the table of RFC 3629
 * section 4, whose ranges for the second byte are what exclude overlongs,
 * surrogates and code points above U+10FFFF - no code point is computed.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define HIGH_BITS UINT64_C(0x8080808080808080)

size_t utf8_sequence(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (len == 0)
        return 0;
    unsigned c = *p;
    if (c < 0x80)
        return 1;
    size_t n;                        /* continuation bytes */
    unsigned lo = 0x80, hi = 0xbf;   /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        if (c == 0xe0)
            lo = 0xa0; /* below: overlong */
        else if (c == 0xed)
            hi = 0x9f; /* above: a surrogate */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        if (c == 0xf0)
            lo = 0x90; /* below: overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above: past U+10FFFF */
    } else {
        return 0; /* a continuation byte, 0xc0/0xc1 (overlong), 0xf5.. */
    }
    if (len <= n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k <= n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return n + 1;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) {
            for (; end - p >= 8; p += 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                if (w & HIGH_BITS)
                    break;
            }
            while (p < end && *p < 0x80)
                p++;
            continue;
        }
        size_t n = utf8_sequence((const char *)p, (size_t)(end - p));
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}
