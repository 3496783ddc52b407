/*
 * ctx.h - the context of one plugin version (the SDK's pio_ctx), and
 * which version is running now.
 *
 * A context is reference counted so that its version's code stays mapped
 * while anything can still call it: the binding holds one reference, and
 * so does every registration a plugin makes (a pending ack callback, a
 * work item).  The host calls into plugin code only between ctx_enter and
 * ctx_leave, so a host service knows which version called it.
 */
#ifndef PIO_CTX_H
#define PIO_CTX_H

#include "plugin.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct pio_ctx {
    unsigned refs;
    char *name;             /* owned; the plugin's name in the config */
    json_object *config;    /* a reference to the plugin's config block */
    plugin_image *image;    /* a reference */
    bool retired;           /* unloaded: may finish what it has pending,
                               but start no timer or watch */
    bool faulted;           /* its code faulted or overran (guard.h): it is
                               never called again */
    uint32_t timeout_ms;    /* plugins.<name>.timeoutMs: the longest a call
                               into it may run; 0 (as created) for no limit */
};

/* A context for the version img of plugin `name` with its config block:
 * takes img's reference over, takes one on config, copies name.  NULL when
 * out of memory; img is then still the caller's. */
pio_ctx *ctx_create(const char *name, json_object *config, plugin_image *img);
pio_ctx *ctx_ref(pio_ctx *ctx);
void ctx_unref(pio_ctx *ctx);

/* Every call into plugin code is bracketed by ctx_enter/ctx_leave, so a
 * host service knows which plugin version called it (to tie what it
 * registers to that version).  Calls nest: a handler that disconnects a
 * socket runs the disconnect handler inside its own call. */
pio_ctx *ctx_enter(pio_ctx *ctx);   /* returns the previous one */
void ctx_leave(pio_ctx *previous);
pio_ctx *ctx_running(void);         /* NULL when no plugin code runs */

/* Drop one reference of obj (with unref) when the outermost plugin call
 * returns: what the SDK lends "for the current call" lives that long. */
void ctx_lend(void *obj, void (*unref)(void *));

#endif
