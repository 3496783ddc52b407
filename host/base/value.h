/*
 * value.h - how the host represents the values plugins read (pio_value).
 *
 * A value is a json-c object, with two twists:
 *  - json-c represents JSON null as a NULL pointer, which the SDK needs for
 *    "absent"; so JSON null is represented by the address of a sentinel,
 *    and value_wrap/value_unwrap translate at the boundary.
 *  - A binary buffer is the Socket.IO placeholder object
 *    {"_placeholder":true,"num":N} carrying the bytes as json-c userdata.
 *    Serialising such an object gives the placeholder back, which is what
 *    a Socket.IO packet needs; value_binary() reads the bytes.
 */
#ifndef PIO_VALUE_H
#define PIO_VALUE_H

#include <plugio/plugio.h>

#include <json-c/json.h>
#include <stdbool.h>

/* The json-c node -> the SDK handle (JSON null becomes the sentinel). */
const pio_value *value_wrap(json_object *j);
/* The SDK handle -> the json-c node (the sentinel becomes NULL). */
json_object *value_unwrap(const pio_value *v);

/* A binary attachment's bytes, owned by the json-c object it hangs on. */
typedef struct value_bin {
    size_t len;
    unsigned char data[];
} value_bin;

/* Turn an object into a binary value holding a copy of data (the object
 * keeps its members, normally a placeholder).  False on allocation
 * failure. */
bool value_attach_binary(json_object *obj, const void *data, size_t len);
/* The bytes of a binary value, or NULL when j is not one. */
const value_bin *value_get_binary(json_object *j);

/* How deeply client payloads may nest arrays/objects, whatever the parser. */
#define VALUE_MAX_DEPTH 128

/* Parse JSON text strictly (RFC 8259, valid UTF-8, nesting <= 128).
 * Returns true and sets *out (which may be NULL for JSON null). */
bool value_parse(const char *text, size_t len, json_object **out);

/* The SDK's value accessors (the pio_api entries). */
pio_type value_type(const pio_value *v);
int value_bool(const pio_value *v, int *out);
int value_double(const pio_value *v, double *out);
int value_int64(const pio_value *v, int64_t *out);
int value_string(const pio_value *v, const char **str, size_t *len);
int value_binary(const pio_value *v, const void **data, size_t *len);
size_t value_count(const pio_value *v);
const pio_value *value_index(const pio_value *v, size_t i);
const pio_value *value_member(const pio_value *v, const char *key);
const pio_value *value_next(const pio_value *v, void **cursor, const char **key);
int value_json(const pio_value *v, char *buf, size_t cap, size_t *len);

#endif
