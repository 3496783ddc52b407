/*
 * sio_stats.c - the Socket.IO layer's counters (see sio_stats.h).
 *
 * Slots and plugin entries are only ever added: a name a reload drops
 * keeps its counter (Prometheus counters must not go back), and the set
 * stays bounded by the names the configurations named.  Every lookup
 * table is rebuilt when a binding becomes current; a failure to allocate
 * leaves the counting coarser (_other, untimed), never wrong.
 */
#include "sio_stats.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

sio_stats sio_counters;

static const char *const fixed_names[SIO_STATS_FIXED] = {"_other", "connect", "disconnect"};

static bool add_event(const char *label)
{
    sio_stats *st = &sio_counters;
    if (st->n_events == st->cap_events) {
        size_t cap = st->cap_events ? st->cap_events * 2 : 16;
        sio_stats_event **list = realloc(st->events, cap * sizeof *list);
        if (!list)
            return false;
        st->events = list;
        st->cap_events = cap;
    }
    sio_stats_event *e = calloc(1, sizeof *e);
    if (e && !(e->name = strdup(label))) {
        free(e);
        e = NULL;
    }
    if (!e)
        return false;
    st->events[st->n_events++] = e;
    return true;
}

/* The fixed slots, and the names that map to them, once. */
static bool ensure_fixed(void)
{
    sio_stats *st = &sio_counters;
    while (st->n_events < SIO_STATS_FIXED)
        if (!add_event(fixed_names[st->n_events]))
            return false;
    /* Keys are borrowed: these are literals.  A configured name equal to
     * a fixed label shares its slot, so no label value appears twice. */
    static const struct {
        const char *name;
        uintptr_t slot;
    } keys[] = {{"_other", SIO_STATS_OTHER},
                {"connect", SIO_STATS_CONNECT},
                {"connection", SIO_STATS_CONNECT},
                {"disconnect", SIO_STATS_DISCONNECT}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strmap_get(&st->by_name, keys[i].name) &&
            !strmap_put(&st->by_name, keys[i].name, (void *)(keys[i].slot + 1)))
            return false;
    return true;
}

static uint32_t find_slot(const char *name)
{
    uintptr_t v = (uintptr_t)strmap_get(&sio_counters.by_name, name);
    return v ? (uint32_t)(v - 1) : SIO_STATS_OTHER;
}

/* The slot of a configured name, added when new; _other when out of memory. */
static uint32_t slot_of(const char *name)
{
    sio_stats *st = &sio_counters;
    uintptr_t v = (uintptr_t)strmap_get(&st->by_name, name);
    if (v)
        return (uint32_t)(v - 1);
    if (!add_event(name))
        return SIO_STATS_OTHER;
    uint32_t slot = (uint32_t)(st->n_events - 1);
    if (!strmap_put(&st->by_name, st->events[slot]->name, (void *)(uintptr_t)(slot + 1))) {
        /* Taken back: a label the map does not know would be added again
         * at the next bind, and a scrape must not name it twice. */
        free(st->events[slot]->name);
        free(st->events[slot]);
        st->n_events--;
        return SIO_STATS_OTHER;
    }
    return slot;
}

static sio_stats_plugin *plugin_of(const char *name)
{
    sio_stats *st = &sio_counters;
    if (!name)
        return NULL;
    for (size_t i = 0; i < st->n_plugins; i++) /* bounded by the configured plugins, at bind only */
        if (strcmp(st->plugins[i]->name, name) == 0)
            return st->plugins[i];
    if (st->n_plugins == st->cap_plugins) {
        size_t cap = st->cap_plugins ? st->cap_plugins * 2 : 8;
        sio_stats_plugin **list = realloc(st->plugins, cap * sizeof *list);
        if (!list)
            return NULL;
        st->plugins = list;
        st->cap_plugins = cap;
    }
    sio_stats_plugin *p = calloc(1, sizeof *p);
    if (p && !(p->name = strdup(name))) {
        free(p);
        p = NULL;
    }
    if (!p)
        return NULL;
    p->handler = (histogram)HISTOGRAM_INIT(&histogram_call_bounds);
    p->middleware = (histogram)HISTOGRAM_INIT(&histogram_call_bounds);
    st->plugins[st->n_plugins++] = p;
    return p;
}

static void unbind(void)
{
    sio_stats *st = &sio_counters;
    free(st->event_slot);
    free(st->event_plugin);
    free(st->middleware_plugin);
    st->event_slot = NULL;
    st->event_plugin = NULL;
    st->middleware_plugin = NULL;
    st->bound = NULL;
    st->timed = false;
}

void sio_stats_bind(const binding *b)
{
    sio_stats *st = &sio_counters;
    unbind();
    if (!b || !ensure_fixed())
        return;
    size_t ne = b->n_events ? b->n_events : 1, nm = b->n_middleware ? b->n_middleware : 1;
    st->event_slot = calloc(ne, sizeof *st->event_slot);
    st->event_plugin = calloc(ne, sizeof *st->event_plugin);
    st->middleware_plugin = calloc(nm, sizeof *st->middleware_plugin);
    if (!st->event_slot || !st->event_plugin || !st->middleware_plugin) {
        unbind();
        return;
    }
    for (size_t i = 0; i < b->n_events; i++) {
        const config_event *e = b->events[i].cfg;
        /* serverEvents come from other servers, not clients: timed, not counted. */
        st->event_slot[i] = e->name && !e->server ? slot_of(e->name) : SIO_STATS_OTHER;
        st->event_plugin[i] = plugin_of(e->handler.plugin);
    }
    for (size_t i = 0; i < b->n_middleware; i++)
        st->middleware_plugin[i] = plugin_of(b->middleware[i].cfg->handler.plugin);
    st->bound = b;
    st->timed = b->cfg && b->cfg->metrics.enabled;
}

void sio_stats_free(void)
{
    sio_stats *st = &sio_counters;
    unbind();
    for (size_t i = 0; i < st->n_events; i++) {
        free(st->events[i]->name);
        free(st->events[i]);
    }
    free(st->events);
    for (size_t i = 0; i < st->n_plugins; i++) {
        free(st->plugins[i]->name);
        free(st->plugins[i]);
    }
    free(st->plugins);
    strmap_free(&st->by_name);
    memset(st, 0, sizeof *st);
}

/* ev's index in the bound binding, or -1. */
static ptrdiff_t index_of(const bound_event *ev)
{
    const binding *b = sio_counters.bound;
    if (!b || !ev || ev < b->events || ev >= b->events + b->n_events)
        return -1;
    return ev - b->events;
}

void sio_stats_received(const bound_event *ev, const char *name)
{
    sio_stats *st = &sio_counters;
    if (st->n_events < SIO_STATS_FIXED)
        return; /* nothing bound yet */
    ptrdiff_t i = index_of(ev);
    uint32_t slot = i >= 0 ? st->event_slot[i] : find_slot(name);
    st->events[slot]->received++;
}

void sio_stats_emitted(const char *name)
{
    sio_stats *st = &sio_counters;
    if (!st->timed || st->n_events < SIO_STATS_FIXED)
        return; /* a name lookup per emit, spent only while someone scrapes */
    st->events[find_slot(name)]->emitted++;
}

sio_stats_plugin *sio_stats_event_plugin(const bound_event *ev)
{
    ptrdiff_t i = sio_counters.timed ? index_of(ev) : -1;
    return i >= 0 ? sio_counters.event_plugin[i] : NULL;
}

sio_stats_plugin *sio_stats_middleware_plugin(const bound_middleware *m)
{
    const binding *b = sio_counters.bound;
    if (!b || !sio_counters.timed || !m || m < b->middleware || m >= b->middleware + b->n_middleware)
        return NULL;
    return sio_counters.middleware_plugin[m - b->middleware];
}
