/*
 * reload.h - hot reload: a plugin file or the configuration file changed
 * (or SIGHUP asked), so build the next binding and swap it in while every
 * client stays connected.
 *
 * A reload is all or nothing: the new configuration is checked, each
 * changed plugin loaded from a fresh private copy, its descriptor checked,
 * every handler resolved, and the load hooks run (taking state from the
 * versions they replace) - only then does dispatch switch to the new
 * binding, between two events.  Any failure leaves the previous binding
 * serving, logs why, and counts it.
 */
#ifndef PIO_RELOAD_H
#define PIO_RELOAD_H

#include "plugin/binding.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct reload_stats {
    unsigned long done;     /* reloads that switched */
    unsigned long failed;   /* reloads that left the previous binding serving */
    unsigned long rollbacks; /* faulted versions replaced by their predecessor */
    unsigned long disabled; /* faulted versions with none to roll back to */
} reload_stats;

/* Start serving b: run its load hooks, make it current, and watch its
 * files. False (err set) when a load hook refuses. */
bool reload_start(binding *b, char *err, size_t errlen);
/* Files changed on disk (from the watcher). */
void reload_files(const char *const *paths, size_t n);
/* Reload the configuration and every plugin (SIGHUP). */
void reload_everything(void);
/* Stop: unload every plugin (final) and free the current binding. */
void reload_stop(void);

reload_stats reload_get_stats(void);
/* The durations of the reloads that switched (web/metrics.c). */
const struct histogram *reload_duration(void);

/* A plugin version faulted (guard_on_fault; takes the reference): it is
 * rolled back to the version it replaced, or disabled, on the next turn
 * of the loop. */
void reload_fault(pio_ctx *ctx);

#endif
