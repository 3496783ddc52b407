/*
 * cors.h - which CORS headers a response carries, per serverOptions.cors.
 *
 * Follows the npm `cors` package as socket.io uses it, with one stricter
 * choice: an origin that is not allowed gets no Access-Control-Allow-Origin
 * at all (the package would send the configured origin, which browsers
 * reject anyway).  Kept free of libwebsockets so it can be unit-tested.
 */
#ifndef PIO_CORS_H
#define PIO_CORS_H

#include "config/config.h"

#define CORS_MAX_HEADERS 8

typedef struct cors_header {
    const char *name;   /* lower-case, with the trailing colon lws wants */
    const char *value;  /* borrowed from the config or the arguments, or `number` */
    char number[24];    /* a numeric value's text (Access-Control-Max-Age) */
} cors_header;

/* Fill out[] with the headers for a response to a request carrying
 * `origin` (NULL when absent); a preflight also gets the allowed methods
 * and headers (`request_headers` is its Access-Control-Request-Headers,
 * or NULL). Returns the number of headers. */
size_t cors_headers(const config_cors *c, const char *origin, bool preflight,
                    const char *request_headers, cors_header out[CORS_MAX_HEADERS]);

#endif
