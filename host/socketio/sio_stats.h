/*
 * sio_stats.h - the Socket.IO layer's counters, for web/metrics.c: events
 * received and emitted per event name, broadcast deliveries, volatile
 * packets dropped, and the time handlers and middleware take per plugin.
 *
 * Counters are plain integers bumped on the loop thread.  Event names are
 * bounded by the configuration: each name of `events:` gets a slot (kept
 * across reloads, so a counter never goes back), "connection" and
 * "disconnect" count as `connect` and `disconnect`, and every other name
 * a client sends or a plugin emits falls into one slot, `_other`, so a
 * client cannot grow the scrape.  When a binding becomes current
 * (sio_stats_bind) each of its events is given its slot and its plugin's
 * histograms, so counting a dispatched event is an array index, not a
 * string lookup; only an event without a handler, and an emit (whose
 * name is the plugin's string), look the name up - an emit only while
 * server.metrics is on.  What can be computed
 * at scrape (sockets per namespace, acks pending) is computed there.
 */
#ifndef PIO_SIO_STATS_H
#define PIO_SIO_STATS_H

#include "base/histogram.h"
#include "base/strmap.h"
#include "plugin/binding.h"

#include <stddef.h>
#include <stdint.h>

enum { SIO_STATS_OTHER, SIO_STATS_CONNECT, SIO_STATS_DISCONNECT, SIO_STATS_FIXED };

/* One event name: its label, and the counters under it. */
typedef struct sio_stats_event {
    char *name;                 /* owned; the label value */
    uint64_t received;          /* dispatched to a handler, or found none */
    uint64_t emitted;           /* emits and broadcasts (each once, whatever
                                   the number of recipients) */
} sio_stats_event;

/* One plugin (by its name in the configuration, across its versions). */
typedef struct sio_stats_plugin {
    char *name;                 /* owned */
    histogram handler;          /* event handlers (serverEvents' included) */
    histogram middleware;
} sio_stats_plugin;

typedef struct sio_stats {
    uint64_t broadcast_deliveries; /* recipients a broadcast was queued for */
    uint64_t volatile_dropped;     /* volatile broadcasts left out for a busy transport */
    sio_stats_event **events;      /* [0..SIO_STATS_FIXED) as the enum; then configured names */
    size_t n_events, cap_events;
    strmap by_name;                /* config name -> slot + 1 (as a pointer) */
    sio_stats_plugin **plugins;
    size_t n_plugins, cap_plugins;
    /* The current binding's (sio_stats_bind): per bound event, its slot and
     * its plugin; per middleware, its plugin.  NULL when it could not be
     * built (out of memory): everything then counts as _other, untimed. */
    const binding *bound;
    bool timed;                    /* server.metrics is on: handlers and middleware are
                                      timed (two clock reads a call) and emits counted (a
                                      name lookup each); else neither */
    uint32_t *event_slot;
    sio_stats_plugin **event_plugin;
    sio_stats_plugin **middleware_plugin;
} sio_stats;

/* The one instance (sio_stats.c). */
extern sio_stats sio_counters;

/* b became current (sio_set_binding); NULL: none. */
void sio_stats_bind(const binding *b);
/* Free everything (at shutdown). */
void sio_stats_free(void);

/* An event reached dispatch: ev its handler in the current binding, or
 * NULL, when `name` is looked up. */
void sio_stats_received(const bound_event *ev, const char *name);
/* A plugin emitted or broadcast `name`: counted only while server.metrics
 * is on (the name is looked up), so the emit counters start at the
 * reload that turns metrics on. */
void sio_stats_emitted(const char *name);
/* The histograms of ev's or m's plugin in the current binding, or NULL
 * (also while server.metrics is off: nothing is timed then). */
sio_stats_plugin *sio_stats_event_plugin(const bound_event *ev);
sio_stats_plugin *sio_stats_middleware_plugin(const bound_middleware *m);

#endif
