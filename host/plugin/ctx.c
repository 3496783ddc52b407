/*
 * ctx.c - plugin version contexts and the record of which one runs (see
 * ctx.h).
 */
#include "ctx.h"

#include "base/array.h"

#include <stdlib.h>
#include <string.h>

static pio_ctx *running;

pio_ctx *ctx_create(const char *name, json_object *config, plugin_image *img)
{
    pio_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->name = strdup(name))) {
        free(ctx);
        return NULL;
    }
    ctx->refs = 1;
    ctx->config = json_object_get(config);
    ctx->image = img;
    return ctx;
}

pio_ctx *ctx_ref(pio_ctx *ctx)
{
    ctx->refs++;
    return ctx;
}

void ctx_unref(pio_ctx *ctx)
{
    if (!ctx || --ctx->refs > 0)
        return;
    json_object_put(ctx->config);
    plugin_image_unref(ctx->image);
    free(ctx->name);
    free(ctx);
}

pio_ctx *ctx_enter(pio_ctx *ctx)
{
    pio_ctx *previous = running;
    running = ctx;
    return previous;
}

typedef struct loan {
    void *obj;
    void (*unref)(void *);
} loan;

static loan *loans;
static size_t n_loans, cap_loans;

void ctx_lend(void *obj, void (*unref)(void *))
{
    if (!ARRAY_RESERVE(loans, n_loans + 1, cap_loans, 8)) {
        unref(obj); /* cannot keep it: give it back at once */
        return;
    }
    loans[n_loans++] = (loan){obj, unref};
}

void ctx_leave(pio_ctx *previous)
{
    running = previous;
    if (running)
        return;
    /* The outermost call returned: what was lent goes back. */
    while (n_loans) {
        loan l = loans[--n_loans];
        l.unref(l.obj);
    }
    free(loans);
    loans = NULL;
    cap_loans = 0;
}

pio_ctx *ctx_running(void) { return running; }
