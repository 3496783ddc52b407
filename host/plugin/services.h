/*
 * services.h - host services for plugins: timers, descriptor watches,
 * blocking work off the loop (see services.c).
 */
#ifndef PIO_SERVICES_H
#define PIO_SERVICES_H

#include <plugio/plugio.h>

#include <libwebsockets.h>
#include <stdbool.h>

uint64_t services_timer_start(pio_ctx *ctx, uint32_t delay_ms, uint32_t repeat_ms, pio_timer_fn fn,
                              void *userdata);
int services_timer_cancel(pio_ctx *ctx, uint64_t id);
uint64_t services_fd_watch(pio_ctx *ctx, int fd, unsigned events, pio_fd_fn fn, void *userdata);
int services_fd_update(pio_ctx *ctx, uint64_t id, unsigned events);
int services_fd_unwatch(pio_ctx *ctx, uint64_t id);
int services_work_submit(pio_ctx *ctx, pio_work_fn work, pio_done_fn done, void *userdata);
/* The host's own blocking work (a password check) on the same workers:
 * done(NULL, userdata) runs on the loop once work has - or, for work not
 * started when the workers stop, instead of it. */
int services_host_work(pio_work_fn work, pio_done_fn done, void *userdata);

/* Start the workers; adopt descriptors into vh under `protocol`, whose
 * callback is services_callback. */
bool services_init(struct lws_vhost *vh, const char *protocol);
int services_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);
/* A plugin version is being unloaded: cancel its timers, watches and
 * HTTP routes. */
void services_release(pio_ctx *ctx);
/* Have fn told first whenever a version is released (the Socket.IO
 * layer removes the version's adapter); NULL stops telling. */
void services_on_release(void (*fn)(pio_ctx *ctx));
/* Stop the workers (work not started is dropped), deliver finished work,
 * forget every timer, watch and route. */
void services_shutdown(void);

#endif
