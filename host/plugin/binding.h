/*
 * binding.h - a configuration made live: every plugin loaded (one image
 * each), every handler reference resolved to a function, the namespaces
 * that exist.  Building one is all-or-nothing: any missing file, bad
 * plugin or missing symbol is reported at its place in the YAML and
 * nothing stays loaded.  The server dispatches through the current
 * binding; a reload builds a new one and swaps it in (handoff.h moves the
 * plugins' state across).
 */
#ifndef PIO_BINDING_H
#define PIO_BINDING_H

#include "base/strmap.h"
#include "config/config.h"
#include "plugin.h"

typedef struct bound_plugin {
    const config_plugin *cfg;   /* borrowed from binding.cfg */
    pio_ctx *ctx;               /* one reference */
} bound_plugin;

typedef struct bound_event {
    const config_event *cfg;    /* borrowed from binding.cfg */
    pio_handler_fn fn;
    pio_ctx *ctx;               /* borrowed from its bound_plugin */
} bound_event;

typedef struct bound_middleware {
    const config_middleware *cfg; /* borrowed from binding.cfg */
    pio_middleware_fn fn;
    pio_ctx *ctx;                 /* borrowed from its bound_plugin */
} bound_middleware;

/* A namespace pattern with its events: socket.io's parent namespace.  A
 * namespace created by a client because it matches (a child) has these
 * events and the middleware written with the same pattern. */
typedef struct bound_pattern {
    const config_pattern *cfg;  /* borrowed from binding.cfg */
    strmap events;              /* event name -> bound_event */
} bound_pattern;

typedef struct binding {
    config *cfg;                /* owned */
    uint64_t gen;               /* unique per binding built: what a child's
                                   cached parent was matched in */
    bound_plugin *plugins;
    size_t n_plugins;
    bound_event *events;
    size_t n_events;
    bound_middleware *middleware; /* in configuration order */
    size_t n_middleware;
    pio_init_fn init;           /* hooks.init, or NULL */
    pio_ctx *init_ctx;
    const char **namespaces;    /* "/" and every namespace an event names; borrowed strings */
    size_t n_namespaces, cap_namespaces;
    bound_pattern *patterns;    /* as cfg->patterns: configuration order */
    size_t n_patterns;
    strmap dispatch;            /* namespace -> (strmap: event -> bound_event) */
    strmap server_dispatch;     /* the same for serverEvents */
} binding;

/* Load every plugin and resolve every reference of cfg (taken over, freed
 * on failure too). Returns NULL after adding each problem to diags. */
binding *binding_create(config *cfg, diag_list *diags);
/* The same for a reload: plugins of `prev` whose name, file and config
 * block are unchanged - and whose file is not in `changed`, unless
 * reload_all - keep their loaded version (the context is shared). */
binding *binding_rebuild(config *cfg, const binding *prev, const char *const *changed,
                         size_t n_changed, bool reload_all, diag_list *diags);
/* The same as prev but for plugin `name`, whose version is loaded from
 * `path` (a copy of an earlier version of it): a rollback. */
binding *binding_rollback(config *cfg, const binding *prev, const char *name, const char *path,
                          diag_list *diags);
/* Free b and its references to its plugin versions; no hook runs (to
 * stop a binding that served or was activated, see handoff.h). */
void binding_destroy(binding *b);

/* The handler for (namespace, event), or NULL. */
const bound_event *binding_find(const binding *b, const char *nsp, const char *event);
/* The serverEvents handler for (namespace, event), or NULL. */
const bound_event *binding_find_server(const binding *b, const char *nsp, const char *event);
/* Whether nsp is a namespace the configuration names (not a pattern). */
bool binding_has_namespace(const binding *b, const char *nsp);
/* The first pattern, in configuration order, that matches nsp; NULL when
 * none does.  Exact namespaces come first: ask binding_has_namespace. */
const bound_pattern *binding_match(const binding *b, const char *nsp);
/* The handler for event in the children of pattern p, or NULL. */
const bound_event *binding_find_child(const bound_pattern *p, const char *event);
/* The event of b bound where e is (same namespace or pattern, same name). */
const bound_event *binding_find_like(const binding *b, const config_event *e);

#endif
