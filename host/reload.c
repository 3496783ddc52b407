/*
 * reload.c - hot reload (see reload.h).
 */
#include "reload.h"

#include "base/array.h"
#include "base/histogram.h"
#include "base/log.h"
#include "base/timer.h"
#include "base/watch.h"
#include "engineio/eio_session.h"
#include "engineio/http.h"
#include "engineio/limits.h"
#include "plugin/ctx.h"
#include "plugin/handoff.h"
#include "plugin/services.h"
#include "socketio/adapter.h"
#include "socketio/sio_client.h"
#include "socketio/sio_dispatch.h"
#include "web/site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runtime in force: the binding (configuration and plugins) and the
 * reload counters.  Held here, the one module that swaps it, and handed
 * down at each swap to the modules that read a part of it (make_current),
 * so none of them reads another's statics for it. */
static binding *current;
static reload_stats stats;

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
    for (size_t i = 0; i < b->n_plugins; i++)
        if (b->plugins[i].ctx)
            b->plugins[i].ctx->timeout_ms = b->plugins[i].cfg->timeout_ms;
    log_configure(b->cfg->log.format, b->cfg->log.has_level, b->cfg->log.level);
    eio_set_options(&b->cfg->opts);
    http_set_config(b->cfg);
    site_set_config(b->cfg);
    limits_set_config(&b->cfg->security);
    sio_set_binding(b);
    adapter_binding_changed();
    watch_binding(b);
}

/* ---- the previous versions ----------------------------------------------
 *
 * For each plugin, the version a reload replaced (unless it had faulted),
 * kept mapped so that a fault of its successor can roll back to it.  One
 * level: a rollback uses it up. */

typedef struct kept_version {
    char *name;
    plugin_image *img; /* a reference */
} kept_version;

static kept_version *kept;
static size_t n_kept, cap_kept;

static kept_version *kept_find(const char *name)
{
    for (size_t i = 0; i < n_kept; i++)
        if (strcmp(kept[i].name, name) == 0)
            return &kept[i];
    return NULL;
}

/* The kept version of `name`, taken out (the caller's reference); NULL
 * when there is none. */
static plugin_image *kept_take(const char *name)
{
    kept_version *k = kept_find(name);
    if (!k)
        return NULL;
    plugin_image *img = k->img;
    free(k->name);
    *k = kept[--n_kept];
    return img;
}

static void kept_put(const char *name, plugin_image *img)
{
    plugin_image_unref(kept_take(name));
    char *copy = strdup(name);
    if (!copy || !ARRAY_RESERVE(kept, n_kept + 1, cap_kept, 4)) {
        free(copy);
        return; /* no rollback for it: not worth failing a reload over */
    }
    plugin_image_ref(img);
    kept[n_kept++] = (kept_version){copy, img};
}

static const bound_plugin *plugin_named(const binding *b, const char *name)
{
    for (size_t i = 0; i < b->n_plugins; i++)
        if (b->plugins[i].ctx && strcmp(b->plugins[i].cfg->name, name) == 0)
            return &b->plugins[i];
    return NULL;
}

/* After a reload from old to b: each plugin b loads anew keeps the
 * version it replaces; a plugin b no longer has keeps nothing. */
static void keep_previous(const binding *old, const binding *b)
{
    for (size_t i = 0; i < b->n_plugins; i++) {
        const bound_plugin *p = &b->plugins[i];
        const bound_plugin *q = p->ctx ? plugin_named(old, p->cfg->name) : NULL;
        if (q && q->ctx != p->ctx && !q->ctx->faulted)
            kept_put(p->cfg->name, q->ctx->image);
    }
    for (size_t i = n_kept; i-- > 0;)
        if (!plugin_named(b, kept[i].name))
            plugin_image_unref(kept_take(kept[i].name));
}

static void kept_clear(void)
{
    while (n_kept)
        plugin_image_unref(kept_take(kept[n_kept - 1].name));
    free(kept);
    kept = NULL;
    cap_kept = 0;
}

/* ---- quarantine ----------------------------------------------------------
 *
 * A version that faulted (guard.h) is replaced on the next turn of the
 * loop, never inside the call that faulted (whoever called it may still
 * hold the binding): by the version it replaced, loaded afresh from that
 * one's copy and started without state; or, when there is none (or it
 * cannot start), by nothing - its events and middleware are refused until
 * a new build of its file is loaded. */

static pio_ctx **faulted;
static size_t n_faulted, cap_faulted;
static timer quarantine_timer;

static bool roll_back(binding *old, pio_ctx *bad, plugin_image *prev)
{
    diag_list diags = DIAG_LIST_INIT;
    binding *b = binding_rollback(config_retain(old->cfg), old, bad->name, prev->copy, &diags);
    char err[1024];
    if (!b) {
        snprintf(err, sizeof err, "%s", diags.count ? diags.items[0] : "out of memory");
        diag_free(&diags);
    } else if (!binding_activate(b, old, err, sizeof err)) {
        binding_discard(b, old);
        b = NULL;
    }
    if (!b) {
        log_msg(PIO_LOG_ERROR, bad->name, "cannot roll back to version %s: %s",
                plugin_image_version(prev), err);
        return false;
    }
    make_current(b);
    stats.rollbacks++;
    log_msg(PIO_LOG_WARN, bad->name, "rolled back from version %s to version %s (started afresh, "
            "without the faulted version's state)", plugin_image_version(bad->image),
            plugin_image_version(prev));
    binding_retire(old, b);
    return true;
}

static void quarantine(pio_ctx *bad)
{
    sio_version_faulted(bad); /* what it left waiting gets its answer now */
    binding *old = current;
    const bound_plugin *p = old ? plugin_named(old, bad->name) : NULL;
    if (!p || p->ctx != bad) {
        /* No longer serving: a retired version's late callback (an ack, a
         * work's completion).  If it is the one kept for a rollback, it is
         * no candidate any more. */
        kept_version *k = kept_find(bad->name);
        if (k && k->img == bad->image)
            plugin_image_unref(kept_take(bad->name));
        return;
    }
    plugin_image *prev = kept_take(bad->name);
    bool rolled = prev && roll_back(old, bad, prev);
    plugin_image_unref(prev);
    if (rolled)
        return;
    stats.disabled++;
    services_release(bad);
    log_msg(PIO_LOG_ERROR, bad->name,
            "disabled until a new build of %s is loaded: its events are answered with an error, "
            "its middleware refuses connections", p->cfg->path);
}

static void run_quarantines(timer *t)
{
    (void)t;
    while (n_faulted) {
        pio_ctx *bad = faulted[0];
        memmove(faulted, faulted + 1, --n_faulted * sizeof *faulted);
        quarantine(bad);
        ctx_unref(bad);
    }
}

void reload_fault(pio_ctx *ctx)
{
    if (!ARRAY_RESERVE(faulted, n_faulted + 1, cap_faulted, 4)) {
        /* Still refused by the guard; only the rollback is lost. */
        log_msg(PIO_LOG_ERROR, ctx->name, "out of memory: the faulted version stays, refused");
        ctx_unref(ctx);
        return;
    }
    faulted[n_faulted++] = ctx;
    timer_start(&quarantine_timer, 0, run_quarantines);
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
    timer_stop(&quarantine_timer);
    while (n_faulted)
        ctx_unref(faulted[--n_faulted]);
    free(faulted);
    faulted = NULL;
    cap_faulted = 0;
    kept_clear();
    binding *b = current;
    current = NULL;
    sio_set_binding(NULL);
    http_set_config(NULL);
    site_set_config(NULL);
    limits_set_config(NULL);
    binding_retire(b, NULL);
}

reload_stats reload_get_stats(void) { return stats; }

/* How long the reloads that switched took, from the change seen to the
 * new binding serving. */
static histogram reload_time = HISTOGRAM_INIT(&histogram_reload_bounds);

const histogram *reload_duration(void) { return &reload_time; }

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
        if (q)
            log_info("reload: plugin '%s' %s -> %s (%s)", p->cfg->name,
                     plugin_image_version(q->ctx->image),
                     plugin_image_version(p->ctx->image), p->cfg->path);
        else
            log_info("reload: plugin '%s' %s added (%s)", p->cfg->name,
                     plugin_image_version(p->ctx->image), p->cfg->path);
    }
    for (size_t j = 0; j < old->n_plugins; j++) {
        bool stays = false;
        for (size_t i = 0; i < b->n_plugins; i++)
            stays |= strcmp(old->plugins[j].cfg->name, b->plugins[i].cfg->name) == 0;
        if (!stays) {
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

static bool same_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* The Admin UI is set up once (web/admin.c): a changed admin: section
 * keeps the running one, so the binding lists the namespace it serves. */
static void keep_admin(config *cfg, const config *old)
{
    config_admin *a = &cfg->admin;
    const config_admin *o = &old->admin;
    if (a->enabled == o->enabled && same_str(a->nsp, o->nsp) && a->auth == o->auth &&
        same_str(a->username, o->username) && same_str(a->password, o->password) &&
        a->readonly == o->readonly && a->production == o->production &&
        same_str(a->server_id, o->server_id) && a->session_ttl == o->session_ttl)
        return;
    config_admin prev = *o;
    prev.nsp = o->nsp ? strdup(o->nsp) : NULL;
    prev.username = o->username ? strdup(o->username) : NULL;
    prev.password = o->password ? strdup(o->password) : NULL;
    prev.server_id = o->server_id ? strdup(o->server_id) : NULL;
    if ((o->nsp && !prev.nsp) || (o->username && !prev.username) ||
        (o->password && !prev.password) || (o->server_id && !prev.server_id)) {
        free(prev.nsp), free(prev.username), free(prev.password), free(prev.server_id);
        return; /* out of memory: the new section's namespace is listed */
    }
    log_warn("reload: the admin: section changed; a restart is needed, keeping the running one");
    free(a->nsp), free(a->username), free(a->password), free(a->server_id);
    *a = prev;
}

static void reload(bool read_config, const char *const *changed, size_t n, bool all)
{
    uint64_t t0 = clock_ns();
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
        keep_admin(cfg, old->cfg);
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
    uint64_t took = clock_ns() - t0;
    histogram_observe(&reload_time, took);
    log_changes(old, b, (double)took / 1e6);
    keep_previous(old, b);
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
