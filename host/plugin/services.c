/*
 * services.c - host services for plugins: timers, descriptor watches and
 * blocking work run off the loop (the SDK's pio_timer_*, pio_fd_* and
 * pio_work_submit).
 *
 * Timers, watches and HTTP routes (routes.c) belong to the plugin version
 * that made them and are cancelled when that version is unloaded
 * (services_release), so none of them can call into code that is gone.  Work items hold a reference on
 * their version until their done callback has run.
 *
 * A watch adopts a dup() of the plugin's descriptor into the
 * libwebsockets loop (lws closes what it adopts; the plugin keeps its
 * own).  Work runs on WORKERS threads; finished items come back through
 * an eventfd adopted the same way, and their done callbacks run on the
 * loop in the order the work finished.  The host's own work (the Admin
 * UI's password checks: services_host_work) shares the workers, with no
 * version to hold and nothing to quarantine.
 */
#include "services.h"

#include "base/log.h"
#include "base/timer.h"
#include "ctx.h"
#include "guard.h"
#include "routes.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WORKERS 2

typedef struct plugin_timer {
    struct plugin_timer *next;
    uint64_t id;
    pio_ctx *ctx;            /* borrowed: released before the version goes */
    pio_timer_fn fn;
    void *userdata;
    uint32_t repeat_ms;
    timer t;
} plugin_timer;

typedef struct fd_watch {
    struct fd_watch *next;
    uint64_t id;
    pio_ctx *ctx;            /* borrowed, as for timers */
    int fd;                  /* the plugin's descriptor */
    unsigned events;
    pio_fd_fn fn;
    void *userdata;
    struct lws *wsi;         /* the adopted dup */
    bool dead;               /* unwatched: waiting for lws to close the dup */
} fd_watch;

typedef struct work_item {
    struct work_item *next;
    pio_ctx *ctx;            /* a reference; NULL for the host's own work */
    pio_work_fn work;
    pio_done_fn done;
    void *userdata;
    bool faulted;            /* the work function faulted (on its worker) */
} work_item;

static uint64_t last_id;
static plugin_timer *timers;
static fd_watch *watches;
static struct lws_vhost *vhost;
static const char *protocol_name;

static pthread_t workers[WORKERS];
static size_t n_workers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static work_item *todo, **todo_tail = &todo;   /* queued, not started */
static work_item *done_list, **done_tail = &done_list; /* finished */
static bool stopping;
static int done_fd = -1;
static struct lws *done_wsi;

/* ---- timers ------------------------------------------------------------ */

typedef struct timer_call {
    pio_ctx *ctx;
    pio_timer_fn fn;
    uint64_t id;
    void *userdata;
} timer_call;

static void call_timer(void *arg)
{
    timer_call *c = arg;
    c->fn(c->ctx, c->id, c->userdata);
}

static void timer_fired(timer *t)
{
    plugin_timer *pt = (plugin_timer *)((char *)t - offsetof(plugin_timer, t));
    /* The callback may cancel this very timer: read what follows first. */
    uint64_t id = pt->id;
    pio_ctx *ctx = pt->ctx;
    bool repeats = pt->repeat_ms != 0;
    if (repeats)
        timer_start(&pt->t, pt->repeat_ms, timer_fired);
    timer_call c = {ctx, pt->fn, id, pt->userdata};
    guard_call(ctx, "timer callback", NULL, call_timer, &c);
    if (!repeats)
        services_timer_cancel(ctx, id);
}

uint64_t services_timer_start(pio_ctx *ctx, uint32_t delay_ms, uint32_t repeat_ms, pio_timer_fn fn,
                              void *userdata)
{
    /* A retired version (finishing an ack or work item) starts nothing
     * that would outlive its code. */
    if (!ctx || !fn || ctx->retired)
        return 0;
    plugin_timer *pt = calloc(1, sizeof *pt);
    if (!pt)
        return 0;
    *pt = (plugin_timer){timers, ++last_id, ctx, fn, userdata, repeat_ms, {0}};
    timers = pt;
    timer_start(&pt->t, delay_ms, timer_fired);
    return pt->id;
}

int services_timer_cancel(pio_ctx *ctx, uint64_t id)
{
    for (plugin_timer **pp = &timers; *pp; pp = &(*pp)->next) {
        plugin_timer *pt = *pp;
        if (pt->id == id && pt->ctx == ctx) {
            *pp = pt->next;
            timer_stop(&pt->t);
            free(pt);
            return PIO_OK;
        }
    }
    return PIO_EINVAL;
}

/* ---- descriptor watches ------------------------------------------------ */

static void apply_interest(fd_watch *w)
{
    lws_rx_flow_control(w->wsi, (w->events & PIO_FD_READ) ? 1 : 0);
    if (w->events & PIO_FD_WRITE)
        lws_callback_on_writable(w->wsi);
}

uint64_t services_fd_watch(pio_ctx *ctx, int fd, unsigned events, pio_fd_fn fn, void *userdata)
{
    if (!ctx || !fn || fd < 0 || !vhost || ctx->retired)
        return 0;
    fd_watch *w = calloc(1, sizeof *w);
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (!w || copy < 0) {
        free(w);
        if (copy >= 0)
            close(copy);
        return 0;
    }
    *w = (fd_watch){.id = ++last_id, .ctx = ctx, .fd = fd, .events = events, .fn = fn,
                    .userdata = userdata};
    lws_sock_file_fd_type f = {.filefd = copy};
    w->wsi = lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, f, protocol_name, NULL);
    if (!w->wsi) {
        free(w); /* lws closed the copy */
        return 0;
    }
    lws_set_opaque_user_data(w->wsi, w);
    w->next = watches;
    watches = w;
    apply_interest(w);
    return w->id;
}

static fd_watch *find_watch(pio_ctx *ctx, uint64_t id)
{
    for (fd_watch *w = watches; w; w = w->next)
        if (w->id == id && w->ctx == ctx && !w->dead)
            return w;
    return NULL;
}

int services_fd_update(pio_ctx *ctx, uint64_t id, unsigned events)
{
    fd_watch *w = find_watch(ctx, id);
    if (!w)
        return PIO_EINVAL;
    w->events = events;
    apply_interest(w);
    return PIO_OK;
}

static void kill_watch(fd_watch *w)
{
    w->dead = true;
    lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

int services_fd_unwatch(pio_ctx *ctx, uint64_t id)
{
    fd_watch *w = find_watch(ctx, id);
    if (!w)
        return PIO_EINVAL;
    kill_watch(w);
    return PIO_OK;
}

static void forget_watch(fd_watch *w)
{
    for (fd_watch **pp = &watches; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    free(w);
}

typedef struct watch_call {
    fd_watch *w;
    unsigned events;
} watch_call;

static void run_watch(void *arg)
{
    watch_call *c = arg;
    c->w->fn(c->w->ctx, c->w->fd, c->events, c->w->userdata);
}

static void call_watch(fd_watch *w, unsigned events)
{
    watch_call c = {w, events};
    guard_call(w->ctx, "descriptor callback", NULL, run_watch, &c);
}

/* ---- blocking work ----------------------------------------------------- */

static void call_work(void *arg)
{
    work_item *w = arg;
    w->work(w->userdata);
}

static void call_done(void *arg)
{
    work_item *w = arg;
    w->done(w->ctx, w->userdata);
}

static void *worker_main(void *arg)
{
    (void)arg;
    guard_thread_init();
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!todo && !stopping)
            pthread_cond_wait(&wake, &lock);
        if (!todo)
            break;
        work_item *w = todo;
        todo = w->next;
        if (!todo)
            todo_tail = &todo;
        pthread_mutex_unlock(&lock);
        if (w->ctx)
            w->faulted = guard_call(w->ctx, "work function", NULL, call_work, w) != GUARD_RETURNED;
        else
            call_work(w); /* the host's: nothing to quarantine */
        pthread_mutex_lock(&lock);
        w->next = NULL;
        *done_tail = w;
        done_tail = &w->next;
        uint64_t one = 1;
        if (write(done_fd, &one, sizeof one) < 0 && errno != EAGAIN)
            log_error("work: cannot signal the loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static int submit(pio_ctx *ctx, pio_work_fn work, pio_done_fn done, void *userdata)
{
    if (!n_workers)
        return PIO_ESTATE;
    work_item *w = calloc(1, sizeof *w);
    if (!w)
        return PIO_ENOMEM;
    *w = (work_item){NULL, ctx ? ctx_ref(ctx) : NULL, work, done, userdata, false};
    pthread_mutex_lock(&lock);
    *todo_tail = w;
    todo_tail = &w->next;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    return PIO_OK;
}

int services_work_submit(pio_ctx *ctx, pio_work_fn work, pio_done_fn done, void *userdata)
{
    if (!ctx || !work || !done)
        return PIO_EINVAL;
    return submit(ctx, work, done, userdata);
}

int services_host_work(pio_work_fn work, pio_done_fn done, void *userdata)
{
    if (!work || !done)
        return PIO_EINVAL;
    return submit(NULL, work, done, userdata);
}

static void deliver_done(void)
{
    uint64_t count;
    if (read(done_fd, &count, sizeof count) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&lock);
    work_item *list = done_list;
    done_list = NULL;
    done_tail = &done_list;
    pthread_mutex_unlock(&lock);
    while (list) {
        work_item *w = list;
        list = w->next;
        if (!w->ctx)
            w->done(NULL, w->userdata);
        else if (w->faulted) /* on a worker: quarantined here, on the loop */
            guard_fault_seen(w->ctx);
        else
            guard_call(w->ctx, "work done callback", NULL, call_done, w);
        ctx_unref(w->ctx);
        free(w);
    }
}

/* ---- the lws protocol for plugin descriptors and the work eventfd ------ */

int services_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    (void)user, (void)in, (void)len;
    if (wsi == done_wsi) {
        if (reason == LWS_CALLBACK_RAW_RX_FILE)
            deliver_done();
        else if (reason == LWS_CALLBACK_RAW_CLOSE_FILE)
            done_wsi = NULL;
        return 0;
    }
    fd_watch *w = lws_get_opaque_user_data(wsi);
    if (!w)
        return 0;
    /* An unwatched descriptor is closed from its own next callback: its
     * kill is an lws timer, which on the ev loop waits for a quiet turn,
     * and a descriptor left readable (a pipe at EOF) would never allow
     * one. */
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (!w->dead && (w->events & PIO_FD_READ))
            call_watch(w, PIO_FD_READ);
        return w->dead ? -1 : 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (!w->dead && (w->events & PIO_FD_WRITE)) {
            call_watch(w, PIO_FD_WRITE);
            if (!w->dead && (w->events & PIO_FD_WRITE))
                lws_callback_on_writable(wsi);
        }
        return w->dead ? -1 : 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (!w->dead) {
            w->dead = true;
            call_watch(w, PIO_FD_HUP);
        }
        lws_set_opaque_user_data(wsi, NULL);
        forget_watch(w);
        return 0;
    default:
        return 0;
    }
}

bool services_init(struct lws_vhost *vh, const char *protocol)
{
    vhost = vh;
    protocol_name = protocol;
    done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (done_fd < 0)
        return false;
    lws_sock_file_fd_type f = {.filefd = done_fd};
    done_wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, f, protocol, NULL);
    if (!done_wsi)
        return false; /* lws closed done_fd */
    stopping = false;
    for (n_workers = 0; n_workers < WORKERS; n_workers++)
        if (pthread_create(&workers[n_workers], NULL, worker_main, NULL) != 0)
            break;
    return n_workers > 0;
}

static void (*release_hook)(pio_ctx *ctx);

void services_on_release(void (*fn)(pio_ctx *ctx)) { release_hook = fn; }

void services_release(pio_ctx *ctx)
{
    if (release_hook)
        release_hook(ctx);
    routes_release(ctx);
    for (plugin_timer **pp = &timers; *pp;) {
        plugin_timer *pt = *pp;
        if (pt->ctx == ctx) {
            *pp = pt->next;
            timer_stop(&pt->t);
            free(pt);
        } else {
            pp = &pt->next;
        }
    }
    for (fd_watch *w = watches; w; w = w->next)
        if (w->ctx == ctx && !w->dead)
            kill_watch(w);
}

void services_shutdown(void)
{
    pthread_mutex_lock(&lock);
    stopping = true;
    /* Work not started yet is dropped: its version is about to go. */
    work_item *dropped = todo;
    todo = NULL;
    todo_tail = &todo;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    for (size_t i = 0; i < n_workers; i++)
        pthread_join(workers[i], NULL);
    n_workers = 0;
    while (dropped) {
        work_item *w = dropped;
        dropped = w->next;
        if (!w->ctx) /* the host's: told, so that it frees what it gave */
            w->done(NULL, w->userdata);
        ctx_unref(w->ctx);
        free(w);
    }
    /* Work that finished still reports, while its plugin is loaded. */
    if (done_fd >= 0)
        deliver_done();
    while (timers) {
        plugin_timer *pt = timers;
        timers = pt->next;
        timer_stop(&pt->t);
        free(pt);
    }
    while (watches) {
        fd_watch *w = watches;
        watches = w->next;
        lws_set_opaque_user_data(w->wsi, NULL); /* lws closes the copy later */
        free(w);
    }
    routes_clear();
    vhost = NULL;
}
