/*
 * value_msgpack.c - MessagePack <-> json-c trees (see value_msgpack.h).
 *
 * Writing goes through msgpack-c's packer (Debian's libmsgpack-dev): its
 * choice of the smallest int/str/bin/array/map form is the one notepack.io
 * makes, so the bytes match what a Node.js server sends.  Reading is
 * written by hand, because msgpack-c's unpacker does not fit a server
 * reading what strangers send: its nesting limit is compiled into the
 * library (MSGPACK_EMBED_STACK_SIZE, 32, where the JSON parser allows 128);
 * it allocates the element count an array or map header announces before
 * checking that the bytes left could hold them (a 5-byte message can ask
 * for 2^32 elements); and it builds a msgpack_object tree that would only
 * be copied into json-c.  This reader checks every count against the bytes
 * left, bounds the depth, and builds the json-c tree directly.
 *
 * What a value means is what notepack.io 2.x/3.x decodes it to, then how
 * the JSON parser would see the same JavaScript value (JSON.stringify on
 * the client), so plugins cannot tell the parsers apart:
 *  - integers that fit int64 become json-c ints; a uint64 beyond, a double
 *    (JavaScript reads a number).  float32/float64: an integral value that
 *    fits int64 becomes an int (JSON.stringify(5.0) is "5"), -0 becomes 0,
 *    NaN and the infinities become null (JSON.stringify's null); any other
 *    a double carrying its shortest text.
 *  - str must be valid UTF-8 (notepack only writes valid UTF-8; the JSON
 *    parser refuses invalid text too).  Map keys are str without U+0000
 *    (json-c keys are C strings), or int/nil/bool, named as JavaScript
 *    names them ("1", "null", "true"); any other key is refused.  A repeated
 *    key keeps the last value, as an object assignment does.
 *  - bin, and ext type 0 of ext8/16/32 (notepack's ArrayBuffer and typed
 *    arrays, which browsers send), become binary values.
 *  - fixext1 type 0 is `undefined`: dropped from a map (so CONNECT's
 *    `data: undefined` means no data), null in an array.  fixext8 type 0 is
 *    a Date: its ISO 8601 string, as Date.prototype.toJSON gives (null when
 *    out of a Date's range), and so is the timestamp extension (type -1,
 *    notepack 3's Date).  Every other ext is notepack's [type, bytes]:
 *    an array of the type and a binary value.
 * Writing never produces an ext: the host has no Date or undefined.
 */
#include "value_msgpack.h"

#include "json.h"
#include "out.h"
#include "utf8.h"

#include <math.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p, *end;
    unsigned depth, max_depth;
    size_t n_bins;  /* binary values made so far: the next placeholder num */
    size_t budget;  /* JSON_BUDGET left (json.h) */
} reader;

/* A value read: its tree (NULL for nil) or notepack's undefined. */
typedef struct item {
    json_object *j;
    bool undefined;
} item;

static int read_value(reader *r, item *out);

static size_t left(const reader *r) { return (size_t)(r->end - r->p); }

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Take n bytes as a big-endian unsigned number. */
static bool take_uint(reader *r, size_t n, uint64_t *v)
{
    if (left(r) < n)
        return false;
    *v = be(r->p, n);
    r->p += n;
    return true;
}

static json_object *new_number(double d)
{
    if (!isfinite(d))
        return NULL; /* JSON.stringify's null; the caller knows it is not ENOMEM */
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return json_object_new_int64((int64_t)d);
    buf text = BUF_INIT;
    out_write_double(&text, d);
    json_object *j = text.failed ? NULL : json_object_new_double_s(d, text.data);
    buf_free(&text);
    return j;
}

/* A number item: NULL j is only an error when d was finite. */
static int number_item(double d, item *out)
{
    out->j = new_number(d);
    return out->j || !isfinite(d) ? VMP_OK : VMP_ENOMEM;
}

static int int_item(int64_t v, item *out)
{
    out->j = json_object_new_int64(v);
    return out->j ? VMP_OK : VMP_ENOMEM;
}

static int string_item(reader *r, size_t n, item *out)
{
    if (left(r) < n || n > INT32_MAX)
        return VMP_EMALFORMED;
    const char *s = (const char *)r->p;
    if (!utf8_valid(s, n))
        return VMP_EMALFORMED;
    r->p += n;
    out->j = json_object_new_string_len(s, (int)n);
    return out->j ? VMP_OK : VMP_ENOMEM;
}

/* A binary value: the placeholder object, numbered in document order,
 * carrying a copy of the bytes. */
static int binary_item(reader *r, size_t n, item *out)
{
    if (left(r) < n)
        return VMP_EMALFORMED;
    json_object *o = json_object_new_object();
    json_object *flag = json_object_new_boolean(1);
    json_object *num = json_object_new_int64((int64_t)r->n_bins);
    bool ok = o && flag && num && json_object_object_add(o, "_placeholder", flag) == 0;
    if (ok)
        flag = NULL;
    ok = ok && json_object_object_add(o, "num", num) == 0;
    if (ok)
        num = NULL;
    ok = ok && value_attach_binary(o, r->p, n);
    json_object_put(flag);
    json_object_put(num);
    if (!ok) {
        json_object_put(o);
        return VMP_ENOMEM;
    }
    r->p += n;
    r->n_bins++;
    out->j = o;
    return VMP_OK;
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Date.prototype.toJSON: toISOString, or null for an invalid Date. */
static int date_item(int64_t ms, item *out)
{
    if (ms > 8640000000000000 || ms < -8640000000000000)
        return VMP_OK; /* an Invalid Date: null */
    int64_t days = ms / 86400000, rest = ms % 86400000;
    if (rest < 0) {
        rest += 86400000;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    char text[40];
    int n;
    unsigned h = (unsigned)(rest / 3600000), mi = (unsigned)(rest / 60000 % 60),
             s = (unsigned)(rest / 1000 % 60), milli = (unsigned)(rest % 1000);
    if (y >= 0 && y <= 9999)
        n = snprintf(text, sizeof text, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo,
                     d, h, mi, s, milli);
    else
        n = snprintf(text, sizeof text, "%c%06lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                     y < 0 ? '-' : '+', (long long)(y < 0 ? -y : y), mo, d, h, mi, s, milli);
    out->j = json_object_new_string_len(text, n);
    return out->j ? VMP_OK : VMP_ENOMEM;
}

static bool spend(reader *r, size_t cost);

/* An ext of n bytes whose type byte is next. */
static int ext_item(reader *r, size_t n, bool fixed, item *out)
{
    if (left(r) < 1 + n)
        return VMP_EMALFORMED;
    int8_t type = (int8_t)*r->p++;
    if (type == 0 && !fixed)
        return binary_item(r, n, out); /* ArrayBuffer */
    if (type == 0 && n == 1) {
        r->p++;
        out->undefined = true;
        return VMP_OK;
    }
    if (type == 0 && n == 8) {
        int64_t hi = (int32_t)(uint32_t)be(r->p, 4);
        int64_t ms = hi * 4294967296 + (int64_t)be(r->p + 4, 4);
        r->p += 8;
        return date_item(ms, out);
    }
    if (type == -1 && (n == 4 || n == 8 || n == 12)) {
        /* The timestamp extension, notepack 3's Date: seconds (and
         * nanoseconds).  Seconds beyond any Date's range make an Invalid
         * Date, as in JavaScript. */
        int64_t sec, nsec = 0;
        if (n == 4) {
            sec = (int64_t)be(r->p, 4);
        } else if (n == 8) {
            uint64_t v = be(r->p, 8);
            nsec = (int64_t)(v >> 34);
            sec = (int64_t)(v & 0x3ffffffffull);
        } else {
            nsec = (int64_t)be(r->p, 4);
            sec = (int64_t)be(r->p + 4, 8);
        }
        r->p += n;
        bool in_range = sec >= -8640000000000LL && sec <= 8640000000000LL;
        return date_item(in_range ? sec * 1000 + nsec / 1000000 : INT64_MAX, out);
    }
    /* notepack's [type, Buffer]: an array, so a level of nesting and an
     * array's cost, as any other. */
    if (r->depth >= r->max_depth)
        return VMP_EDEPTH;
    if (!spend(r, JSON_COST_ARRAY))
        return VMP_EMALFORMED;
    item bin = {0};
    json_object *a = json_object_new_array();
    json_object *t = json_object_new_int64(type);
    int rc = a && t ? binary_item(r, n, &bin) : VMP_ENOMEM;
    if (rc == VMP_OK && json_object_array_add(a, t) == 0) {
        t = NULL;
        if (json_object_array_add(a, bin.j) == 0) {
            out->j = a;
            return VMP_OK;
        }
    }
    json_object_put(t);
    json_object_put(bin.j);
    json_object_put(a);
    return rc == VMP_OK ? VMP_ENOMEM : rc;
}

static int array_item(reader *r, size_t n, item *out)
{
    if (n > left(r)) /* every element takes a byte at least */
        return VMP_EMALFORMED;
    /* The count is bounded by the bytes left, not by int: start small. */
    json_object *a = json_object_new_array_ext(n < 256 ? (int)n + 1 : 256);
    if (!a)
        return VMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        item v = {0};
        int rc = read_value(r, &v);
        if (rc == VMP_OK && json_object_array_add(a, v.j) != 0) {
            json_object_put(v.j);
            rc = VMP_ENOMEM;
        }
        if (rc != VMP_OK) {
            json_object_put(a);
            return rc;
        }
    }
    out->j = a;
    return VMP_OK;
}

/* A map key as JavaScript names it: str, int, nil or bool. */
static int read_key(reader *r, char *small, size_t cap, char **key)
{
    if (!left(r))
        return VMP_EMALFORMED;
    unsigned char c = *r->p;
    size_t n;
    uint64_t u;
    if ((c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb)) {
        r->p++;
        if (c <= 0xbf)
            n = c & 0x1f;
        else if (!take_uint(r, (size_t)1 << (c - 0xd9), &u))
            return VMP_EMALFORMED;
        else
            n = (size_t)u;
        if (left(r) < n || !utf8_valid((const char *)r->p, n) || memchr(r->p, 0, n))
            return VMP_EMALFORMED;
        *key = n < cap ? small : malloc(n + 1);
        if (!*key)
            return VMP_ENOMEM;
        memcpy(*key, r->p, n);
        (*key)[n] = '\0';
        r->p += n;
        return VMP_OK;
    }
    if (c == 0xc0 || c == 0xc2 || c == 0xc3) {
        r->p++;
        snprintf(small, cap, "%s", c == 0xc0 ? "null" : c == 0xc2 ? "false" : "true");
        *key = small;
        return VMP_OK;
    }
    item v = {0};
    bool integer = c < 0x80 || c >= 0xe0 || (c >= 0xcc && c <= 0xcf) || (c >= 0xd0 && c <= 0xd3);
    if (!integer)
        return VMP_EMALFORMED;
    int rc = read_value(r, &v);
    if (rc != VMP_OK)
        return rc;
    /* A uint64 past int64 came back as a double: JavaScript's name for it. */
    snprintf(small, cap, "%s", json_object_get_string(v.j));
    json_object_put(v.j);
    *key = small;
    return VMP_OK;
}

static int map_item(reader *r, size_t n, item *out)
{
    if (n > left(r) / 2) /* every entry takes two bytes at least */
        return VMP_EMALFORMED;
    json_object *o = json_object_new_object();
    if (!o)
        return VMP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char small[64], *key = NULL;
        item v = {0};
        int rc = read_key(r, small, sizeof small, &key);
        if (rc == VMP_OK)
            rc = read_value(r, &v);
        if (rc == VMP_OK && v.undefined)
            json_object_object_del(o, key); /* {k: undefined} has no k in JSON */
        else if (rc == VMP_OK && json_object_object_add(o, key, v.j) != 0) {
            json_object_put(v.j);
            rc = VMP_ENOMEM;
        }
        if (key != small)
            free(key);
        if (rc != VMP_OK) {
            json_object_put(o);
            return rc;
        }
    }
    out->j = o;
    return VMP_OK;
}

static bool spend(reader *r, size_t cost)
{
    if (cost > r->budget)
        return false;
    r->budget -= cost;
    return true;
}

static int container(reader *r, bool map, size_t n, item *out)
{
    if (++r->depth > r->max_depth)
        return VMP_EDEPTH;
    if (!spend(r, map ? JSON_COST_OBJECT : JSON_COST_ARRAY)) {
        r->depth--;
        return VMP_EMALFORMED;
    }
    int rc = map ? map_item(r, n, out) : array_item(r, n, out);
    r->depth--;
    return rc;
}

static int read_value_as_is(reader *r, item *out);

/* A value, charged to the budget: containers as they open (container()),
 * everything else once made. */
static int read_value(reader *r, item *out)
{
    int rc = read_value_as_is(r, out);
    if (rc != VMP_OK || !out->j || json_object_is_type(out->j, json_type_object) ||
        json_object_is_type(out->j, json_type_array))
        return rc;
    size_t cost = JSON_COST_SCALAR;
    if (json_object_is_type(out->j, json_type_string))
        cost += (size_t)json_object_get_string_len(out->j);
    if (!spend(r, cost)) {
        json_object_put(out->j);
        out->j = NULL;
        return VMP_EMALFORMED;
    }
    return VMP_OK;
}

static int read_value_as_is(reader *r, item *out)
{
    *out = (item){0};
    if (!left(r))
        return VMP_EMALFORMED;
    unsigned char c = *r->p++;
    uint64_t u;
    if (c < 0x80)
        return int_item(c, out);
    if (c < 0x90)
        return container(r, true, c & 0x0f, out);
    if (c < 0xa0)
        return container(r, false, c & 0x0f, out);
    if (c < 0xc0)
        return string_item(r, c & 0x1f, out);
    if (c >= 0xe0)
        return int_item((int8_t)c, out);
    switch (c) {
    case 0xc0:
        return VMP_OK;
    case 0xc2:
    case 0xc3:
        out->j = json_object_new_boolean(c == 0xc3);
        return out->j ? VMP_OK : VMP_ENOMEM;
    case 0xc4: case 0xc5: case 0xc6: /* bin 8/16/32 */
        if (!take_uint(r, (size_t)1 << (c - 0xc4), &u))
            return VMP_EMALFORMED;
        return binary_item(r, (size_t)u, out);
    case 0xc7: case 0xc8: case 0xc9: /* ext 8/16/32 */
        if (!take_uint(r, (size_t)1 << (c - 0xc7), &u) || u >= left(r))
            return VMP_EMALFORMED;
        return ext_item(r, (size_t)u, false, out);
    case 0xca: {
        uint32_t bits;
        if (!take_uint(r, 4, &u))
            return VMP_EMALFORMED;
        bits = (uint32_t)u;
        float f;
        memcpy(&f, &bits, sizeof f);
        return number_item(f, out);
    }
    case 0xcb: {
        double d;
        if (!take_uint(r, 8, &u))
            return VMP_EMALFORMED;
        memcpy(&d, &u, sizeof d);
        return number_item(d, out);
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf: /* uint 8..64 */
        if (!take_uint(r, (size_t)1 << (c - 0xcc), &u))
            return VMP_EMALFORMED;
        return u <= INT64_MAX ? int_item((int64_t)u, out) : number_item((double)u, out);
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: { /* int 8..64 */
        size_t n = (size_t)1 << (c - 0xd0);
        if (!take_uint(r, n, &u))
            return VMP_EMALFORMED;
        if (n < 8 && (u >> (8 * n - 1)) & 1)
            u |= ~(uint64_t)0 << (8 * n); /* sign-extend */
        return int_item((int64_t)u, out);
    }
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: /* fixext 1..16 */
        return ext_item(r, (size_t)1 << (c - 0xd4), true, out);
    case 0xd9: case 0xda: case 0xdb: /* str 8/16/32 */
        if (!take_uint(r, (size_t)1 << (c - 0xd9), &u) || u > left(r))
            return VMP_EMALFORMED;
        return string_item(r, (size_t)u, out);
    case 0xdc: case 0xdd: /* array 16/32 */
        if (!take_uint(r, c == 0xdc ? 2 : 4, &u))
            return VMP_EMALFORMED;
        return container(r, false, (size_t)u, out);
    case 0xde: case 0xdf: /* map 16/32 */
        if (!take_uint(r, c == 0xde ? 2 : 4, &u))
            return VMP_EMALFORMED;
        return container(r, true, (size_t)u, out);
    default: /* 0xc1, never used */
        return VMP_EMALFORMED;
    }
}

int value_msgpack_parse(const void *data, size_t len, unsigned max_depth, json_object **out,
                        bool *undefined)
{
    reader r = {.p = data, .end = (const unsigned char *)data + len, .max_depth = max_depth,
                .budget = JSON_BUDGET(len)};
    item v = {0};
    *out = NULL;
    *undefined = false;
    int rc = len ? read_value(&r, &v) : VMP_EMALFORMED;
    if (rc == VMP_OK && r.p != r.end)
        rc = VMP_EMALFORMED; /* notepack: "trailing bytes" */
    if (rc != VMP_OK) {
        json_object_put(v.j);
        return rc;
    }
    *out = v.j;
    *undefined = v.undefined;
    return VMP_OK;
}

int value_msgpack_parse_map(const void *data, size_t len, unsigned max_depth,
                            value_msgpack_member_fn fn, void *ud)
{
    reader r = {.p = data, .end = (const unsigned char *)data + len, .max_depth = max_depth,
                .budget = JSON_BUDGET(len)};
    uint64_t n;
    unsigned char c = len ? *r.p++ : 0;
    if (c >= 0x80 && c <= 0x8f)
        n = c & 0x0f;
    else if ((c != 0xde && c != 0xdf) || !take_uint(&r, c == 0xde ? 2 : 4, &n))
        return VMP_EMALFORMED;
    if (n > left(&r) / 2)
        return VMP_EMALFORMED;
    if (max_depth < 1)
        return VMP_EDEPTH;
    r.depth = 1;
    for (uint64_t i = 0; i < n; i++) {
        char small[64], *key = NULL;
        item v = {0};
        int rc = read_key(&r, small, sizeof small, &key);
        if (rc == VMP_OK)
            rc = read_value(&r, &v);
        if (rc == VMP_OK)
            rc = fn(ud, key, v.j, v.undefined);
        else
            json_object_put(v.j);
        if (key != small)
            free(key);
        if (rc != VMP_OK)
            return rc;
    }
    return r.p == r.end ? VMP_OK : VMP_EMALFORMED;
}

/* ---- writing ------------------------------------------------------------ */

/* The packer's sink: it hands over a header or a body at a time, so the
 * common case - room left - is a plain copy here. */
static int append(void *data, const char *bytes, size_t len)
{
    buf *b = data;
    if (b->data && b->cap - b->len > len) {
        memcpy(b->data + b->len, bytes, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
    }
    buf_append(b, bytes, len);
    return b->failed ? -1 : 0;
}

static void packer_init(msgpack_packer *pk, buf *out) { msgpack_packer_init(pk, out, append); }

/* The attachment a bare placeholder of pio_out's text stands for. */
static const value_bin *placeholder_bin(json_object *j, value_bin *const *bins, size_t n_bins)
{
    json_object *flag, *num;
    if (json_object_object_length(j) != 2 || !json_object_object_get_ex(j, "_placeholder", &flag) ||
        !json_object_is_type(flag, json_type_boolean) || !json_object_get_boolean(flag) ||
        !json_object_object_get_ex(j, "num", &num) || !json_object_is_type(num, json_type_int))
        return NULL;
    int64_t n = json_object_get_int64(num);
    return n >= 0 && (uint64_t)n < n_bins ? bins[n] : NULL;
}

/* notepack writes an integral number as an int when it can (up to 2^64),
 * every other number as float64. */
static void write_double(msgpack_packer *pk, double d)
{
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        msgpack_pack_int64(pk, (int64_t)d);
    else if (d == floor(d) && d >= 0 && d < 18446744073709551616.0)
        msgpack_pack_uint64(pk, (uint64_t)d);
    else
        msgpack_pack_double(pk, d);
}

static void write_value(msgpack_packer *pk, json_object *j, value_bin *const *bins, size_t n_bins)
{
    const value_bin *bin = value_get_binary(j);
    if (!bin && json_object_is_type(j, json_type_object))
        bin = placeholder_bin(j, bins, n_bins);
    if (bin) {
        msgpack_pack_bin(pk, bin->len);
        msgpack_pack_bin_body(pk, bin->data, bin->len);
        return;
    }
    switch (json_object_get_type(j)) {
    case json_type_null:
        msgpack_pack_nil(pk);
        return;
    case json_type_boolean:
        if (json_object_get_boolean(j))
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return;
    case json_type_int:
        msgpack_pack_int64(pk, json_object_get_int64(j));
        return;
    case json_type_double:
        write_double(pk, json_object_get_double(j));
        return;
    case json_type_string: {
        size_t n = (size_t)json_object_get_string_len(j);
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, json_object_get_string(j), n);
        return;
    }
    case json_type_array: {
        size_t n = json_object_array_length(j);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            write_value(pk, json_object_array_get_idx(j, i), bins, n_bins);
        return;
    }
    case json_type_object: {
        msgpack_pack_map(pk, (size_t)json_object_object_length(j));
        json_object_object_foreach(j, key, member)
        {
            size_t n = strlen(key);
            msgpack_pack_str(pk, n);
            msgpack_pack_str_body(pk, key, n);
            write_value(pk, member, bins, n_bins);
        }
        return;
    }
    }
}

bool value_msgpack_write(buf *out, json_object *j, value_bin *const *bins, size_t n_bins)
{
    msgpack_packer pk;
    packer_init(&pk, out);
    write_value(&pk, j, bins, n_bins);
    return !out->failed;
}

void value_msgpack_write_map(buf *out, size_t n)
{
    msgpack_packer pk;
    packer_init(&pk, out);
    msgpack_pack_map(&pk, n);
}

void value_msgpack_write_str(buf *out, const char *s, size_t len)
{
    msgpack_packer pk;
    packer_init(&pk, out);
    msgpack_pack_str(&pk, len);
    msgpack_pack_str_body(&pk, s, len);
}

void value_msgpack_write_int(buf *out, int64_t v)
{
    msgpack_packer pk;
    packer_init(&pk, out);
    msgpack_pack_int64(&pk, v);
}
