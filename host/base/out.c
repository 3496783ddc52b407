/*
 * out.c - the streaming writer behind pio_out (see out.h).
 *
 * JSON string escaping is written here rather than borrowed from json-c
 * because json-c only escapes strings held in its own objects; creating
 * one per string would cost the allocation this writer exists to avoid.  Numbers are written as JSON.stringify would, closely
 * enough that a client parses the same value.
 */
#include "out.h"

#include "array.h"
#include "utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void out_init(pio_out *o)
{
    memset(o, 0, sizeof *o);
    o->first[0] = true;
}

void out_release(pio_out *o)
{
    buf_free(&o->text);
    for (size_t i = 0; i < o->n_bins; i++)
        free(o->bins[i]);
    free(o->bins);
    out_init(o);
}

bool out_is_complete(const pio_out *o)
{
    return !o->invalid && !o->text.failed && o->depth == 0 && !o->key_pending;
}

pio_out *out_new(pio_ctx *ctx)
{
    (void)ctx;
    pio_out *o = malloc(sizeof *o);
    if (o)
        out_init(o);
    return o;
}

void out_free(pio_out *o)
{
    if (!o)
        return;
    out_release(o);
    free(o);
}

static int fail(pio_out *o)
{
    if (o)
        o->invalid = true;
    return PIO_EINVAL;
}

/* Called before every value: checks the position is legal and writes the
 * separator that precedes it. */
static int begin_value(pio_out *o)
{
    if (!o || o->invalid)
        return PIO_EINVAL;
    if (o->depth > 0 && o->kind[o->depth - 1] == 'o') {
        if (!o->key_pending)
            return fail(o);
        o->key_pending = false;
        return PIO_OK;
    }
    if (!o->first[o->depth])
        buf_append_char(&o->text, ',');
    o->first[o->depth] = false;
    if (o->depth == 0)
        o->count++;
    return PIO_OK;
}

static int end_value(pio_out *o)
{
    if (o->text.failed) {
        o->invalid = true;
        return PIO_ENOMEM;
    }
    return PIO_OK;
}

int out_null(pio_out *o)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    buf_append(&o->text, "null", 4);
    return end_value(o);
}

int out_bool(pio_out *o, int v)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    buf_append_str(&o->text, v ? "true" : "false");
    return end_value(o);
}

int out_int64(pio_out *o, int64_t v)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    buf_printf(&o->text, "%lld", (long long)v);
    return end_value(o);
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
void out_write_double(buf *b, double v)
{
    if (!isfinite(v)) {
        buf_append(b, "null", 4);
        return;
    }
    if (v == 0) {
        buf_append_char(b, '0'); /* JSON.stringify(-0) is "0" too */
        return;
    }
    if (v == floor(v) && fabs(v) < 1e21) {
        buf_printf(b, "%.0f", v);
        return;
    }
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    buf_append_str(b, tmp);
}

int out_double(pio_out *o, double v)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    out_write_double(&o->text, v);
    return end_value(o);
}

/* The JSON literal of s, which the caller has found valid UTF-8. */
static void write_json_string(buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(b, len + 2);
    buf_append_char(b, '"');
    size_t run = 0; /* bytes since the last escape, appended in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
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
        buf_append(b, esc, n);
    }
    buf_append(b, s + run, len - run);
    buf_append_char(b, '"');
}

bool out_write_json_string(buf *b, const char *s, size_t len)
{
    if (!utf8_valid(s, len))
        return false;
    write_json_string(b, s, len);
    return true;
}

/* A string already known to be valid UTF-8 (from a parsed tree). */
static int out_trusted_string(pio_out *o, const char *s, size_t len)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    write_json_string(&o->text, s, len);
    return end_value(o);
}

int out_string(pio_out *o, const char *s, size_t len)
{
    if (!s && len)
        return fail(o);
    if (!utf8_valid(s ? s : "", len))
        return fail(o);
    int rc = begin_value(o);
    if (rc)
        return rc;
    write_json_string(&o->text, s ? s : "", len);
    return end_value(o);
}

int out_binary(pio_out *o, const void *data, size_t len)
{
    if (!data && len)
        return fail(o);
    int rc = begin_value(o);
    if (rc)
        return rc;
    if (!ARRAY_RESERVE(o->bins, o->n_bins + 1, o->cap_bins, 4)) {
        o->invalid = true;
        return PIO_ENOMEM;
    }
    value_bin *bin = malloc(sizeof *bin + (len ? len : 1));
    if (!bin) {
        o->invalid = true;
        return PIO_ENOMEM;
    }
    bin->len = len;
    if (len)
        memcpy(bin->data, data, len);
    buf_printf(&o->text, "{\"_placeholder\":true,\"num\":%zu}", o->n_bins);
    o->bins[o->n_bins++] = bin;
    return end_value(o);
}

int out_key(pio_out *o, const char *key, size_t len)
{
    if (!o || o->invalid)
        return PIO_EINVAL;
    if (o->depth == 0 || o->kind[o->depth - 1] != 'o' || o->key_pending || (!key && len))
        return fail(o);
    if (!o->first[o->depth])
        buf_append_char(&o->text, ',');
    o->first[o->depth] = false;
    if (!out_write_json_string(&o->text, key ? key : "", len))
        return fail(o);
    buf_append_char(&o->text, ':');
    o->key_pending = true;
    return end_value(o);
}

static int open_container(pio_out *o, char kind)
{
    int rc = begin_value(o);
    if (rc)
        return rc;
    if (o->depth == OUT_MAX_DEPTH)
        return fail(o);
    o->kind[o->depth++] = kind;
    o->first[o->depth] = true;
    buf_append_char(&o->text, kind == 'a' ? '[' : '{');
    return end_value(o);
}

static int close_container(pio_out *o, char kind)
{
    if (!o || o->invalid)
        return PIO_EINVAL;
    if (o->depth == 0 || o->kind[o->depth - 1] != kind || o->key_pending)
        return fail(o);
    o->depth--;
    buf_append_char(&o->text, kind == 'a' ? ']' : '}');
    return end_value(o);
}

int out_array_begin(pio_out *o) { return open_container(o, 'a'); }
int out_array_end(pio_out *o) { return close_container(o, 'a'); }
int out_object_begin(pio_out *o) { return open_container(o, 'o'); }
int out_object_end(pio_out *o) { return close_container(o, 'o'); }

/* Copy a json-c tree through the writer, so binary values are renumbered
 * into this message's attachments. */
static int write_json(pio_out *o, json_object *j)
{
    const value_bin *bin = value_get_binary(j);
    if (bin)
        return out_binary(o, bin->data, bin->len);
    int rc;
    switch (json_object_get_type(j)) {
    case json_type_null:
        return out_null(o);
    case json_type_boolean:
        return out_bool(o, json_object_get_boolean(j));
    case json_type_string: /* json.c and the config loader only make valid UTF-8 */
        return out_trusted_string(o, json_object_get_string(j),
                                  (size_t)json_object_get_string_len(j));
    case json_type_int:
    case json_type_double: {
        /* json-c prints a parsed number as it was written. */
        size_t n;
        const char *text = json_object_to_json_string_length(j, JSON_C_TO_STRING_PLAIN, &n);
        if ((rc = begin_value(o)))
            return rc;
        buf_append(&o->text, text, n);
        return end_value(o);
    }
    case json_type_array: {
        if ((rc = out_array_begin(o)))
            return rc;
        size_t n = json_object_array_length(j);
        for (size_t i = 0; i < n; i++)
            if ((rc = write_json(o, json_object_array_get_idx(j, i))))
                return rc;
        return out_array_end(o);
    }
    case json_type_object: {
        if ((rc = out_object_begin(o)))
            return rc;
        json_object_object_foreach(j, key, member)
        {
            if ((rc = out_key(o, key, strlen(key))) || (rc = write_json(o, member)))
                return rc;
        }
        return out_object_end(o);
    }
    }
    return fail(o);
}

int out_value(pio_out *o, const pio_value *v)
{
    if (!o)
        return PIO_EINVAL;
    if (!v)
        return fail(o);
    return write_json(o, value_unwrap(v));
}

int out_json(pio_out *o, const char *json, size_t len)
{
    if (!o)
        return PIO_EINVAL;
    json_object *j;
    if (!json || !value_parse(json, len, &j))
        return fail(o);
    int rc = write_json(o, j);
    json_object_put(j);
    return rc;
}

/* ---- back to a tree ------------------------------------------------------ */

/* Give each placeholder of o's text its attachment's bytes. */
static bool attach_bins(json_object *j, value_bin *const *bins, size_t n_bins)
{
    if (json_object_is_type(j, json_type_array)) {
        for (size_t i = 0, n = json_object_array_length(j); i < n; i++)
            if (!attach_bins(json_object_array_get_idx(j, i), bins, n_bins))
                return false;
        return true;
    }
    if (!json_object_is_type(j, json_type_object))
        return true;
    json_object *flag, *num;
    if (json_object_object_length(j) == 2 && json_object_object_get_ex(j, "_placeholder", &flag) &&
        json_object_get_boolean(flag) && json_object_object_get_ex(j, "num", &num) &&
        json_object_is_type(num, json_type_int)) {
        int64_t k = json_object_get_int64(num);
        if (k >= 0 && (size_t)k < n_bins)
            return value_attach_binary(j, bins[k]->data, bins[k]->len);
    }
    json_object_object_foreach(j, key, member)
    {
        (void)key;
        if (!attach_bins(member, bins, n_bins))
            return false;
    }
    return true;
}

json_object *out_tree(const pio_out *o, const char *head)
{
    if (!o && !head)
        return json_object_new_array();
    buf text = BUF_INIT;
    buf_append_char(&text, '[');
    if (head)
        out_write_json_string(&text, head, strlen(head));
    if (o && o->count) {
        if (head)
            buf_append_char(&text, ',');
        buf_append(&text, o->text.data, o->text.len);
    }
    buf_append_char(&text, ']');
    json_object *tree = NULL;
    if (text.failed || !value_parse(text.data, text.len, &tree) ||
        (o && !attach_bins(tree, o->bins, o->n_bins))) {
        json_object_put(tree);
        tree = NULL;
    }
    buf_free(&text);
    return tree;
}
