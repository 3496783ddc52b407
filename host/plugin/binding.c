/*
 * binding.c - from a checked config to loaded plugins and resolved
 * handlers (see binding.h).
 */
#include "binding.h"

#include "base/array.h"
#include "config/nsp_pattern.h"
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

static uint64_t generations; /* bindings built so far */

static bound_plugin *find_bound(binding *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_plugins; i++)
        if (b->plugins[i].ctx && strcmp(b->plugins[i].cfg->name, name) == 0)
            return &b->plugins[i];
    return NULL;
}

/* Resolve "plugin:symbol" to a function of that plugin's own image;
 * reports at the reference's mark (a data symbol or a dependency's
 * function would be called into garbage at the first event). A plugin that
 * failed to load was reported already, so its references stay quiet. */
static void *resolve(binding *b, const config_ref *ref, pio_ctx **ctx, diag_list *diags)
{
    bound_plugin *bp = find_bound(b, ref->plugin);
    if (!bp || !ref->symbol)
        return NULL;
    void *fn = NULL;
    char why[512];
    switch (plugin_image_function(bp->ctx->image, ref->symbol, &fn, why, sizeof why)) {
    case PLUGIN_SYMBOL_FUNCTION:
        break;
    case PLUGIN_SYMBOL_MISSING:
        diag_add(diags, b->cfg->file, ref->at, "plugin '%s' (%s) does not export '%s'",
                 ref->plugin, bp->cfg->path, ref->symbol);
        return NULL;
    case PLUGIN_SYMBOL_REFUSED:
        diag_add(diags, b->cfg->file, ref->at, "plugin '%s' (%s): %s", ref->plugin,
                 bp->cfg->path, why);
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
    if (!ARRAY_RESERVE(b->namespaces, b->n_namespaces + 1, b->cap_namespaces, 4))
        return false;
    b->namespaces[b->n_namespaces++] = nsp;
    return true;
}

static bound_pattern *pattern_named(const binding *b, const char *source)
{
    for (size_t i = 0; i < b->n_patterns; i++)
        if (strcmp(b->patterns[i].cfg->source, source) == 0)
            return &b->patterns[i];
    return NULL;
}

/* The dispatch index: per namespace, event name -> handler, so finding a
 * handler costs two hash lookups however many events are configured;
 * a pattern's events are indexed in the pattern. */
static bool index_events(binding *b)
{
    for (size_t i = 0; i < b->n_events; i++) {
        const config_event *e = b->events[i].cfg;
        if (!e->name || !e->nsp)
            continue; /* an incomplete entry (--check) */
        if (e->nsp_match) {
            bound_pattern *p = pattern_named(b, e->nsp);
            if (p && !strmap_put(&p->events, e->name, &b->events[i]))
                return false;
            continue;
        }
        strmap *top = e->server ? &b->server_dispatch : &b->dispatch;
        strmap *events = strmap_get(top, e->nsp);
        if (!events) {
            if (!(events = calloc(1, sizeof *events)) || !strmap_put(top, e->nsp, events)) {
                free(events);
                return false;
            }
        }
        if (!strmap_put(events, e->name, &b->events[i]))
            return false;
    }
    return true;
}

static void free_dispatch(strmap *top)
{
    size_t i = 0;
    void *events;
    while (strmap_next(top, &i, NULL, &events)) {
        strmap_free(events);
        free(events);
    }
    strmap_free(top);
}

static void free_index(binding *b)
{
    free_dispatch(&b->dispatch);
    free_dispatch(&b->server_dispatch);
    for (size_t j = 0; j < b->n_patterns; j++)
        strmap_free(&b->patterns[j].events);
}

static bool same_json(json_object *a, json_object *b)
{
    return json_object_equal(a, b) != 0;
}

static bool in_list(const char *path, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(path, list[i]) == 0)
            return true;
    return false;
}

/* The context to keep from prev: same name, same file, same config
 * block, and the file has not changed. */
static pio_ctx *reusable(const binding *prev, const config_plugin *p, const char *const *changed,
                         size_t n_changed, bool reload_all)
{
    if (!prev || reload_all || in_list(p->path, changed, n_changed))
        return NULL;
    for (size_t i = 0; i < prev->n_plugins; i++) {
        const bound_plugin *bp = &prev->plugins[i];
        if (bp->ctx && strcmp(bp->cfg->name, p->name) == 0 && strcmp(bp->cfg->path, p->path) == 0 &&
            same_json(bp->cfg->config, p->config))
            return bp->ctx;
    }
    return NULL;
}

/* What a build loads: the plugins of prev it may keep, and one plugin
 * (a rollback's) to load from another file than its configured one. */
typedef struct build_plan {
    const binding *prev;
    const char *const *changed;
    size_t n_changed;
    bool reload_all;
    const char *override_name, *override_path;
} build_plan;

static binding *build(config *cfg, const build_plan *plan, diag_list *diags);

binding *binding_create(config *cfg, diag_list *diags)
{
    return build(cfg, &(build_plan){0}, diags);
}

binding *binding_rebuild(config *cfg, const binding *prev, const char *const *changed,
                         size_t n_changed, bool reload_all, diag_list *diags)
{
    return build(cfg, &(build_plan){prev, changed, n_changed, reload_all, NULL, NULL}, diags);
}

binding *binding_rollback(config *cfg, const binding *prev, const char *name, const char *path,
                          diag_list *diags)
{
    return build(cfg, &(build_plan){prev, NULL, 0, false, name, path}, diags);
}

static binding *build(config *cfg, const build_plan *plan, diag_list *diags)
{
    binding *b = calloc(1, sizeof *b);
    if (!b) {
        config_free(cfg);
        return NULL;
    }
    b->cfg = cfg;
    b->gen = ++generations;
    size_t errors = diags->count;
    b->plugins = calloc(cfg->n_plugins ? cfg->n_plugins : 1, sizeof *b->plugins);
    b->events = calloc(cfg->n_events ? cfg->n_events : 1, sizeof *b->events);
    b->patterns = calloc(cfg->n_patterns ? cfg->n_patterns : 1, sizeof *b->patterns);
    if (!b->plugins || !b->events || !b->patterns || !add_namespace(b, "/"))
        goto oom;
    for (size_t i = 0; i < cfg->n_patterns; i++)
        b->patterns[i].cfg = &cfg->patterns[i];
    b->n_patterns = cfg->n_patterns;
    b->n_plugins = cfg->n_plugins;
    for (size_t i = 0; i < cfg->n_plugins; i++) {
        const config_plugin *p = &cfg->plugins[i];
        b->plugins[i].cfg = p;
        if (!p->name || !p->path)
            continue; /* an incomplete entry (--check of a file with errors) */
        bool overridden = plan->override_name && strcmp(p->name, plan->override_name) == 0;
        pio_ctx *keep = overridden ? NULL
                                   : reusable(plan->prev, p, plan->changed, plan->n_changed,
                                              plan->reload_all);
        if (keep) {
            b->plugins[i].ctx = ctx_ref(keep);
            continue;
        }
        char err[1024];
        plugin_image *img =
            plugin_image_load(overridden ? plan->override_path : p->path, err, sizeof err);
        if (!img) {
            diag_add(diags, cfg->file, p->path_at, "plugin '%s': %s", p->name, err);
            continue;
        }
        if (!(b->plugins[i].ctx = ctx_create(p->name, p->config, img))) {
            plugin_image_unref(img);
            goto oom;
        }
        b->plugins[i].ctx->timeout_ms = p->timeout_ms;
    }
    for (size_t i = 0; i < cfg->n_events; i++) {
        const config_event *e = &cfg->events[i];
        b->events[i].cfg = e;
        b->events[i].fn = (pio_handler_fn)resolve(b, &e->handler, &b->events[i].ctx, diags);
        if (!e->nsp_match && !add_namespace(b, e->nsp))
            goto oom;
    }
    b->n_events = cfg->n_events;
    if (!index_events(b))
        goto oom;
    if (cfg->n_middleware && !(b->middleware = calloc(cfg->n_middleware, sizeof *b->middleware)))
        goto oom;
    for (size_t i = 0; i < cfg->n_middleware; i++) {
        const config_middleware *m = &cfg->middleware[i];
        b->middleware[i].cfg = m;
        b->middleware[i].fn =
            (pio_middleware_fn)resolve(b, &m->handler, &b->middleware[i].ctx, diags);
        if (!m->nsp_match && !add_namespace(b, m->nsp))
            goto oom;
    }
    b->n_middleware = cfg->n_middleware;
    if (cfg->admin.enabled && cfg->admin.nsp && !add_namespace(b, cfg->admin.nsp))
        goto oom; /* the Admin UI's, served by the host (web/admin.c) */
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
    free_index(b);
    free(b->plugins);
    free(b->events);
    free(b->middleware);
    free(b->namespaces);
    free(b->patterns);
    config_free(b->cfg);
    free(b);
}

const bound_event *binding_find(const binding *b, const char *nsp, const char *event)
{
    const strmap *events = event ? strmap_get(&b->dispatch, nsp) : NULL;
    return events ? strmap_get(events, event) : NULL;
}

const bound_event *binding_find_server(const binding *b, const char *nsp, const char *event)
{
    const strmap *events = event ? strmap_get(&b->server_dispatch, nsp) : NULL;
    return events ? strmap_get(events, event) : NULL;
}

bool binding_has_namespace(const binding *b, const char *nsp)
{
    for (size_t i = 0; i < b->n_namespaces; i++)
        if (strcmp(b->namespaces[i], nsp) == 0)
            return true;
    return false;
}

const bound_pattern *binding_match(const binding *b, const char *nsp)
{
    for (size_t i = 0; i < b->n_patterns; i++)
        if (b->patterns[i].cfg->re && nsp_pattern_match(b->patterns[i].cfg->re, nsp))
            return &b->patterns[i];
    return NULL;
}

const bound_event *binding_find_child(const bound_pattern *p, const char *event)
{
    return p && event ? strmap_get(&p->events, event) : NULL;
}

const bound_event *binding_find_like(const binding *b, const config_event *e)
{
    if (e->server)
        return binding_find_server(b, e->nsp, e->name);
    if (!e->nsp_match)
        return binding_find(b, e->nsp, e->name);
    return binding_find_child(pattern_named(b, e->nsp), e->name);
}
