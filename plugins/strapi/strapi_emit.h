/*
 * strapi_emit.h - for other plugins: emit a content event through the
 * strapi plugin, to the rooms its configuration permits, sanitized as a
 * webhook's entry is.
 *
 *     #include "strapi_emit.h"
 *     strapi_emit(ctx, "api::article.article", "update", "{\"documentId\":\"x\",...}");
 *
 * It hands ["strapi:emit", uid, action, entry] to the server event handler
 * the configuration names (pio_server_event), so the configuration must
 * have
 *     serverEvents:
 *       - {name: "strapi:emit", handler: strapi:on_emit}
 * on the namespace passed here (NULL: "/").  The two plugins share no
 * code or memory: either can be reloaded at any time.  Returns PIO_OK, or
 * PIO_EINVAL (no such handler configured, a uid or action with characters
 * that are not plain, entry not JSON), PIO_ENOMEM.  The strapi plugin logs
 * an event it refuses (an unknown content type or action).
 */
#ifndef PLUGIO_STRAPI_EMIT_H
#define PLUGIO_STRAPI_EMIT_H

#include <plugio/plugio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* uid and action are plain names (api::article.article, update): nothing
 * to escape in JSON. */
static inline int strapi_emit_plain_(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

static inline int strapi_emit_nsp(pio_ctx *ctx, const char *nsp, const char *uid,
                                  const char *action, const char *entry_json)
{
    if (!uid || !action || !entry_json || !strapi_emit_plain_(uid) || !strapi_emit_plain_(action))
        return PIO_EINVAL;
    size_t cap = strlen(uid) + strlen(action) + strlen(entry_json) + 32;
    char *packet = (char *)malloc(cap);
    if (!packet)
        return PIO_ENOMEM;
    int n = snprintf(packet, cap, "[\"strapi:emit\",\"%s\",\"%s\",%s]", uid, action, entry_json);
    const pio_value *v = pio_value_parse(packet, (size_t)n, PIO_FORMAT_JSON);
    free(packet);
    if (!v)
        return PIO_EINVAL;
    int rc = pio_server_event(ctx, nsp, v, NULL, NULL);
    pio_value_free(v);
    return rc;
}

static inline int strapi_emit(pio_ctx *ctx, const char *uid, const char *action,
                              const char *entry_json)
{
    return strapi_emit_nsp(ctx, NULL, uid, action, entry_json);
}

#endif
