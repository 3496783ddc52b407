/*
 * server.c - the server process (see server.h).
 *
 * One libwebsockets context with one vhost: protocol 0 serves Socket.IO
 * over HTTP and WebSocket (http.c), protocol 1 carries the host's own file
 * descriptors: the signalfd, so that SIGINT, SIGTERM and SIGHUP are
 * handled inside the loop rather than in a signal handler, and the
 * inotify descriptor that drives hot reload.
 *
 * The event loop is plugio's: a libev loop on its epoll backend, created
 * here and handed to lws as a foreign loop (LWS_SERVER_OPTION_LIBEV), so a
 * turn costs what the ready descriptors cost, not what the open ones do
 * (lws's default loop polls and walks every descriptor each turn).  lws
 * keeps its own watchers on it (connections, adopted descriptors, its
 * timers, lws_cancel_service's pipe); plugio's timer heap has a libev
 * timer of its own (timer.c).  With a foreign loop lws_service no longer
 * runs the loop: plugio runs it, and stops it with ev_break from a
 * callback on the loop itself.
 *
 * lws 4.1.6's libev glue services lws's own timers (lws_set_timeout,
 * async kills) and buffered reads from an idle watcher, which libev runs
 * on a turn with nothing else pending: while the server is saturated they
 * wait for the first quiet turn.  plugio never depends on them to make
 * progress: WebSocket output is written at the end of each turn (an
 * ev_prepare: http_flush_deferred), a closed plugin descriptor from its
 * own callback (services.c).
 *
 * lws cannot notice a client that leaves while its poll is held (the
 * connection is flow-controlled), so once a second the held polls are
 * peeked and a closed one is killed.
 */
#include "server.h"

#include "base/histogram.h"
#include "base/log.h"
#include "base/timer.h"
#include "base/watch.h"
#include "engineio/eio_session.h"
#include "engineio/http.h"
#include "engineio/ws_deflate.h"
#include "engineio/zip.h"
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "plugin/handoff.h"
#include "plugin/services.h"
#include "reload.h"
#include "socketio/adapter.h"
#include "socketio/rooms.h"
#include "socketio/sio_client.h"
#include "socketio/sio_recovery.h"
#include "socketio/sio_stats.h"
#include "web/admin.h"
#include "web/site.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PEER_CHECK_MS 1000
#define SHUTDOWN_FLUSH_MS 500

static struct lws_context *context;
static struct ev_loop *loop;
static ev_prepare turn_end;
static ev_check turn_start;
static bool stopping;
static int signal_fd = -1;
static timer peer_check;
/* A turn's busy time, from the loop's waking (ev_check) to its next wait
 * (ev_prepare): two clock reads a turn. */
static histogram turn_time = HISTOGRAM_INIT(&histogram_call_bounds);
static uint64_t turn_began;

static void lws_logger(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    log_msg(level == LLL_ERR ? PIO_LOG_ERROR : level == LLL_WARN ? PIO_LOG_WARN : PIO_LOG_DEBUG,
            LOG_LWS, "%.*s", (int)n, line);
}

static int sys_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    (void)user, (void)in, (void)len;
    if (reason != LWS_CALLBACK_RAW_RX_FILE)
        return 0;
    int fd = lws_get_socket_fd(wsi);
    if (fd != signal_fd) {
        watch_drain();
        return 0;
    }
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            reload_everything();
        } else {
            log_info("%s: shutting down", strsignal((int)si.ssi_signo));
            stopping = true;
            ev_break(loop, EVBREAK_ALL);
        }
    }
    return 0;
}

/* Before the loop waits again: the replies of this turn go out. */
static void on_turn_end(struct ev_loop *l, ev_prepare *w, int revents)
{
    (void)l, (void)w, (void)revents;
    http_flush_deferred();
    guard_loop_idle();
    if (turn_began)
        histogram_observe(&turn_time, clock_ns() - turn_began);
}

/* The loop woke: the watchdog times the turn from here. */
static void on_turn_start(struct ev_loop *l, ev_check *w, int revents)
{
    (void)l, (void)w, (void)revents;
    guard_loop_busy();
    turn_began = clock_ns();
}

const histogram *server_turn_time(void) { return &turn_time; }

bool server_stopping(void) { return stopping; }

/* lws arms its own timer (its suls: lws_set_timeout, async kills) only
 * from its callbacks on the loop.  plugio's timers run outside them, so
 * after each batch lws is woken through its cancel pipe, and re-arms. */
static void after_timers(void)
{
    if (context)
        lws_cancel_service(context);
}

static void check_held_polls(timer *t)
{
    http_check_held_polls();
    timer_start(t, PEER_CHECK_MS, check_held_polls);
}

static int block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static bool adopt(struct lws_vhost *vh, int fd)
{
    lws_sock_file_fd_type f = {.filefd = fd};
    return lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, f, "plugio-sys", NULL) != NULL;
}

typedef struct init_call {
    binding *b;
    const char *err;
} init_call;

static void call_init(void *arg)
{
    init_call *c = arg;
    c->err = c->b->init(c->b->init_ctx);
}

static bool run_init(binding *b)
{
    if (!b->init)
        return true;
    init_call c = {b, NULL};
    if (guard_call(b->init_ctx, "init hook", b->cfg->init.symbol, call_init, &c) != GUARD_RETURNED)
        c.err = "it faulted";
    const char *err = c.err;
    if (err) {
        log_error("hooks.init (%s:%s) failed: %s", b->cfg->init.plugin, b->cfg->init.symbol, err);
        return false;
    }
    return true;
}

static void close_session(eio_session *s, void *ud)
{
    (void)ud;
    eio_session_close(s, "server shutting down");
}

static uint64_t flush_deadline;
static bool flushed;

/* The flush is ended by a timer on the loop: when every session is gone,
 * or at the deadline. */
static void check_flushed(timer *t)
{
    if (eio_sessions_alive() == 0 || timer_now() >= flush_deadline) {
        flushed = true;
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    timer_start(t, 10, check_flushed);
}

static void shutdown_sessions(void)
{
    static timer flush_timer;
    eio_sessions_refuse(); /* the listener stays open while flushing */
    eio_sessions_each(close_session, NULL);
    /* Give held polls and WebSockets a moment to carry the close out. */
    flush_deadline = timer_now() + SHUTDOWN_FLUSH_MS;
    timer_start(&flush_timer, 0, check_flushed);
    if (!flushed)
        ev_run(loop, 0);
    timer_stop(&flush_timer);
    eio_sessions_each(close_session, NULL); /* none should be left */
}

/* Raise the soft descriptor limit to the hard one (at most 1 Mi: lws sizes
 * its descriptor tables from it, as zeroed memory that stays unresident
 * until used), log both, and return the connections it leaves room for:
 * a reserve is kept for plugins, reloaded plugin copies, inotify and
 * accepts over the limit that are answered 503 rather than failing. */
static size_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rlim_t soft = rl.rlim_cur, want = rl.rlim_max;
    if (want == RLIM_INFINITY || want > (1u << 20))
        want = 1u << 20;
    if (want > soft) {
        struct rlimit raised = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = want;
    }
    size_t limit = (size_t)rl.rlim_cur;
    size_t reserve = limit / 4 < 1024 ? limit / 4 : 1024;
    log_info("descriptors: soft limit %llu (was %llu), hard %llu: room for %zu connections",
             (unsigned long long)rl.rlim_cur, (unsigned long long)soft,
             (unsigned long long)rl.rlim_max, limit - reserve);
    return limit - reserve;
}

/* Bytes past server.maxHeaderSize that a request head may overflow into
 * and still be answered with 431 rather than dropped by lws. */
#define HEAD_SLACK 8192

/* ---- set-up and tear-down, in matching steps ---------------------------
 *
 * Each close_* undoes its open_*, and is safe to call when the open did not
 * happen or stopped part way. */

static int watch_fd = -1;
static bool signal_adopted, watch_adopted; /* lws closes them then */

/* The process: the descriptor limit, signals (as a descriptor), inotify. */
static bool open_process(const config *cfg)
{
    size_t ceiling = raise_fd_limit();
    http_set_connection_ceiling(ceiling);
    if (cfg->max_connections > ceiling && ceiling)
        log_warn("server.maxConnections %u is more than the descriptor limit leaves room for: "
                 "%zu",
                 cfg->max_connections, ceiling);
    sigset_t set;
    signal_fd = block_signals(&set);
    watch_fd = watch_init(reload_files);
    if (signal_fd < 0 || watch_fd < 0) {
        log_error("cannot set up %s: %s", signal_fd < 0 ? "signals" : "inotify", strerror(errno));
        return false;
    }
    lws_set_log_level(log_enabled(PIO_LOG_DEBUG) ? (LLL_ERR | LLL_WARN) : LLL_ERR, lws_logger);
    return true;
}

static void close_process(void)
{
    if (signal_fd >= 0 && !signal_adopted)
        close(signal_fd);
    if (watch_fd >= 0 && !watch_adopted)
        close(watch_fd);
    signal_fd = watch_fd = -1;
    signal_adopted = watch_adopted = false;
    watch_shutdown();
}

/* The event loop and the listener: plugio's libev loop, the lws context
 * attached to it, the layers wired (options, events, transport), signals,
 * inotify and plugin services on the loop, timers, the turn's end. */
static bool open_loop(const config *cfg)
{
    static struct lws_protocols protocols[4];
    protocols[0] = (struct lws_protocols){
        .name = "plugio",
        .callback = http_callback,
        .per_session_data_size = http_conn_size(),
        /* lws allocates the rx buffer per connection: 256 bytes keeps an
         * idle connection near 2 KB (4096 would be 5 KB).  Messages larger
         * than it arrive in pieces, which http.c reassembles; an explicit
         * tx_packet_size keeps large sends fast (LIBWEBSOCKETS.md 5). */
        .rx_buffer_size = 256,
        .tx_packet_size = 65536,
    };
    protocols[1] = (struct lws_protocols){.name = "plugio-sys", .callback = sys_callback};
    protocols[2] = (struct lws_protocols){.name = "plugio-fd", .callback = services_callback};

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    bool any4 = strcmp(cfg->host, "0.0.0.0") == 0;
    bool any6 = strcmp(cfg->host, "::") == 0;
    info.iface = any4 || any6 ? NULL : cfg->host;
    info.protocols = protocols;
    info.vhost_name = "plugio";
    /* No LWS_SERVER_OPTION_VALIDATE_UTF8: lws would check compressed text
     * frames as they are; http.c checks each text message once whole. */
    info.options = LWS_SERVER_OPTION_LIBEV | (any4 ? LWS_SERVER_OPTION_DISABLE_IPV6 : 0);
    void *foreign_loops[1] = {NULL};
    info.foreign_loops = foreign_loops;
    /* A head up to server.maxHeaderSize is served; lws drops one that
     * overflows its buffer without an answer, so the buffer leaves room
     * past the limit for http.c to answer 431 (the ah is held only while
     * a request is in flight, or a poll is held). */
    info.max_http_header_data2 = cfg->max_header_size + HEAD_SLACK;
    /* No lws validity timer per connection (its own idle ping and hangup):
     * Engine.IO's heartbeat does that job, and lws keeps its timers in one
     * sorted list, so one per connection made every accept O(open). */
    static const lws_retry_bo_t no_validity = {0};
    info.retry_and_idle_policy = &no_validity;
    info.keepalive_timeout = 60;
    info.fd_limit_per_thread = 0;
    /* permessage-deflate: lws negotiates it, http.c accepts it per
     * connection (perMessageDeflate), compresses and inflates. */
    info.extensions = ws_deflate_extensions();

    /* The layers: Engine.IO between the transport and Socket.IO. */
    eio_set_options(&cfg->opts);
    eio_set_events(sio_client_events());
    eio_set_transport(http_transport());
    http_set_site(site_serve, plugin_http_serve);

    /* epoll: the loop's cost follows the ready descriptors. */
    loop = foreign_loops[0] = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
    if (!loop) {
        log_error("cannot create the event loop: %s", strerror(errno));
        return false;
    }
    timers_attach(loop, after_timers);
    ev_prepare_init(&turn_end, on_turn_end);
    ev_prepare_start(loop, &turn_end);
    ev_check_init(&turn_start, on_turn_start);
    ev_check_start(loop, &turn_start);
    context = lws_create_context(&info);
    struct lws_vhost *vh = context ? lws_get_vhost_by_name(context, "plugio") : NULL;
    if (!vh) {
        log_error("cannot listen on %s:%u", cfg->host, cfg->port);
        return false;
    }
    /* lws closes adopted descriptors itself. */
    if (!(signal_adopted = adopt(vh, signal_fd)) || !(watch_adopted = adopt(vh, watch_fd)) ||
        !services_init(vh, "plugio-fd")) {
        log_error("cannot watch signals and files, or start workers");
        return false;
    }
    return admin_start(cfg);
}

static void close_loop(void)
{
    admin_stop();
    if (context)
        lws_context_destroy(context);
    context = NULL;
    nsp_free_all();
    sio_recovery_shutdown();
    timers_clear();
    zip_shutdown();
    timers_attach(NULL, NULL);
    if (loop) {
        ev_prepare_stop(loop, &turn_end);
        ev_check_stop(loop, &turn_start);
        eio_sessions_flush_due(NULL); /* drops what references are left */
        ev_loop_destroy(loop);
    }
    loop = NULL;
}

/* The plugins: the binding made current (its plugins activated), then
 * their init hooks.  *started tells close_plugins what to undo. */
static bool open_plugins(binding *b, bool *started)
{
    char err[1024];
    if (!guard_init(err, sizeof err)) {
        log_error("cannot guard plugin calls: %s", err);
        binding_discard(b, NULL);
        return false;
    }
    guard_on_fault(reload_fault);
    adapter_init();
    if (!reload_start(b, err, sizeof err)) {
        log_error("%s", err);
        binding_discard(b, NULL);
        return false;
    }
    *started = true;
    return run_init(b);
}

static void close_plugins(bool started)
{
    services_shutdown();
    if (started)
        reload_stop();
    sio_stats_free();
    adapter_shutdown();
    guard_on_fault(NULL);
    guard_shutdown();
}

int server_run(binding *b)
{
    const config *cfg = b->cfg;
    bool plugins_started = false;
    int rc = 1;
    if (!open_process(cfg) || !open_loop(cfg)) {
        binding_destroy(b);
        goto out;
    }
    if (!open_plugins(b, &plugins_started))
        goto stop;
    log_info("listening on %s:%d", cfg->host,
             lws_get_vhost_listen_port(lws_get_vhost_by_name(context, "plugio")));
    timer_start(&peer_check, PEER_CHECK_MS, check_held_polls);
    if (!stopping)
        ev_run(loop, 0);
    timer_stop(&peer_check);
    shutdown_sessions();
    rc = 0;
stop:
    close_plugins(plugins_started);
out:
    close_loop();
    close_process();
    plugin_rundir_cleanup();
    return rc;
}
