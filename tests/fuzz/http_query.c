/*
 * http_query.c - libFuzzer target: the HTTP query reader of the Engine.IO
 * endpoint (http_query_arg in engineio/http.c, what read_query does with
 * each argument), then what the host does with what it read: the b64
 * check of a protocol 3 handshake (eio_query_asks_b64) and the session
 * lookup by sid (eio_session_find, with no session open).
 *
 * The input is a query string as a client writes it after '?'.  It is
 * split at '&' and URL-decoded ('+' and %XX) as libwebsockets does before
 * read_query sees an argument, so a decoded argument may hold any byte,
 * NUL included.
 *
 * Invariants: EIO, transport and sid are NUL-terminated within their
 * buffers and are the start of the last value given for them; the pairs
 * hold exactly two strings per argument; the b64 check agrees with a
 * plain reading of the pairs; no sid finds a session.
 */
#include "fuzz.h"

#include "engineio/eio_session.h"
#include "engineio/http.h"

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode s[0..len) into out (len + 1 bytes), NUL-terminated. */
static void url_decode(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
}

/* The last value of `name` in the pairs, or NULL. */
static const char *last_value(const char *pairs, unsigned n, const char *name)
{
    const char *found = NULL;
    for (unsigned i = 0; i < n; i++) {
        const char *value = pairs + strlen(pairs) + 1;
        if (strcmp(pairs, name) == 0)
            found = value;
        pairs = value + strlen(value) + 1;
    }
    return found;
}

static void check_member(const char *member, size_t size, const char *value)
{
    size_t len = strnlen(member, size);
    FUZZ_CHECK(len < size);
    FUZZ_CHECK(value ? strncmp(member, value, len) == 0 : len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *query = (const char *)data;
    http_request r;
    memset(&r, 0, sizeof r);
    buf pairs = BUF_INIT;
    unsigned n = 0, args = 0;
    char *arg = malloc(size + 1);
    FUZZ_CHECK(arg);
    size_t start = 0;
    while (start < size) {
        const char *amp = memchr(query + start, '&', size - start);
        size_t end = amp ? (size_t)(amp - query) : size;
        if (end > start) { /* lws skips empty arguments */
            url_decode(query + start, end - start, arg);
            http_query_arg(&r, arg, &pairs, &n);
            args++;
        }
        start = end + 1;
    }
    free(arg);
    FUZZ_CHECK(!pairs.failed && n == args);

    /* Exactly 2n strings, nothing after them. */
    size_t at = 0;
    for (unsigned i = 0; i < 2 * n; i++) {
        FUZZ_CHECK(at < pairs.len);
        const char *end = memchr(pairs.data + at, '\0', pairs.len - at);
        FUZZ_CHECK(end);
        at = (size_t)(end - pairs.data) + 1;
    }
    FUZZ_CHECK(at == pairs.len);

    const char *sid = n ? last_value(pairs.data, n, "sid") : NULL;
    check_member(r.eio, sizeof r.eio, n ? last_value(pairs.data, n, "EIO") : NULL);
    check_member(r.transport, sizeof r.transport,
                 n ? last_value(pairs.data, n, "transport") : NULL);
    check_member(r.sid, sizeof r.sid, sid);
    FUZZ_CHECK(r.has_sid == (sid != NULL));

    const char *b64 = n ? last_value(pairs.data, n, "b64") : NULL;
    bool asks = n && eio_query_asks_b64(pairs.data, n);
    /* Any b64 argument with a value asks, not only the last. */
    FUZZ_CHECK(!b64 || !b64[0] || asks);
    FUZZ_CHECK(!asks || (n && last_value(pairs.data, n, "b64")));

    FUZZ_CHECK(eio_session_find(r.sid, strlen(r.sid)) == NULL);
    buf_free(&pairs);
    return 0;
}
