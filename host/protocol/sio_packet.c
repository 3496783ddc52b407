/*
 * sio_packet.c - Socket.IO v5 packets (see sio_packet.h).
 *
 * The decoder follows socket.io-parser's decodeString() field by field,
 * and is stricter where the JavaScript leans on Number() coercion: counts
 * and ids are ASCII digits only and must fit, the attachment count is
 * bounded (SIO_MAX_ATTACHMENTS), the namespace must be valid UTF-8 without
 * NUL (it is kept as a C string and echoed back to the client), and the
 * JSON is parsed strictly by value_parse().  EVENT and ACK require their
 * array payload, as the protocol document says, where the JavaScript
 * parser lets a payload-less packet through.
 *
 * A binary packet's placeholders {"_placeholder":true,"num":N} are checked
 * against the announced count as soon as the header arrives, so a bad
 * packet is refused before its attachments are buffered; when the last
 * frame arrives a second walk hangs each frame's bytes on its placeholder
 * (value_attach_binary).  The frames are copied once on arrival, since
 * they are only lent to us, and once more into the tree.
 */
#include "sio_packet.h"

#include "base/utf8.h"
#include "base/value.h"
#include "base/value_msgpack.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A cursor over the text being decoded. */
typedef struct cursor {
    const char *s;
    size_t len;
    size_t pos;
} cursor;

static bool at_end(const cursor *c) { return c->pos == c->len; }

static bool at_digit(const cursor *c) { return !at_end(c) && c->s[c->pos] >= '0' && c->s[c->pos] <= '9'; }

/* Read a run of decimal digits no greater than max.  False when there is
 * none or the number exceeds max (the run is consumed either way). */
static bool read_number(cursor *c, uint64_t max, uint64_t *out)
{
    if (!at_digit(c))
        return false;
    uint64_t n = 0;
    bool fits = true;
    for (; at_digit(c); c->pos++) {
        unsigned d = (unsigned)(c->s[c->pos] - '0');
        if (d > max || n > (max - d) / 10)
            fits = false;
        else
            n = n * 10 + d;
    }
    *out = n;
    return fits;
}

static bool is_binary_type(sio_type t) { return t == SIO_BINARY_EVENT || t == SIO_BINARY_ACK; }

static int parse_type(cursor *c, sio_packet *p)
{
    if (at_end(c) || c->s[0] < '0' || c->s[0] > '6')
        return SIO_EBADTYPE;
    p->type = (sio_type)(c->s[0] - '0');
    c->pos = 1;
    return 0;
}

static int parse_attachments(cursor *c, sio_packet *p)
{
    if (!is_binary_type(p->type))
        return 0;
    uint64_t n;
    if (!read_number(c, SIO_MAX_ATTACHMENTS, &n) || at_end(c) || c->s[c->pos] != '-')
        return SIO_EBADATTACH;
    c->pos++;
    p->attachments = (size_t)n;
    return 0;
}

/* Valid UTF-8, and no NUL since the namespace becomes a C string. */
static bool is_clean_nsp(const char *s, size_t len)
{
    return !memchr(s, '\0', len) && utf8_valid(s, len);
}

/* "/name," or "/name" at the end; anything else means the main one. */
static int parse_nsp(cursor *c, sio_packet *p)
{
    const char *start = c->s + c->pos;
    size_t n = 1;
    if (!at_end(c) && *start == '/') {
        const char *comma = memchr(start, ',', c->len - c->pos);
        n = comma ? (size_t)(comma - start) : c->len - c->pos;
        if (!is_clean_nsp(start, n))
            return SIO_EBADNSP;
        c->pos += comma ? n + 1 : n;
    } else {
        start = "/";
    }
    p->nsp = malloc(n + 1);
    if (!p->nsp)
        return SIO_ENOMEM;
    memcpy(p->nsp, start, n);
    p->nsp[n] = '\0';
    return 0;
}

static int parse_id(cursor *c, sio_packet *p)
{
    if (!at_digit(c))
        return 0;
    uint64_t id;
    if (!read_number(c, INT64_MAX, &id))
        return SIO_EBADID;
    p->id = (int64_t)id;
    return 0;
}

/* socket.io's RESERVED_EVENTS (in socket.io and in socket.io-parser), each
 * with what it is for, as a configuration error says it. */
static const struct {
    const char *name, *why;
} reserved_events[] = {
    {"connect", "socket.io uses it for the namespace handshake; use 'connection'"},
    {"connect_error", "socket.io sends it when a connection is refused"},
    {"disconnect", "socket.io uses it when a socket leaves"},
    {"disconnecting", "plugio does not dispatch it; use 'disconnect'"},
    {"newListener", "it belongs to Node's EventEmitter"},
    {"removeListener", "it belongs to Node's EventEmitter"},
};

const char *sio_event_reserved_why(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof reserved_events / sizeof reserved_events[0]; i++) {
        const char *r = reserved_events[i].name;
        if (strlen(r) == len && memcmp(r, name, len) == 0)
            return reserved_events[i].why;
    }
    return NULL;
}

bool sio_event_reserved(const char *name, size_t len) { return sio_event_reserved_why(name, len); }

static bool is_event_array(json_object *j)
{
    if (!json_object_is_type(j, json_type_array) || json_object_array_length(j) == 0)
        return false;
    json_object *first = json_object_array_get_idx(j, 0);
    switch (json_object_get_type(first)) {
    case json_type_int:
    case json_type_double:
        return true;
    case json_type_string:
        return !sio_event_reserved(json_object_get_string(first),
                                   (size_t)json_object_get_string_len(first));
    default:
        return false;
    }
}

/* socket.io-parser's isPayloadValid(), with "absent" spelled out. */
static bool payload_fits_type(const sio_packet *p)
{
    json_object *j = p->data;
    switch (p->type) {
    case SIO_CONNECT:
        return !p->has_data || json_object_is_type(j, json_type_object);
    case SIO_DISCONNECT:
        return !p->has_data;
    case SIO_CONNECT_ERROR:
        return p->has_data &&
               (json_object_is_type(j, json_type_object) || json_object_is_type(j, json_type_string));
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        return p->has_data && is_event_array(j);
    case SIO_ACK:
    case SIO_BINARY_ACK:
        return p->has_data && json_object_is_type(j, json_type_array);
    }
    return false;
}

static int parse_payload(cursor *c, sio_packet *p)
{
    if (!at_end(c)) {
        if (!value_parse(c->s + c->pos, c->len - c->pos, &p->data))
            return SIO_EBADJSON;
        p->has_data = true;
    }
    return payload_fits_type(p) ? 0 : SIO_EBADPAYLOAD;
}

/* Decode a whole text packet into *p; on error *p holds nothing. */
static int parse_packet(const char *s, size_t len, sio_packet *p)
{
    cursor c = {s, len, 0};
    *p = (sio_packet){.id = -1};
    int rc = parse_type(&c, p);
    if (rc == 0)
        rc = parse_attachments(&c, p);
    if (rc == 0)
        rc = parse_nsp(&c, p);
    if (rc == 0)
        rc = parse_id(&c, p);
    if (rc == 0)
        rc = parse_payload(&c, p);
    if (rc != 0)
        sio_packet_free(p);
    return rc;
}

/* The num of a placeholder object, or -1 when j is none; -2 when it is one
 * whose num is not an integer in [0, count). */
static int64_t placeholder_num(json_object *j, size_t count)
{
    json_object *flag, *num;
    if (!json_object_object_get_ex(j, "_placeholder", &flag) ||
        !json_object_is_type(flag, json_type_boolean) || !json_object_get_boolean(flag))
        return -1;
    if (!json_object_object_get_ex(j, "num", &num))
        return -2;
    double d;
    if (json_object_is_type(num, json_type_int)) {
        int64_t n = json_object_get_int64(num);
        return n >= 0 && (uint64_t)n < count ? n : -2;
    }
    if (!json_object_is_type(num, json_type_double))
        return -2;
    /* JSON.stringify never writes 1 as 1.0, but JavaScript reads it as 1. */
    d = json_object_get_double(num);
    return d >= 0 && d < (double)count && d == floor(d) ? (int64_t)d : -2;
}

/* Walk the tree checking every placeholder against count and, when bins
 * is not NULL, hanging bins[num] on it. */
static int resolve_placeholders(json_object *j, size_t count, value_bin *const *bins)
{
    switch (json_object_get_type(j)) {
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(j); i < n; i++) {
            int rc = resolve_placeholders(json_object_array_get_idx(j, i), count, bins);
            if (rc != 0)
                return rc;
        }
        return 0;
    case json_type_object: {
        int64_t num = placeholder_num(j, count);
        if (num == -2)
            return SIO_EBADATTACH;
        if (num >= 0) {
            if (bins && !value_attach_binary(j, bins[num]->data, bins[num]->len))
                return SIO_ENOMEM;
            return 0;
        }
        json_object_object_foreach(j, key, member)
        {
            (void)key;
            int rc = resolve_placeholders(member, count, bins);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    default:
        return 0;
    }
}

struct sio_pending {
    sio_packet partial;        /* the packet, its placeholders checked */
    size_t received;           /* attachments received so far */
    struct value_bin *bins[];  /* partial.attachments of them */
};

int sio_decoder_text(sio_decoder *d, const char *s, size_t len, sio_packet *out)
{
    *out = (sio_packet){.id = -1};
    if (d->pending)
        return SIO_EUNEXPECTED;
    sio_packet p;
    int rc = parse_packet(s, len, &p);
    if (rc != 0)
        return rc;
    if (is_binary_type(p.type)) {
        rc = resolve_placeholders(p.data, p.attachments, NULL);
        if (rc != 0) {
            sio_packet_free(&p);
            return rc;
        }
    }
    if (p.attachments == 0) {
        *out = p;
        return SIO_DONE;
    }
    d->pending = calloc(1, sizeof *d->pending + p.attachments * sizeof d->pending->bins[0]);
    if (!d->pending) {
        sio_packet_free(&p);
        return SIO_ENOMEM;
    }
    d->pending->partial = p;
    return SIO_NEED_BINARY;
}

int sio_decoder_binary(sio_decoder *d, const void *data, size_t len, sio_packet *out)
{
    *out = (sio_packet){.id = -1};
    struct sio_pending *pd = d->pending;
    if (!pd)
        return SIO_EUNEXPECTED;
    value_bin *b = malloc(sizeof *b + len);
    if (!b)
        return SIO_ENOMEM;
    b->len = len;
    if (len)
        memcpy(b->data, data, len);
    pd->bins[pd->received++] = b;
    if (pd->received < pd->partial.attachments)
        return SIO_NEED_BINARY;

    int rc = resolve_placeholders(pd->partial.data, pd->partial.attachments, pd->bins);
    if (rc == 0) {
        *out = pd->partial;
        pd->partial = (sio_packet){0}; /* handed over: not freed below */
    }
    sio_decoder_reset(d);
    return rc == 0 ? SIO_DONE : rc;
}

void sio_decoder_reset(sio_decoder *d)
{
    struct sio_pending *pd = d->pending;
    if (pd) {
        sio_packet_free(&pd->partial);
        for (size_t i = 0; i < pd->received; i++)
            free(pd->bins[i]);
        free(pd);
    }
    d->pending = NULL;
}

void sio_packet_free(sio_packet *p)
{
    free(p->nsp);
    json_object_put(p->data);
    *p = (sio_packet){0};
}

void sio_encode_header(buf *out, sio_type type, const char *nsp, int64_t id, size_t attachments)
{
    buf_append_char(out, (char)('0' + type));
    if (attachments > 0 || is_binary_type(type))
        buf_printf(out, "%zu-", attachments);
    if (nsp && strcmp(nsp, "/") != 0) {
        buf_append_str(out, nsp);
        buf_append_char(out, ',');
    }
    if (id >= 0)
        buf_printf(out, "%" PRId64, id);
}

/* ---- socket.io-msgpack-parser ------------------------------------------ */

/* The members of a packet map that matter; the others (the client's
 * `options`) are dropped.  A repeated key keeps the last value. */
typedef struct packet_map {
    json_object *type, *nsp, *id, *data;
    bool has_type, has_nsp, has_id, has_data;
} packet_map;

static int take_member(void *ud, const char *key, json_object *value, bool undefined)
{
    packet_map *m = ud;
    json_object **slot = NULL;
    bool *has = NULL;
    if (strcmp(key, "type") == 0)
        slot = &m->type, has = &m->has_type;
    else if (strcmp(key, "nsp") == 0)
        slot = &m->nsp, has = &m->has_nsp;
    else if (strcmp(key, "id") == 0)
        slot = &m->id, has = &m->has_id;
    else if (strcmp(key, "data") == 0)
        slot = &m->data, has = &m->has_data;
    if (slot) {
        json_object_put(*slot);
        *slot = value;
        *has = !undefined; /* {data: undefined} has no data */
    } else {
        json_object_put(value);
    }
    return 0;
}

/* The checks of socket.io-msgpack-parser's checkPacket, strict where the
 * JavaScript leans on coercion, and then those of the text decoder. */
static int msgpack_fields(packet_map *m, sio_packet *p)
{
    if (!m->has_type || !json_object_is_type(m->type, json_type_int) ||
        json_object_get_int64(m->type) < SIO_CONNECT ||
        json_object_get_int64(m->type) > SIO_CONNECT_ERROR)
        return SIO_EBADTYPE;
    p->type = (sio_type)json_object_get_int64(m->type);
    if (!m->has_nsp || !json_object_is_type(m->nsp, json_type_string))
        return SIO_EBADNSP;
    size_t nsp_len = (size_t)json_object_get_string_len(m->nsp);
    if (!is_clean_nsp(json_object_get_string(m->nsp), nsp_len))
        return SIO_EBADNSP;
    if (m->has_id) {
        /* An integral float was made an int by the reader. */
        if (!json_object_is_type(m->id, json_type_int) || json_object_get_int64(m->id) < 0)
            return SIO_EBADID;
        p->id = json_object_get_int64(m->id);
    }
    if (!(p->nsp = strndup(json_object_get_string(m->nsp), nsp_len)))
        return SIO_ENOMEM;
    if (m->has_data) {
        if (value_get_binary(m->data))
            return SIO_EBADPAYLOAD; /* isObject(Buffer) is false, and not an array */
        p->has_data = true;
        p->data = json_object_get(m->data);
    }
    return payload_fits_type(p) ? 0 : SIO_EBADPAYLOAD;
}

int sio_decode_msgpack(const void *data, size_t len, sio_packet *out)
{
    *out = (sio_packet){.id = -1};
    packet_map m = {0};
    /* One level more than a JSON payload: the packet's own map. */
    int rc = value_msgpack_parse_map(data, len, VALUE_MAX_DEPTH + 1, take_member, &m);
    if (rc == VMP_OK)
        rc = msgpack_fields(&m, out);
    else
        rc = rc == VMP_ENOMEM ? SIO_ENOMEM : SIO_EBADMSGPACK;
    json_object_put(m.type);
    json_object_put(m.nsp);
    json_object_put(m.id);
    json_object_put(m.data);
    if (rc != 0) {
        sio_packet_free(out);
        out->id = -1;
        return rc;
    }
    return SIO_DONE;
}

bool sio_encode_msgpack(buf *out, sio_type type, const char *nsp, int64_t id, json_object *data,
                        bool has_data, value_bin *const *bins, size_t n_bins)
{
    if (!nsp)
        nsp = "/";
    buf_reserve(out, 64);
    value_msgpack_write_map(out, 2 + (has_data ? 1 : 0) + (id >= 0 ? 1 : 0));
    value_msgpack_write_str(out, "type", 4);
    value_msgpack_write_int(out, type);
    if (has_data) {
        value_msgpack_write_str(out, "data", 4);
        value_msgpack_write(out, data, bins, n_bins);
    }
    value_msgpack_write_str(out, "nsp", 3);
    value_msgpack_write_str(out, nsp, strlen(nsp));
    if (id >= 0) {
        value_msgpack_write_str(out, "id", 2);
        value_msgpack_write_int(out, id);
    }
    return !out->failed;
}

const char *sio_strerror(int code)
{
    switch (code) {
    case SIO_DONE:
    case SIO_NEED_BINARY:
        return "success";
    case SIO_EBADTYPE:
        return "unknown packet type";
    case SIO_EBADNSP:
        return "malformed namespace";
    case SIO_EBADID:
        return "malformed ack id";
    case SIO_EBADJSON:
        return "invalid json payload";
    case SIO_EBADPAYLOAD:
        return "payload invalid for packet type";
    case SIO_EBADATTACH:
        return "bad binary attachments";
    case SIO_EUNEXPECTED:
        return "unexpected packet while decoding binary";
    case SIO_ENOMEM:
        return "out of memory";
    case SIO_EBADMSGPACK:
        return "invalid msgpack packet";
    }
    return "unknown error";
}
