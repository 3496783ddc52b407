/*
 * conn.c - hiredis on the host's loop, reconnecting (see conn.h).
 *
 * hiredis's ownership rules decide the shape of this file:
 *   - a context that fails to connect is freed by hiredis right after it
 *     called the connect callback with REDIS_ERR; one that loses its
 *     connection is freed right after the disconnect callback.  Either
 *     way the `cleanup` hook runs during that free, so cleanup is where
 *     the watch goes and c->ac becomes NULL;
 *   - when this file frees a context itself (the attempt's time ran out,
 *     ra_conn_stop) hiredis still calls the disconnect callback if it was
 *     connected, and every pending reply callback with a NULL reply:
 *     c->closing tells those callbacks not to react;
 *   - a new attempt only ever starts from a timer, never from inside a
 *     hiredis callback, so a context is never replaced while hiredis is
 *     still working on it.
 *
 * A connection is up once Redis answered its first commands (AUTH, then
 * SELECT for the publisher, then PING), not when the socket connected.
 *
 * The hook set is the one of hiredis 0.14 (Debian 12): addRead, delRead,
 * addWrite, delWrite, cleanup.  hiredis 1.x adds scheduleTimer, which it
 * calls only when a connect or command timeout is set; none is, because
 * the attempt's deadline is kept here with a pio timer (and hiredis 0.14
 * has no async timeouts at all).
 */
#include "conn.h"

#include <hiredis/sds.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
/* The TCP connect plus AUTH, SELECT and PING; an attempt that takes longer is
 * abandoned (a host that drops packets would otherwise hold it for the
 * kernel's minutes). */
#define ATTEMPT_DEADLINE_MS 5000

static void schedule_retry(ra_conn *c);

void ra_conn_init(ra_conn *c, pio_ctx *ctx, const ra_config *cfg, const char *role,
                  int select_db, ra_conn_fn on_up, ra_conn_fn on_down, void *userdata)
{
    memset(c, 0, sizeof *c);
    c->ctx = ctx;
    c->cfg = cfg;
    c->role = role;
    c->select_db = select_db;
    c->on_up = on_up;
    c->on_down = on_down;
    c->userdata = userdata;
    c->backoff_ms = BACKOFF_FIRST_MS;
}

static void set_error(ra_conn *c, const char *what, const char *detail)
{
    snprintf(c->error, sizeof c->error, "%s%s%s", what, detail && *detail ? ": " : "",
             detail ? detail : "");
}

static void cancel_timer(ra_conn *c, uint64_t *timer)
{
    if (*timer)
        pio_timer_cancel(c->ctx, *timer);
    *timer = 0;
}

/* An attempt or a connection ended (the context is gone or about to be
 * freed by hiredis): tell the owner and try again later. */
static void ended(ra_conn *c)
{
    c->up = 0;
    c->handshake = 0;
    cancel_timer(c, &c->deadline_timer);
    schedule_retry(c);
    c->on_down(c, c->userdata);
}

/* Frees the context from outside hiredis's callbacks, quietly. */
static void free_context(ra_conn *c)
{
    if (!c->ac)
        return;
    c->closing = 1;
    redisAsyncFree(c->ac); /* runs cleanup: c->ac = NULL */
    c->closing = 0;
    c->ac = NULL;
}

/* ---- the event hooks ---------------------------------------------- */

static void on_fd(pio_ctx *ctx, int fd, unsigned events, void *userdata)
{
    (void)ctx;
    (void)fd;
    ra_conn *c = userdata;
    redisAsyncContext *ac = c->ac;
    if (!ac)
        return;
    /* A hang-up or an error is read: hiredis then sees the end (or the
     * failed connect) and lets go of the context. */
    if (events & (PIO_FD_READ | PIO_FD_HUP))
        redisAsyncHandleRead(ac);
    if ((events & PIO_FD_WRITE) && c->ac == ac)
        redisAsyncHandleWrite(ac);
}

static void want(ra_conn *c, unsigned events)
{
    if (events == c->events)
        return;
    c->events = events;
    if (c->watch)
        pio_fd_update(c->ctx, c->watch, events);
}

static void ev_add_read(void *privdata)
{
    ra_conn *c = privdata;
    want(c, c->events | PIO_FD_READ);
}

static void ev_del_read(void *privdata)
{
    ra_conn *c = privdata;
    want(c, c->events & ~PIO_FD_READ);
}

static void ev_add_write(void *privdata)
{
    ra_conn *c = privdata;
    want(c, c->events | PIO_FD_WRITE);
}

static void ev_del_write(void *privdata)
{
    ra_conn *c = privdata;
    want(c, c->events & ~PIO_FD_WRITE);
}

static void ev_cleanup(void *privdata)
{
    ra_conn *c = privdata;
    if (c->watch)
        pio_fd_unwatch(c->ctx, c->watch);
    c->watch = 0;
    c->events = 0;
    c->ac = NULL;
}

/* ---- connecting ----------------------------------------------------- */

static void became_up(ra_conn *c)
{
    cancel_timer(c, &c->deadline_timer);
    c->up = 1;
    c->backoff_ms = BACKOFF_FIRST_MS;
    c->error[0] = '\0';
    c->on_up(c, c->userdata);
}

static void on_handshake_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    ra_conn *c = ac->data;
    const redisReply *r = reply;
    const char *what = privdata; /* "AUTH", "SELECT" or "PING" */
    if (!r || c->closing || c->handshake < 0)
        return; /* the context is being freed, or a step failed already */
    if (r->type == REDIS_REPLY_ERROR) {
        /* Logged by the owner, through on_down, once the connection has
         * closed; the password never appears, only Redis's answer. */
        set_error(c, what, r->str);
        c->handshake = -1;
        redisAsyncDisconnect(ac);
        return;
    }
    if (--c->handshake == 0)
        became_up(c);
}

static void on_connect(const redisAsyncContext *cac, int status)
{
    ra_conn *c = cac->data;
    redisAsyncContext *ac = c->ac;
    if (c->closing)
        return;
    if (status != REDIS_OK) {
        set_error(c, "connect", cac->errstr);
        ended(c); /* hiredis frees the context when this returns */
        return;
    }
    if (!c->cfg->socket)
        redisEnableKeepAlive(&ac->c); /* notices a peer that vanished */
    c->handshake = 0;
    const ra_config *cfg = c->cfg;
    int failed = 0;
    if (cfg->password && cfg->username) {
        failed |= redisAsyncCommand(ac, on_handshake_reply, "AUTH", "AUTH %s %s", cfg->username,
                                    cfg->password) != REDIS_OK;
        c->handshake++;
    } else if (cfg->password) {
        failed |= redisAsyncCommand(ac, on_handshake_reply, "AUTH", "AUTH %s", cfg->password) !=
                  REDIS_OK;
        c->handshake++;
    }
    if (c->select_db && cfg->db >= 0) {
        failed |= redisAsyncCommand(ac, on_handshake_reply, "SELECT", "SELECT %d", cfg->db) !=
                  REDIS_OK;
        c->handshake++;
    }
    /* Up only once Redis has answered a command: a server that wants a
     * password nobody configured, or has no room for another client,
     * answers with an error here instead of failing the first SUBSCRIBE
     * or PUBLISH of a connection that would look up. */
    failed |= redisAsyncCommand(ac, on_handshake_reply, "PING", "PING") != REDIS_OK;
    c->handshake++;
    if (failed) {
        set_error(c, "out of memory", NULL);
        c->handshake = -1;
        redisAsyncDisconnect(ac);
    }
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
    ra_conn *c = cac->data;
    if (c->closing)
        return;
    if (status != REDIS_OK)
        set_error(c, "connection lost", cac->errstr);
    else if (c->handshake >= 0)
        set_error(c, "connection closed", NULL);
    /* else: error[] holds the handshake step that failed */
    ended(c); /* hiredis frees the context when this returns */
}

static void on_deadline(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)ctx;
    (void)timer;
    ra_conn *c = userdata;
    c->deadline_timer = 0;
    set_error(c, c->ac && (c->ac->c.flags & REDIS_CONNECTED) ? "no answer from redis"
                                                              : "connect timed out",
              NULL);
    free_context(c);
    ended(c);
}

void ra_conn_start(ra_conn *c)
{
    if (c->stopped || c->ac)
        return;
    const ra_config *cfg = c->cfg;
    redisAsyncContext *ac =
        cfg->socket ? redisAsyncConnectUnix(cfg->socket) : redisAsyncConnect(cfg->host, cfg->port);
    if (!ac) {
        set_error(c, "out of memory", NULL);
        ended(c);
        return;
    }
    if (ac->err) {
        set_error(c, "connect", ac->errstr);
        redisAsyncFree(ac); /* never connected, no hooks yet: nothing runs */
        ended(c);
        return;
    }
    c->ac = ac;
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* The connect completes (or fails) when the socket turns writable;
     * hiredis asks for nothing until a command is queued, so ask here. */
    c->events = PIO_FD_WRITE;
    c->watch = pio_fd_watch(c->ctx, ac->c.fd, c->events, on_fd, c);
    c->deadline_timer = pio_timer_start(c->ctx, ATTEMPT_DEADLINE_MS, 0, on_deadline, c);
    if (!c->watch || !c->deadline_timer) {
        set_error(c, "out of memory", NULL);
        free_context(c);
        ended(c);
    }
}

static void on_retry(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)ctx;
    (void)timer;
    ra_conn *c = userdata;
    c->retry_timer = 0;
    ra_conn_start(c);
}

static void schedule_retry(ra_conn *c)
{
    if (c->stopped || c->retry_timer)
        return;
    c->retry_timer = pio_timer_start(c->ctx, c->backoff_ms, 0, on_retry, c);
    if (!c->retry_timer)
        pio_log(c->ctx, PIO_LOG_ERROR, "redis %s: cannot start a timer: no more reconnecting",
                c->role);
    c->backoff_ms = c->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

void ra_conn_stop(ra_conn *c)
{
    c->stopped = 1;
    cancel_timer(c, &c->retry_timer);
    cancel_timer(c, &c->deadline_timer);
    free_context(c);
    c->up = 0;
}

int ra_conn_command(ra_conn *c, redisCallbackFn *fn, void *privdata, const char *fmt, ...)
{
    if (!c->up || !c->ac)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = redisvAsyncCommand(c->ac, fn, privdata, fmt, ap);
    va_end(ap);
    return rc == REDIS_OK ? 0 : -1;
}

size_t ra_conn_backlog(const ra_conn *c)
{
    return c->ac && c->ac->c.obuf ? sdslen(c->ac->c.obuf) : 0;
}
