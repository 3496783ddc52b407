/* reply.c - the site's common answers (see reply.h). */
#include "reply.h"

#include "engineio/http.h"

#include <string.h>

int reply_method(struct lws *wsi)
{
    char *uri;
    int len;
    return lws_http_get_uri_and_method(wsi, &uri, &len);
}

bool reply_is_head(struct lws *wsi) { return reply_method(wsi) == LWSHUMETH_HEAD; }

int reply_plain(struct lws *wsi, unsigned status, const char *text)
{
    http_reply r = {.status = status,
                    .type = "text/plain; charset=utf-8",
                    .body = text,
                    .len = strlen(text),
                    .head_only = reply_is_head(wsi)};
    return http_send(wsi, &r);
}

int reply_not_allowed(struct lws *wsi)
{
    static const http_header allow[] = {{"allow:", "GET, HEAD"}};
    static const char body[] = "Method Not Allowed";
    http_reply r = {.status = 405, .type = "text/plain; charset=utf-8", .body = body,
                    .len = sizeof body - 1, .headers = allow, .n_headers = 1};
    return http_send(wsi, &r);
}
