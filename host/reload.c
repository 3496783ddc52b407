/*
 * reload.c - hot reload (see reload.h).
 */
#include "reload.h"

#include "base/log.h"
#include "base/watch.h"
#include "engineio/eio_session.h"
#include "engineio/http.h"
#include "engineio/limits.h"
#include "plugin/ctx.h"
#include "plugin/handoff.h"
#include "socketio/adapter.h"
#include "socketio/sio_dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The runtime in force: the binding (configuration and plugins) and the
 * reload counters.  Held here, the one module that swaps it, and handed
 * down at each swap to the modules that read a part of it (make_current),
 * so none of them reads another's statics for it. */
static binding *current;
static reload_stats stats;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Watch the configuration file and every plugin file of b. */
static void watch_binding(const binding *b)
{
    const char **paths = malloc((b->n_plugins + 1) * sizeof *paths);
    if (!paths)
        return;
    char *cfg_abs = realpath(b->cfg->file, NULL);
    size_t n = 0;
    paths[n++] = cfg_abs ? cfg_abs : b->cfg->file;
    for (size_t i = 0; i < b->n_plugins; i++)
        paths[n++] = b->cfg->plugins[i].path;
    watch_set(paths, n);
    free(cfg_abs);
    free(paths);
}

static void make_current(binding *b)
{
    current = b;
    eio_set_options(&b->cfg->opts);
    http_set_config(b->cfg);
    limits_set_config(&b->cfg->security);
    sio_set_binding(b);
    adapter_binding_changed();
    watch_binding(b);
}

bool reload_start(binding *b, char *err, size_t errlen)
{
    if (!binding_activate(b, NULL, err, errlen))
        return false;
    make_current(b);
    return true;
}

void reload_stop(void)
{
    binding *b = current;
    current = NULL;
    sio_set_binding(NULL);
    http_set_config(NULL);
    limits_set_config(NULL);
    binding_retire(b, NULL);
}

reload_stats reload_get_stats(void) { return stats; }

static const bound_event *event_in(const binding *b, const config_event *e)
{
    return binding_find_like(b, e);
}

/* "/chat", or "{match: ^/t-[0-9]+$}" for a pattern. */
static const char *where(const config_event *e, char *out, size_t size)
{
    snprintf(out, size, e->nsp_match ? "{match: %.200s}" : "%.200s", e->nsp);
    return out;
}

/* One line per difference, so an operator can see what a reload did. */
static void log_changes(const binding *old, const binding *b, double ms)
{
    size_t changes = 0;
    for (size_t i = 0; i < b->n_plugins; i++) {
        const bound_plugin *p = &b->plugins[i];
        const bound_plugin *q = NULL;
        for (size_t j = 0; j < old->n_plugins; j++)
            if (strcmp(old->plugins[j].cfg->name, p->cfg->name) == 0)
                q = &old->plugins[j];
        if (q && q->ctx == p->ctx)
            continue;
        changes++;
        const pio_plugin_desc *d = p->ctx->image->desc;
        if (q)
            log_info("reload: plugin '%s' %s -> %s (%s)", p->cfg->name,
                     q->ctx->image->desc->version ? q->ctx->image->desc->version : "?",
                     d->version ? d->version : "?", p->cfg->path);
        else
            log_info("reload: plugin '%s' %s added (%s)", p->cfg->name,
                     d->version ? d->version : "?", p->cfg->path);
    }
    for (size_t j = 0; j < old->n_plugins; j++) {
        bool kept = false;
        for (size_t i = 0; i < b->n_plugins; i++)
            kept |= strcmp(old->plugins[j].cfg->name, b->plugins[i].cfg->name) == 0;
        if (!kept) {
            changes++;
            log_info("reload: plugin '%s' removed", old->plugins[j].cfg->name);
        }
    }
    char nsp[256];
    for (size_t i = 0; i < b->n_events; i++) {
        const config_event *e = b->events[i].cfg;
        const bound_event *before = event_in(old, e);
        if (!before) {
            changes++;
            log_info("reload: event '%s' on %s added -> %s:%s", e->name,
                     where(e, nsp, sizeof nsp), e->handler.plugin, e->handler.symbol);
        } else if (strcmp(before->cfg->handler.plugin, e->handler.plugin) != 0 ||
                   strcmp(before->cfg->handler.symbol, e->handler.symbol) != 0) {
            changes++;
            log_info("reload: event '%s' on %s rebound -> %s:%s", e->name,
                     where(e, nsp, sizeof nsp), e->handler.plugin, e->handler.symbol);
        }
    }
    for (size_t i = 0; i < old->n_events; i++) {
        if (!event_in(b, old->events[i].cfg)) {
            changes++;
            log_info("reload: event '%s' on %s removed", old->events[i].cfg->name,
                     where(old->events[i].cfg, nsp, sizeof nsp));
        }
    }
    log_info("reload #%lu done in %.2f ms (%zu change%s)", stats.done, ms, changes,
             changes == 1 ? "" : "s");
}

static void failed(const char *why)
{
    stats.failed++;
    log_error("reload failed (%lu so far), the previous version keeps serving: %s", stats.failed,
              why);
}

/* Options that need a new listening socket keep their old values. */
static void keep_listener(config *cfg, const config *old)
{
    if (strcmp(cfg->host, old->host) != 0 || cfg->port != old->port) {
        log_warn("reload: server.host/server.port changed (%s:%u -> %s:%u); a restart is "
                 "needed, keeping %s:%u",
                 old->host, old->port, cfg->host, cfg->port, old->host, old->port);
        char *host = strdup(old->host);
        if (host) {
            free(cfg->host);
            cfg->host = host;
        }
        cfg->port = old->port;
    }
    if (cfg->max_header_size != old->max_header_size) {
        log_warn("reload: server.maxHeaderSize changed (%u -> %u); a restart is needed, "
                 "keeping %u",
                 old->max_header_size, cfg->max_header_size, old->max_header_size);
        cfg->max_header_size = old->max_header_size;
    }
}

static void reload(bool read_config, const char *const *changed, size_t n, bool all)
{
    double t0 = now_ms();
    binding *old = current;
    if (!old)
        return;
    diag_list diags = DIAG_LIST_INIT;
    config *cfg;
    if (read_config) {
        cfg = config_load(old->cfg->file, &diags);
        if (!cfg) {
            for (size_t i = 0; i < diags.count; i++)
                log_error("%s", diags.items[i]);
            failed("the configuration has errors");
            diag_free(&diags);
            return;
        }
        keep_listener(cfg, old->cfg);
    } else {
        cfg = config_retain(old->cfg);
    }
    binding *b = binding_rebuild(cfg, old, changed, n, all, &diags);
    if (!b) {
        for (size_t i = 0; i < diags.count; i++)
            log_error("%s", diags.items[i]);
        failed(diags.count ? diags.items[0] : "out of memory");
        diag_free(&diags);
        return;
    }
    diag_free(&diags);
    char err[1024];
    if (!binding_activate(b, old, err, sizeof err)) {
        binding_discard(b, old);
        failed(err);
        return;
    }
    make_current(b);
    stats.done++;
    log_changes(old, b, now_ms() - t0);
    binding_retire(old, b);
}

void reload_files(const char *const *paths, size_t n)
{
    binding *old = current;
    if (!old)
        return;
    char *cfg_abs = realpath(old->cfg->file, NULL);
    bool config_changed = false;
    for (size_t i = 0; i < n; i++)
        config_changed |= cfg_abs && strcmp(paths[i], cfg_abs) == 0;
    free(cfg_abs);
    for (size_t i = 0; i < n; i++)
        log_info("reload: %s changed", paths[i]);
    reload(config_changed, paths, n, false);
}

void reload_everything(void)
{
    log_info("reload: SIGHUP, reloading the configuration and every plugin");
    reload(true, NULL, 0, true);
}
