/*
 * json.h - strict JSON text to json-c trees, with JavaScript's number
 * semantics (see json.c).
 */
#ifndef PIO_JSON_H
#define PIO_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse exactly one JSON value spanning all of text (whitespace around it
 * allowed), nesting at most max_depth arrays/objects.  On success *out is
 * the tree (NULL for JSON null), owned by the caller. */
bool json_parse(const char *text, size_t len, unsigned max_depth, json_object **out);

#endif
