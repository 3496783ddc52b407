/*
 * conn.h - one hiredis connection to Redis, driven by the host's event
 * loop, that keeps itself connected.
 *
 * hiredis's async API does the protocol; this module gives it the host's
 * loop through hiredis's event hooks (pio_fd_watch for the socket,
 * pio_timer_start for time limits): no thread, no event library.  After
 * the TCP (or Unix) connect it sends AUTH and, for the publishing
 * connection, SELECT, then PING; only when Redis answered them all is the
 * connection `up`.
 * Whenever an attempt or a connection ends it tries again, after 100 ms
 * first and twice as long each time after, up to 5 s.
 */
#ifndef RA_CONN_H
#define RA_CONN_H

#include "config.h"

#include <hiredis/async.h>
#include <plugio/plugio.h>

#include <stddef.h>
#include <stdint.h>

typedef struct ra_conn ra_conn;
typedef void (*ra_conn_fn)(ra_conn *c, void *userdata);

struct ra_conn {
    /* Set by ra_conn_init. */
    pio_ctx *ctx;
    const ra_config *cfg;
    const char *role;   /* "publisher" or "subscriber", for log lines */
    int select_db;      /* SELECT cfg->db once connected */
    ra_conn_fn on_up;   /* up: commands may be sent */
    ra_conn_fn on_down; /* an attempt or a connection ended; error[] says why */
    void *userdata;

    /* Kept by conn.c. */
    redisAsyncContext *ac; /* NULL between attempts */
    uint64_t watch;        /* the socket's pio_fd_watch */
    unsigned events;       /* PIO_FD_* hiredis wants now */
    uint64_t retry_timer;
    uint64_t deadline_timer; /* ends an attempt that takes too long */
    uint32_t backoff_ms;     /* the wait before the next attempt */
    int handshake;           /* AUTH / SELECT / PING replies to come; -1: one failed */
    int up;
    int closing; /* conn.c frees the context itself: its callbacks stand aside */
    int stopped; /* ra_conn_stop ran: no more attempts */
    char error[160];
};

void ra_conn_init(ra_conn *c, pio_ctx *ctx, const ra_config *cfg, const char *role,
                  int select_db, ra_conn_fn on_up, ra_conn_fn on_down, void *userdata);
/* The first attempt, now.  Whatever happens is told through on_up and
 * on_down. */
void ra_conn_start(ra_conn *c);
/* Close for good: the context is freed (hiredis runs every pending
 * callback with a NULL reply, in this version's code), timers cancelled,
 * and neither on_up nor on_down runs again.  Never from inside one of
 * this connection's hiredis callbacks. */
void ra_conn_stop(ra_conn *c);

/* A command, as redisAsyncCommand, when the connection is up: 0, or -1
 * when it is not up or hiredis refused (then fn never runs). */
int ra_conn_command(ra_conn *c, redisCallbackFn *fn, void *privdata, const char *fmt, ...);
/* Bytes written to hiredis but not yet to the socket. */
size_t ra_conn_backlog(const ra_conn *c);

#endif
