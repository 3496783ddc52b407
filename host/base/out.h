/*
 * out.h - outgoing event arguments (the SDK's pio_out): a streaming JSON
 * writer that produces the text of an argument list and the binary
 * attachments it references, ready to become a Socket.IO packet.
 *
 * Writing the text directly, instead of building a json-c tree and
 * serialising it, costs one buffer per message and no allocation per
 * value; a broadcast encodes once from it.
 */
#ifndef PIO_OUT_H
#define PIO_OUT_H

#include "buf.h"
#include "utf8.h" /* utf8_valid, for the callers that found it here */
#include "value.h"

#define OUT_MAX_DEPTH 128

struct pio_out {
    buf text;            /* the arguments, comma-separated, no brackets */
    value_bin **bins;    /* attachments, in placeholder order; owned */
    size_t n_bins;
    size_t cap_bins;
    size_t count;        /* top-level arguments written */
    unsigned depth;      /* open arrays/objects */
    char kind[OUT_MAX_DEPTH];   /* 'a' or 'o' per open level */
    bool first[OUT_MAX_DEPTH + 1]; /* no element written yet at that level */
    bool key_pending;    /* an object key was written, its value not yet */
    bool invalid;        /* a misuse or allocation failure happened */
};

/* Initialise an out that lives inside another object (no allocation). */
void out_init(pio_out *o);
/* Release what o holds (not o itself). */
void out_release(pio_out *o);
/* True when o is complete (balanced, no pending key) and valid. */
bool out_is_complete(const pio_out *o);

/* Append a JSON string literal for s (len bytes, must be valid UTF-8). */
bool out_write_json_string(buf *b, const char *s, size_t len);
/* Append a number as JSON.stringify writes it (null when not finite). */
void out_write_double(buf *b, double v);

/* The arguments of o (complete; NULL for none) as a json-c array, with
 * `head` (a string, such as an event's name) first unless NULL, and each
 * binary argument a binary value (value.h) holding a copy of its bytes.
 * NULL when out of memory. */
json_object *out_tree(const pio_out *o, const char *head);

/* The SDK entries. */
pio_out *out_new(pio_ctx *ctx);
void out_free(pio_out *o);
int out_null(pio_out *o);
int out_bool(pio_out *o, int v);
int out_double(pio_out *o, double v);
int out_int64(pio_out *o, int64_t v);
int out_string(pio_out *o, const char *s, size_t len);
int out_binary(pio_out *o, const void *data, size_t len);
int out_json(pio_out *o, const char *json, size_t len);
int out_value(pio_out *o, const pio_value *v);
int out_key(pio_out *o, const char *key, size_t len);
int out_array_begin(pio_out *o);
int out_array_end(pio_out *o);
int out_object_begin(pio_out *o);
int out_object_end(pio_out *o);

#endif
