/*
 * json.c - a strict JSON parser (RFC 8259) that builds json-c trees.
 *
 * Written by hand because json-c's tokener, even with
 * JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, accepts what a
 * Socket.IO peer must not send - NaN, Infinity, "1.", "-01", raw control
 * characters in strings, overlong and surrogate UTF-8 - and saturates
 * integers beyond 64 bits, where JavaScript reads a double.  Nothing in
 * Debian parses JSON with JavaScript's number semantics, so this parser
 * does, and still hands back json-c objects for everything else: integers
 * that fit int64 become json-c ints, every other number a double that
 * keeps its text (so it is written back as it came).
 *
 * Object keys are C strings in json-c: a key containing U+0000 is
 * refused rather than silently cut.  A repeated key keeps the last value,
 * as JSON.parse does.
 */
#include "json.h"

#include "array.h"
#include "utf8.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *p, *end;
    unsigned depth;
    unsigned max_depth;
    size_t budget;          /* JSON_BUDGET left (json.h) */
    char *scratch;          /* unescaped strings are built here */
    size_t scratch_cap;
} parser;

static bool parse_value(parser *ps, json_object **out);

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static bool scratch_put(parser *ps, size_t *len, const void *data, size_t n)
{
    if (!ARRAY_RESERVE(ps->scratch, *len + n, ps->scratch_cap, 64))
        return false;
    memcpy(ps->scratch + *len, data, n);
    *len += n;
    return true;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t encode_utf8(unsigned cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* An escape after the backslash: appends its UTF-8 to the scratch. A
 * \u escape of a lone surrogate is refused: it has no UTF-8 form. */
static bool parse_escape(parser *ps, size_t *len)
{
    if (ps->p >= ps->end)
        return false;
    unsigned char c = *ps->p++, simple;
    switch (c) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case '/': simple = '/'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'u': {
        if (ps->end - ps->p < 4)
            return false;
        int hi = hex4(ps->p);
        if (hi < 0)
            return false;
        ps->p += 4;
        unsigned cp = (unsigned)hi;
        if (hi >= 0xdc00 && hi <= 0xdfff)
            return false;
        if (hi >= 0xd800 && hi <= 0xdbff) {
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
                return false;
            int lo = hex4(ps->p + 2);
            if (lo < 0xdc00 || lo > 0xdfff)
                return false;
            ps->p += 6;
            cp = 0x10000 + (((unsigned)hi - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
        }
        unsigned char u[4];
        return scratch_put(ps, len, u, encode_utf8(cp, u));
    }
    default:
        return false;
    }
    return scratch_put(ps, len, &simple, 1);
}

/* A string after its opening quote, into the scratch (not terminated).
 * Text between escapes is copied a run at a time, and validated as UTF-8
 * when it has a byte above ASCII: a run ends at an ASCII byte, which no
 * multi-byte sequence contains, so checking runs checks the whole. */
static bool parse_string(parser *ps, size_t *len)
{
    *len = 0;
    for (;;) {
        const unsigned char *run = ps->p;
        unsigned char seen = 0; /* the OR of the run's bytes */
        while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && *ps->p >= 0x20)
            seen |= *ps->p++;
        size_t n = (size_t)(ps->p - run);
        if ((seen & 0x80) && !utf8_valid((const char *)run, n))
            return false;
        if (n && !scratch_put(ps, len, run, n))
            return false;
        if (ps->p >= ps->end)
            return false;
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return true;
        }
        if (c != '\\')
            return false; /* a control character */
        ps->p++;
        if (!parse_escape(ps, len))
            return false;
    }
}

static bool digits(parser *ps)
{
    const unsigned char *start = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return ps->p > start;
}

static bool parse_number(parser *ps, json_object **out)
{
    const unsigned char *start = ps->p;
    bool integral = true;
    if (*ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0')
        ps->p++; /* no leading zeros: "01" ends here and fails later */
    else if (!digits(ps))
        return false;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        integral = false;
        if (!digits(ps))
            return false;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        integral = false;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps))
            return false;
    }
    char text[64];
    size_t n = (size_t)(ps->p - start);
    char *t = n < sizeof text ? text : malloc(n + 1);
    if (!t)
        return false;
    memcpy(t, start, n);
    t[n] = '\0';
    if (integral && n <= 20) { /* "-9223372036854775808" is 20 */
        errno = 0;
        long long v = strtoll(t, NULL, 10);
        if (errno != ERANGE) {
            *out = json_object_new_int64(v);
            goto done;
        }
    }
    /* Everything else is what JavaScript reads: a double. */
    *out = json_object_new_double_s(strtod(t, NULL), t);
done:
    if (t != text)
        free(t);
    return *out != NULL;
}

static bool parse_array(parser *ps, json_object **out)
{
    json_object *a = json_object_new_array();
    if (!a)
        return false;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        *out = a;
        return true;
    }
    for (;;) {
        json_object *v;
        if (!parse_value(ps, &v) || json_object_array_add(a, v) != 0) {
            json_object_put(a);
            return false;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            *out = a;
            return true;
        }
        json_object_put(a);
        return false;
    }
}

static bool parse_object(parser *ps, json_object **out)
{
    json_object *o = json_object_new_object();
    if (!o)
        return false;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        *out = o;
        return true;
    }
    for (;;) {
        size_t klen;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"')
            goto fail;
        ps->p++;
        if (!parse_string(ps, &klen))
            goto fail;
        /* An empty key read first leaves the scratch buffer NULL. */
        const char *text = ps->scratch ? ps->scratch : "";
        if (memchr(text, '\0', klen))
            goto fail;
        char *key = strndup(text, klen);
        if (!key)
            goto fail;
        skip_ws(ps);
        json_object *v;
        if (ps->p >= ps->end || *ps->p++ != ':' || !parse_value(ps, &v)) {
            free(key);
            goto fail;
        }
        int rc = json_object_object_add(o, key, v);
        free(key);
        if (rc != 0) {
            json_object_put(v);
            goto fail;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            *out = o;
            return true;
        }
        goto fail;
    }
fail:
    json_object_put(o);
    return false;
}

static bool spend(parser *ps, size_t cost)
{
    if (cost > ps->budget)
        return false;
    ps->budget -= cost;
    return true;
}

static bool parse_value(parser *ps, json_object **out)
{
    *out = NULL;
    skip_ws(ps);
    if (ps->p >= ps->end)
        return false;
    bool ok;
    switch (*ps->p) {
    case '{':
    case '[':
        if (++ps->depth > ps->max_depth ||
            !spend(ps, *ps->p == '{' ? JSON_COST_OBJECT : JSON_COST_ARRAY))
            return false;
        ps->p++;
        ok = ps->p[-1] == '{' ? parse_object(ps, out) : parse_array(ps, out);
        ps->depth--;
        return ok;
    case '"': {
        size_t len;
        ps->p++;
        if (!parse_string(ps, &len) || !spend(ps, JSON_COST_SCALAR + len))
            return false;
        *out = json_object_new_string_len(ps->scratch ? ps->scratch : "", (int)len);
        return *out != NULL;
    }
    case 't':
        if (!literal(ps, "true", 4) || !spend(ps, JSON_COST_SCALAR))
            return false;
        *out = json_object_new_boolean(1);
        return *out != NULL;
    case 'f':
        if (!literal(ps, "false", 5) || !spend(ps, JSON_COST_SCALAR))
            return false;
        *out = json_object_new_boolean(0);
        return *out != NULL;
    case 'n':
        return literal(ps, "null", 4); /* json-c's null is NULL */
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return spend(ps, JSON_COST_SCALAR) && parse_number(ps, out);
        return false;
    }
}

bool json_parse(const char *text, size_t len, unsigned max_depth, json_object **out)
{
    *out = NULL;
    if (len > INT32_MAX)
        return false; /* json-c string lengths are ints */
    parser ps = {
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .max_depth = max_depth,
        .budget = JSON_BUDGET(len),
    };
    json_object *v;
    bool ok = parse_value(&ps, &v);
    if (ok) {
        skip_ws(&ps);
        ok = ps.p == ps.end;
    }
    free(ps.scratch);
    if (!ok) {
        json_object_put(v);
        return false;
    }
    *out = v;
    return true;
}
