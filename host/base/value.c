/*
 * value.c - the SDK's read-only values over json-c (see value.h).
 *
 * json-c was chosen over jansson for one feature: per-node userdata, which
 * lets a Socket.IO binary placeholder carry its bytes in the tree itself,
 * so binary values nest anywhere without a side table.  Text is parsed by
 * json.c, which is strict where json-c's own tokener is not.  JSON null is the
 * address of `null_sentinel`, never NULL, because NULL means "absent".
 */
#include "value.h"

#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char null_sentinel;

const pio_value *value_wrap(json_object *j)
{
    return j ? (const pio_value *)j : (const pio_value *)&null_sentinel;
}

json_object *value_unwrap(const pio_value *v)
{
    return (const void *)v == (const void *)&null_sentinel ? NULL : (json_object *)v;
}

static bool is_null(const pio_value *v) { return (const void *)v == (const void *)&null_sentinel; }

static void bin_delete(json_object *obj, void *userdata)
{
    (void)obj;
    free(userdata);
}

bool value_attach_binary(json_object *obj, const void *data, size_t len)
{
    if (!json_object_is_type(obj, json_type_object))
        return false;
    value_bin *b = malloc(sizeof *b + (len ? len : 1));
    if (!b)
        return false;
    b->len = len;
    if (len)
        memcpy(b->data, data, len);
    json_object_set_userdata(obj, b, bin_delete);
    return true;
}

const value_bin *value_get_binary(json_object *j)
{
    /* Only objects: json-c keeps its own userdata on parsed doubles. */
    if (!j || !json_object_is_type(j, json_type_object))
        return NULL;
    return json_object_get_userdata(j);
}

bool value_parse(const char *text, size_t len, json_object **out)
{
    return json_parse(text, len, VALUE_MAX_DEPTH, out);
}

pio_type value_type(const pio_value *v)
{
    if (!v)
        return PIO_TYPE_NONE;
    if (is_null(v))
        return PIO_TYPE_NULL;
    json_object *j = value_unwrap(v);
    switch (json_object_get_type(j)) {
    case json_type_null:
        return PIO_TYPE_NULL;
    case json_type_boolean:
        return PIO_TYPE_BOOL;
    case json_type_double:
    case json_type_int:
        return PIO_TYPE_NUMBER;
    case json_type_string:
        return PIO_TYPE_STRING;
    case json_type_array:
        return PIO_TYPE_ARRAY;
    case json_type_object:
        return value_get_binary(j) ? PIO_TYPE_BINARY : PIO_TYPE_OBJECT;
    }
    return PIO_TYPE_NONE;
}

int value_bool(const pio_value *v, int *out)
{
    if (value_type(v) != PIO_TYPE_BOOL)
        return PIO_ETYPE;
    *out = json_object_get_boolean(value_unwrap(v)) ? 1 : 0;
    return PIO_OK;
}

int value_double(const pio_value *v, double *out)
{
    if (value_type(v) != PIO_TYPE_NUMBER)
        return PIO_ETYPE;
    *out = json_object_get_double(value_unwrap(v));
    return PIO_OK;
}

int value_int64(const pio_value *v, int64_t *out)
{
    if (value_type(v) != PIO_TYPE_NUMBER)
        return PIO_ETYPE;
    json_object *j = value_unwrap(v);
    if (json_object_is_type(j, json_type_int)) {
        *out = json_object_get_int64(j); /* json.c makes int64 ints only */
        return PIO_OK;
    }
    double d = json_object_get_double(j);
    if (!isfinite(d) || d != floor(d))
        return PIO_ETYPE;
    /* An integer literal that fits int64 is parsed as an int; a double at
     * or beyond 2^63 in size came from one that did not. */
    if (d <= -9223372036854775808.0 || d >= 9223372036854775808.0)
        return PIO_ERANGE;
    *out = (int64_t)d;
    return PIO_OK;
}

int value_string(const pio_value *v, const char **str, size_t *len)
{
    if (value_type(v) != PIO_TYPE_STRING)
        return PIO_ETYPE;
    json_object *j = value_unwrap(v);
    *str = json_object_get_string(j);
    if (len)
        *len = (size_t)json_object_get_string_len(j);
    return PIO_OK;
}

int value_binary(const pio_value *v, const void **data, size_t *len)
{
    if (value_type(v) != PIO_TYPE_BINARY)
        return PIO_ETYPE;
    const value_bin *b = value_get_binary(value_unwrap(v));
    *data = b->data;
    if (len)
        *len = b->len;
    return PIO_OK;
}

size_t value_count(const pio_value *v)
{
    switch (value_type(v)) {
    case PIO_TYPE_ARRAY:
        return json_object_array_length(value_unwrap(v));
    case PIO_TYPE_OBJECT:
        return (size_t)json_object_object_length(value_unwrap(v));
    default:
        return 0;
    }
}

const pio_value *value_index(const pio_value *v, size_t i)
{
    if (value_type(v) != PIO_TYPE_ARRAY)
        return NULL;
    json_object *a = value_unwrap(v);
    if (i >= json_object_array_length(a))
        return NULL;
    return value_wrap(json_object_array_get_idx(a, i));
}

const pio_value *value_member(const pio_value *v, const char *key)
{
    if (!key || value_type(v) != PIO_TYPE_OBJECT)
        return NULL;
    json_object *m;
    if (!json_object_object_get_ex(value_unwrap(v), key, &m))
        return NULL;
    return value_wrap(m);
}

const pio_value *value_next(const pio_value *v, void **cursor, const char **key)
{
    if (!cursor || value_type(v) != PIO_TYPE_OBJECT)
        return NULL;
    struct lh_entry *e = *cursor ? ((struct lh_entry *)*cursor)->next
                                 : json_object_get_object(value_unwrap(v))->head;
    *cursor = e;
    if (!e)
        return NULL;
    if (key)
        *key = lh_entry_k(e);
    return value_wrap((json_object *)lh_entry_v(e));
}

int value_json(const pio_value *v, char *buf, size_t cap, size_t *len)
{
    if (!v)
        return PIO_EINVAL;
    size_t n;
    const char *text = json_object_to_json_string_length(
        value_unwrap(v), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!text)
        return PIO_ENOMEM;
    if (len)
        *len = n;
    if (!buf || cap <= n)
        return PIO_ENOSPACE;
    memcpy(buf, text, n + 1);
    return PIO_OK;
}
