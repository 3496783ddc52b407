/*
 * watch.c - inotify on the directories of the watched files (see watch.h).
 */
#include "watch.h"

#include "log.h"
#include "timer.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIR_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO)

typedef struct watched {
    char *path;     /* as given */
    char *name;     /* its last component, inside path */
    int wd;         /* the watch on its directory */
    bool changed;
} watched;

static void quiet_again(timer *t);

static int ifd = -1;
static watch_fn callback;
static watched *files;
static size_t n_files;
static timer debounce;

int watch_init(watch_fn fn)
{
    callback = fn;
    ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return ifd;
}

static void forget_all(void)
{
    /* inotify_add_watch returns the same wd for one directory, so remove
     * each wd once. */
    for (size_t i = 0; i < n_files; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= files[j].wd == files[i].wd;
        if (!seen && files[i].wd >= 0 && ifd >= 0)
            inotify_rm_watch(ifd, files[i].wd);
        free(files[i].path);
    }
    free(files);
    files = NULL;
    n_files = 0;
}

/* Whether `path` is among the files changed and not yet reported. */
static bool pending_change(const char *path)
{
    for (size_t i = 0; i < n_files; i++)
        if (files[i].changed && strcmp(files[i].path, path) == 0)
            return true;
    return false;
}

bool watch_set(const char *const *paths, size_t n)
{
    /* A change already seen, or queued on the old watches (whose events
     * are lost once they are removed), is still reported for a path that
     * stays watched: a reload - or a rollback - that resets the list
     * while a new build lands must not swallow it. */
    watch_drain();
    bool *carried = calloc(n ? n : 1, sizeof *carried);
    bool any = false;
    for (size_t i = 0; carried && i < n; i++)
        any |= carried[i] = pending_change(paths[i]);
    forget_all();
    if (ifd < 0 || !carried) {
        free(carried);
        return false;
    }
    files = calloc(n ? n : 1, sizeof *files);
    if (!files) {
        free(carried);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        watched *w = &files[n_files];
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", paths[i]);
        if (!(w->path = strdup(paths[i]))) {
            free(carried);
            return false;
        }
        w->changed = carried[i];
        char *slash = strrchr(w->path, '/');
        w->name = slash ? slash + 1 : w->path;
        w->wd = inotify_add_watch(ifd, dirname(dir), DIR_EVENTS);
        if (w->wd < 0) {
            log_warn("cannot watch %s: %s", paths[i], strerror(errno));
            ok = false;
        }
        n_files++;
    }
    free(carried);
    if (any)
        timer_start(&debounce, WATCH_DEBOUNCE_MS, quiet_again);
    return ok;
}

/* The callback may call watch_set, which frees `files`: it gets copies. */
static void quiet_again(timer *t)
{
    (void)t;
    char **changed = calloc(n_files ? n_files : 1, sizeof *changed);
    if (!changed)
        return;
    size_t n = 0;
    for (size_t i = 0; i < n_files; i++) {
        if (files[i].changed && (changed[n] = strdup(files[i].path)) != NULL) {
            files[i].changed = false;
            n++;
        }
    }
    if (n)
        callback((const char *const *)changed, n);
    for (size_t i = 0; i < n; i++)
        free(changed[i]);
    free(changed);
}

void watch_drain(void)
{
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t len;
    bool any = false;
    while ((len = read(ifd, events, sizeof events)) > 0) {
        for (char *p = events; p < events + len;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (!e->len || !(e->mask & DIR_EVENTS))
                continue;
            for (size_t i = 0; i < n_files; i++) {
                if (files[i].wd == e->wd && strcmp(files[i].name, e->name) == 0) {
                    files[i].changed = true;
                    any = true;
                }
            }
        }
    }
    if (any)
        timer_start(&debounce, WATCH_DEBOUNCE_MS, quiet_again);
}

void watch_shutdown(void)
{
    timer_stop(&debounce);
    forget_all();
    ifd = -1;
}
