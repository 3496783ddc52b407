/*
 * watch.h - watching the configuration and plugin files for changes.
 *
 * inotify watches each file's directory, not the file: a linker replaces
 * the file (unlink + create) and `cp` rewrites it in place, and only a
 * directory watch sees both.  A file counts as changed when a writer
 * closes it or it is renamed into place - never while it is being
 * written.  Changes are debounced: the callback runs once the files have
 * been quiet for WATCH_DEBOUNCE_MS, with every path that changed.
 */
#ifndef PIO_WATCH_H
#define PIO_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#define WATCH_DEBOUNCE_MS 1

/* Called with the changed paths (as given to watch_set), borrowed. */
typedef void (*watch_fn)(const char *const *paths, size_t n);

/* Create the inotify instance; returns its fd (non-blocking) or -1. */
int watch_init(watch_fn fn);
/* Watch exactly these files from now on (absolute paths, copied). */
bool watch_set(const char *const *paths, size_t n);
/* Read and handle everything pending on the inotify fd. */
void watch_drain(void);
/* Forget everything; the fd itself is closed by whoever adopted it. */
void watch_shutdown(void);

#endif
