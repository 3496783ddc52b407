/*
 * reply.h - the small answers every route of the site gives alike (the
 * request's method, plain-text statuses, 405 for what is not GET or HEAD),
 * so that site.c, static.c and metrics.c write them once.
 */
#ifndef PIO_REPLY_H
#define PIO_REPLY_H

#include <libwebsockets.h>
#include <stdbool.h>

/* The request's method as lws reports it (LWSHUMETH_*), -1 if unknown. */
int reply_method(struct lws *wsi);
bool reply_is_head(struct lws *wsi);
/* A short plain-text answer ("Not Found"); a HEAD request gets the head. */
int reply_plain(struct lws *wsi, unsigned status, const char *text);
/* 405 with `Allow: GET, HEAD`: the site's routes answer nothing else. */
int reply_not_allowed(struct lws *wsi);

#endif
