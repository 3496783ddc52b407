/*
 * plugin_http.h - a plugin route's request, as the SDK reads and answers
 * it (pio_http_method, ..., pio_http_respond; see plugin_http.c).  The
 * routes themselves are site.c's (declared in site.h).
 */
#ifndef PIO_PLUGIN_HTTP_H
#define PIO_PLUGIN_HTTP_H

#include <plugio/plugio.h>

const char *plugin_http_method(const pio_http_request *req);
const char *plugin_http_path(const pio_http_request *req);
const char *plugin_http_address(const pio_http_request *req);
const pio_value *plugin_http_query(const pio_http_request *req);
const char *plugin_http_header(const pio_http_request *req, const char *name);
int plugin_http_body(const pio_http_request *req, const void **data, size_t *len);
int plugin_http_respond(pio_http_request *req, unsigned status, const char *content_type,
                        const void *body, size_t len);

#endif
