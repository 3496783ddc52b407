/* cors.c - CORS response headers (see cors.h). */
#include "cors.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool origin_allowed(const config_cors *c, const char *origin)
{
    for (size_t i = 0; i < c->n_origins; i++)
        if (strcmp(c->origins[i], origin) == 0)
            return true;
    return false;
}

size_t cors_headers(const config_cors *c, const char *origin, bool preflight,
                    const char *request_headers, cors_header out[CORS_MAX_HEADERS])
{
    size_t n = 0;
    if (!c->enabled)
        return 0;
    const char *allow;
    if (c->any_origin && !c->reflect_origin && !c->credentials) {
        allow = "*";
    } else {
        /* A specific origin is reflected, so responses vary with it. */
        const char *vary = preflight && !c->allowed_headers && request_headers
                               ? "Origin, Access-Control-Request-Headers"
                               : "Origin";
        out[n++] = (cors_header){.name = "vary:", .value = vary};
        if (!origin || !*origin || (!c->any_origin && !origin_allowed(c, origin)))
            return n;
        allow = origin;
    }
    out[n++] = (cors_header){.name = "access-control-allow-origin:", .value = allow};
    if (c->credentials)
        out[n++] = (cors_header){.name = "access-control-allow-credentials:", .value = "true"};
    if (!preflight) {
        if (c->exposed_headers)
            out[n++] = (cors_header){.name = "access-control-expose-headers:",
                                     .value = c->exposed_headers};
        return n;
    }
    out[n++] = (cors_header){.name = "access-control-allow-methods:", .value = c->methods};
    const char *headers = c->allowed_headers ? c->allowed_headers : request_headers;
    if (headers && *headers)
        out[n++] = (cors_header){.name = "access-control-allow-headers:", .value = headers};
    if (c->max_age >= 0) {
        /* As the cors package: any number, 0 included, is sent. */
        cors_header *h = &out[n++];
        h->name = "access-control-max-age:";
        snprintf(h->number, sizeof h->number, "%" PRId64, c->max_age);
        h->value = h->number;
    }
    return n;
}
