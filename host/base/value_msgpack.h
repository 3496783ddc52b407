/*
 * value_msgpack.h - MessagePack bytes to json-c trees and back, with the
 * meaning notepack.io (the codec of socket.io-msgpack-parser and of
 * @socket.io/redis-adapter) gives them.  Binary values are the host's
 * binary placeholders (value.h), so what a plugin reads is the same tree
 * whatever the wire format.  Pure functions; no Socket.IO knowledge.
 */
#ifndef PIO_VALUE_MSGPACK_H
#define PIO_VALUE_MSGPACK_H

#include "buf.h"
#include "value.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Results of value_msgpack_parse. */
enum {
    VMP_OK = 0,
    VMP_EMALFORMED = -1,  /* truncated, trailing bytes, unknown prefix,
                             invalid UTF-8, an unusable map key, a tree
                             costing more than JSON_BUDGET (json.h) */
    VMP_EDEPTH = -2,      /* nested deeper than max_depth */
    VMP_ENOMEM = -3,
};

/* Parse exactly one value spanning all of data, nesting at most
 * max_depth arrays/maps.  On VMP_OK *out is the tree, owned by the caller
 * (NULL for nil), and *undefined tells whether the value was notepack's
 * `undefined` (then *out is NULL too).  Binary values (bin, and ext type 0
 * as notepack writes an ArrayBuffer or typed array) are placeholder
 * objects numbered in document order. */
int value_msgpack_parse(const void *data, size_t len, unsigned max_depth, json_object **out,
                        bool *undefined);

/* Parse exactly one map spanning all of data without building an object
 * for it: fn gets each member in order, its key (valid during the call) and
 * its value (the caller's to keep or json_object_put), or undefined; fn
 * returns 0 to go on, anything else to stop, which is returned.  The
 * members nest at most max_depth - 1 deep (the map is the first level).
 * VMP_EMALFORMED when data is not one map. */
typedef int (*value_msgpack_member_fn)(void *ud, const char *key, json_object *value,
                                       bool undefined);
int value_msgpack_parse_map(const void *data, size_t len, unsigned max_depth,
                            value_msgpack_member_fn fn, void *ud);

/* Append j as notepack.io would encode the same JavaScript value.  A
 * binary value is written as bin: its own bytes, or, for a bare
 * placeholder {"_placeholder":true,"num":N} with N < n_bins, bins[N]
 * (so pio_out's text and attachments encode without copying the bytes
 * into the tree).  False when an allocation failed (out->failed). */
bool value_msgpack_write(buf *out, json_object *j, value_bin *const *bins, size_t n_bins);

/* The pieces of a map, for callers that write one member by member. */
void value_msgpack_write_map(buf *out, size_t n);
void value_msgpack_write_str(buf *out, const char *s, size_t len);
void value_msgpack_write_int(buf *out, int64_t v);

#endif
