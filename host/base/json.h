/*
 * json.h - strict JSON text to json-c trees, with JavaScript's number
 * semantics (see json.c).
 */
#ifndef PIO_JSON_H
#define PIO_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* What a decoded tree may cost, in bytes json-c allocates (estimated per
 * value): an object is a 16-slot hash table, so "{}" costs ~800 times its
 * 1 byte of MessagePack or ~270 times its 3 bytes of JSON.  A message
 * whose tree would pass JSON_BUDGET(len) is refused as malformed, so that
 * maxHttpBufferSize bounds memory too (1 MB of input: at most 65 MB). */
#define JSON_COST_OBJECT 800
#define JSON_COST_ARRAY 128
#define JSON_COST_SCALAR 64 /* and a string its length */
#define JSON_BUDGET(len) ((size_t)(len) * 64 + ((size_t)1 << 20))

/* Parse exactly one JSON value spanning all of text (whitespace around it
 * allowed), nesting at most max_depth arrays/objects, within
 * JSON_BUDGET(len).  On success *out is the tree (NULL for JSON null),
 * owned by the caller. */
bool json_parse(const char *text, size_t len, unsigned max_depth, json_object **out);

#endif
