/*
 * binding.c - from a checked config to loaded plugins and resolved
 * handlers (see binding.h).
 */
#include "binding.h"

#include <stdlib.h>
#include <string.h>

static pio_ctx *running;

pio_ctx *ctx_enter(pio_ctx *ctx)
{
    pio_ctx *previous = running;
    running = ctx;
    return previous;
}

void ctx_leave(pio_ctx *previous) { running = previous; }

pio_ctx *ctx_running(void) { return running; }

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

static pio_ctx *ctx_create(const config_plugin *p, plugin_image *img)
{
    pio_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->name = strdup(p->name))) {
        free(ctx);
        return NULL;
    }
    ctx->refs = 1;
    ctx->config = json_object_get(p->config);
    ctx->image = img;
    return ctx;
}

static bound_plugin *find_bound(binding *b, const char *name)
{
    for (size_t i = 0; i < b->n_plugins; i++)
        if (b->plugins[i].ctx && strcmp(b->plugins[i].cfg->name, name) == 0)
            return &b->plugins[i];
    return NULL;
}

/* Resolve "plugin:symbol"; reports at the reference's mark. A plugin that
 * failed to load was reported already, so its references stay quiet. */
static void *resolve(binding *b, const config_ref *ref, pio_ctx **ctx, diag_list *diags)
{
    bound_plugin *bp = find_bound(b, ref->plugin);
    if (!bp)
        return NULL;
    void *fn = plugin_image_symbol(bp->ctx->image, ref->symbol);
    if (!fn) {
        diag_add(diags, b->cfg->file, ref->at, "plugin '%s' (%s) does not export '%s'",
                 ref->plugin, bp->cfg->path, ref->symbol);
        return NULL;
    }
    *ctx = bp->ctx;
    return fn;
}

static bool add_namespace(binding *b, const char *nsp)
{
    for (size_t i = 0; i < b->n_namespaces; i++)
        if (strcmp(b->namespaces[i], nsp) == 0)
            return true;
    const char **n = realloc(b->namespaces, (b->n_namespaces + 1) * sizeof *n);
    if (!n)
        return false;
    b->namespaces = n;
    b->namespaces[b->n_namespaces++] = nsp;
    return true;
}

binding *binding_create(config *cfg, diag_list *diags)
{
    binding *b = calloc(1, sizeof *b);
    if (!b) {
        config_free(cfg);
        return NULL;
    }
    b->cfg = cfg;
    size_t errors = diags->count;
    b->plugins = calloc(cfg->n_plugins ? cfg->n_plugins : 1, sizeof *b->plugins);
    b->events = calloc(cfg->n_events ? cfg->n_events : 1, sizeof *b->events);
    if (!b->plugins || !b->events || !add_namespace(b, "/"))
        goto oom;
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const config_plugin *p = &cfg->plugins[i];
        char err[1024];
        b->plugins[i].cfg = p;
        plugin_image *img = plugin_image_load(p->path, err, sizeof err);
        if (!img) {
            diag_add(diags, cfg->file, p->path_at, "plugin '%s': %s", p->name, err);
            continue;
        }
        if (!(b->plugins[i].ctx = ctx_create(p, img))) {
            plugin_image_unref(img);
            goto oom;
        }
        b->n_plugins = i + 1;
    }
    b->n_plugins = cfg->n_plugins;
    for (size_t i = 0; i < cfg->n_events; i++) {
        const config_event *e = &cfg->events[i];
        b->events[i].cfg = e;
        b->events[i].fn = (pio_handler_fn)resolve(b, &e->handler, &b->events[i].ctx, diags);
        if (!add_namespace(b, e->nsp))
            goto oom;
    }
    b->n_events = cfg->n_events;
    if (cfg->has_init)
        b->init = (pio_init_fn)resolve(b, &cfg->init, &b->init_ctx, diags);
    if (diags->count == errors)
        return b;
    binding_destroy(b);
    return NULL;
oom:
    diag_add(diags, cfg->file, (pio_mark){0, 0}, "out of memory");
    binding_destroy(b);
    return NULL;
}

void binding_destroy(binding *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_plugins; i++)
        ctx_unref(b->plugins[i].ctx);
    free(b->plugins);
    free(b->events);
    free(b->namespaces);
    config_free(b->cfg);
    free(b);
}

const bound_event *binding_find(const binding *b, const char *nsp, const char *event)
{
    for (size_t i = 0; i < b->n_events; i++) {
        const config_event *e = b->events[i].cfg;
        if (strcmp(e->name, event) == 0 && strcmp(e->nsp, nsp) == 0)
            return &b->events[i];
    }
    return NULL;
}

bool binding_has_namespace(const binding *b, const char *nsp)
{
    for (size_t i = 0; i < b->n_namespaces; i++)
        if (strcmp(b->namespaces[i], nsp) == 0)
            return true;
    return false;
}
