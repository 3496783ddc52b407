/*
 * handoff.c - plugin versions taking over from each other (see
 * handoff.h).
 *
 * This sits above both the contexts (ctx.c) and the host services
 * (services.c): retiring a version cancels its timers and watches from
 * here, so the services depend on the contexts and on nothing that
 * depends back on them.
 */
#include "handoff.h"

#include "base/log.h"
#include "ctx.h"
#include "guard.h"
#include "routes.h"
#include "services.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- load and unload hooks ------------------------------------------- */

static const pio_plugin_desc *desc_of(pio_ctx *ctx) { return ctx->image->desc; }

/* The optional hooks, read only when the descriptor is big enough to
 * hold them. */
static pio_load_fn load_hook(pio_ctx *ctx)
{
    const pio_plugin_desc *d = desc_of(ctx);
    return d->size >= offsetof(pio_plugin_desc, load) + sizeof d->load ? d->load : NULL;
}

static pio_unload_fn unload_hook(pio_ctx *ctx)
{
    const pio_plugin_desc *d = desc_of(ctx);
    return d->size >= offsetof(pio_plugin_desc, unload) + sizeof d->unload ? d->unload : NULL;
}

typedef struct hook_call {
    pio_ctx *ctx;
    pio_load_fn load;
    pio_unload_fn unload;
    void *state;      /* in for load, out for unload */
    int final;
    const char *err;  /* what load said */
} hook_call;

static void run_hook(void *arg)
{
    hook_call *c = arg;
    if (c->load)
        c->err = c->load(c->ctx, c->state);
    else
        c->state = c->unload(c->ctx, c->final);
}

/* A load hook that faults refuses (its version is quarantined). */
static const char *call_load(pio_ctx *ctx, void *state)
{
    hook_call c = {.ctx = ctx, .load = load_hook(ctx), .state = state};
    if (!c.load)
        return NULL;
    if (guard_call(ctx, "load hook", NULL, run_hook, &c) != GUARD_RETURNED)
        return ctx->faulted ? "it faulted" : "it could not be called";
    return c.err;
}

static void *call_unload(pio_ctx *ctx, int final)
{
    /* What the version registered ends before its unload hook frees what
     * those registrations point at: no timer, watch or adapter of it can
     * run with that state (the next version starts its own again). */
    services_release(ctx);
    hook_call c = {.ctx = ctx, .unload = unload_hook(ctx), .final = final};
    /* A faulted version's state is not trusted: its unload hook is not
     * called, and its successor starts fresh. */
    if (!c.unload || guard_call(ctx, "unload hook", NULL, run_hook, &c) != GUARD_RETURNED)
        return NULL;
    return final ? NULL : c.state;
}

/* A version that handed its state away gets it back (its timers, watches
 * and adapter were released by its unload): its load hook starts them
 * again. */
static void give_back(pio_ctx *before, void *state)
{
    const char *why = call_load(before, state);
    if (why)
        log_msg(PIO_LOG_ERROR, before->name,
                "load hook refused its own state back after a failed reload: %s", why);
}

static pio_ctx *ctx_named(const binding *b, const char *name)
{
    for (size_t i = 0; b && i < b->n_plugins; i++)
        if (b->plugins[i].ctx && strcmp(b->plugins[i].cfg->name, name) == 0)
            return b->plugins[i].ctx;
    return NULL;
}

/* Move the state of the versions in `from` to their successors in `to`
 * for plugins [0, count) of `to`: the reverse of a hand-off, to undo it. */
static void hand_back(binding *to, const binding *from, size_t count)
{
    for (size_t i = count; i-- > 0;) {
        pio_ctx *now = to->plugins[i].ctx;
        pio_ctx *before = ctx_named(from, to->plugins[i].cfg->name);
        if (before == now)
            continue;
        if (before)
            give_back(before, call_unload(now, 0));
        else
            call_unload(now, 1);
    }
}

bool binding_activate(binding *b, const binding *prev, char *err, size_t errlen)
{
    /* Routes the load hooks make are checked against the configuration
     * they will serve under. */
    routes_set_config(b->cfg);
    for (size_t i = 0; i < b->n_plugins; i++) {
        pio_ctx *now = b->plugins[i].ctx;
        pio_ctx *before = ctx_named(prev, b->plugins[i].cfg->name);
        if (before == now)
            continue; /* unchanged: nothing to hand over */
        void *state = before ? call_unload(before, 0) : NULL;
        const char *why = call_load(now, state);
        if (!why)
            continue;
        snprintf(err, errlen, "plugin '%s': load hook refused: %s", b->plugins[i].cfg->name, why);
        /* What it registered before refusing goes now, not at the
         * discard: the old version routes its paths again below. */
        services_release(now);
        routes_set_config(prev ? prev->cfg : NULL);
        /* The new version did not take the state: the old one gets it
         * back - unless the new one faulted holding it (it may have freed
         * or half-changed it): then the old one starts fresh, and the
         * state is left as it is, never freed by code that cannot trust it. */
        if (before && now->faulted && state) {
            log_msg(PIO_LOG_ERROR, b->plugins[i].cfg->name,
                    "its state is lost: the new version faulted in its load hook while "
                    "holding it; the serving version starts again without it");
            state = NULL;
        }
        if (before)
            give_back(before, state);
        hand_back(b, prev, i);
        return false;
    }
    return true;
}

/* Is ctx (a version of b) also a version in use by other? */
static bool carried(const pio_ctx *ctx, const binding *other)
{
    for (size_t i = 0; other && i < other->n_plugins; i++)
        if (other->plugins[i].ctx == ctx)
            return true;
    return false;
}

/* A version leaves service: no new calls, and its timers and watches die
 * with it (the last reference unmaps it). */
static void retire(pio_ctx *ctx)
{
    ctx->retired = true;
    services_release(ctx);
}

void binding_retire(binding *old, const binding *next)
{
    if (!old)
        return;
    for (size_t i = 0; i < old->n_plugins; i++) {
        pio_ctx *ctx = old->plugins[i].ctx;
        if (!ctx || carried(ctx, next))
            continue;
        if (!ctx_named(next, old->plugins[i].cfg->name))
            call_unload(ctx, 1);
        retire(ctx);
    }
    binding_destroy(old);
}

void binding_discard(binding *b, const binding *prev)
{
    for (size_t i = 0; b && i < b->n_plugins; i++)
        if (b->plugins[i].ctx && !carried(b->plugins[i].ctx, prev))
            retire(b->plugins[i].ctx);
    binding_destroy(b);
}
