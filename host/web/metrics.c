/*
 * metrics.c - GET server.metrics.path: Prometheus metrics, and GET
 * /healthz: whether the server is serving (see site.h).
 *
 * This module only reads.  Counters live where what they count happens,
 * each layer in its own small module (engineio/eio_stats.h,
 * engineio/limits.h, socketio/sio_stats.h, reload.c, server.c, guard.c)
 * and cost an add on the hot path; what a walk can compute - sockets per
 * namespace and transport, sessions, acks pending, bytes queued - is
 * computed here at scrape, so it costs nothing between scrapes.  A scrape
 * is O(sockets + sessions): 10,000 connections take well under a
 * millisecond of the loop.
 *
 * Label values stay bounded: event names by the configuration
 * (sio_stats.h), plugins by the configuration, and a child namespace (one
 * a client created because a pattern matches) counts under its pattern,
 * so a client cannot make the scrape grow.
 *
 * /healthz is always on: 200 while the loop serves with a binding in
 * force, 503 once a signal asked the server to stop (it flushes its
 * sessions for up to half a second, the listener still open) - what a
 * load balancer needs to stop sending new clients.
 */
#include "site.h"

#include "base/buf.h"
#include "base/histogram.h"
#include "config/config.h"
#include "engineio/eio_session.h"
#include "engineio/eio_stats.h"
#include "engineio/http.h"
#include "engineio/limits.h"
#include "plugin/guard.h"
#include "prom_text.h"
#include "reload.h"
#include "reply.h"
#include "server.h"
#include "socketio/rooms.h"
#include "socketio/sio_dispatch.h"
#include "socketio/sio_stats.h"
#include "socketio/sio_types.h"
#include "static_cache.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- answering ----------------------------------------------------------- */

static bool method_ok(struct lws *wsi)
{
    int m = reply_method(wsi);
    return m == LWSHUMETH_GET || m == LWSHUMETH_HEAD;
}

static int send_text(struct lws *wsi, unsigned status, const char *type, const char *body,
                     size_t len)
{
    static const http_header no_store[] = {{"cache-control:", "no-store"}};
    http_reply r = {.status = status, .type = type, .body = body, .len = len,
                    .headers = no_store, .n_headers = 1, .head_only = reply_is_head(wsi)};
    return http_send(wsi, &r);
}

/* ---- /healthz ------------------------------------------------------------ */

int health_route(struct lws *wsi, const char *path, const config *c)
{
    (void)c;
    if (strcmp(path, CONFIG_HEALTH_PATH) != 0)
        return HTTP_SITE_DECLINED;
    if (!method_ok(wsi))
        return reply_not_allowed(wsi);
    const char *why = server_stopping() || eio_sessions_refusing() ? "stopping"
                      : !sio_binding()                           ? "no configuration in force"
                                                                 : NULL;
    char body[128];
    int n = why ? snprintf(body, sizeof body, "{\"status\":\"unavailable\",\"reason\":\"%s\"}\n", why)
                : snprintf(body, sizeof body, "{\"status\":\"ok\",\"sessions\":%zu}\n",
                           eio_sessions_alive());
    return send_text(wsi, why ? 503 : 200, "application/json", body, (size_t)n);
}

/* ---- sockets, sessions, acks: walked at scrape --------------------------- */

#define TRANSPORTS 2
static const char *const transport_names[TRANSPORTS] = {"polling", "websocket"};

/* Sockets per (namespace label, transport). */
typedef struct nsp_count {
    const char *label;          /* borrowed: a namespace's name or a pattern's source */
    uint64_t sockets[TRANSPORTS];
} nsp_count;

typedef struct socket_walk {
    nsp_count *rows;
    size_t n, cap;
    uint64_t acks_pending;
    bool failed;
} socket_walk;

static nsp_count *row_for(socket_walk *w, const char *label)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->rows[i].label, label) == 0)
            return &w->rows[i];
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        nsp_count *rows = realloc(w->rows, cap * sizeof *rows);
        if (!rows) {
            w->failed = true;
            return NULL;
        }
        w->rows = rows;
        w->cap = cap;
    }
    w->rows[w->n] = (nsp_count){.label = label};
    return &w->rows[w->n++];
}

static void walk_sockets(socket_walk *w)
{
    const binding *b = sio_binding();
    for (size_t i = 0; b && i < b->n_namespaces; i++)
        row_for(w, b->namespaces[i]); /* configured: present at 0 */
    size_t it = 0;
    sio_nsp *ns;
    while ((ns = nsp_next(&it))) {
        const bound_pattern *parent = ns->child ? sio_parent_of(ns) : NULL;
        const char *label = !ns->child ? ns->name : parent ? parent->cfg->source : "_other";
        nsp_count *row = row_for(w, label);
        for (size_t k = 0; k < ns->n_all; k++) {
            pio_socket *s = ns->all[k];
            if (row && s->session)
                row->sockets[eio_session_transport(s->session) == EIO_WEBSOCKET]++;
            for (pending_ack *a = s->acks; a; a = a->next)
                w->acks_pending++;
        }
    }
}

typedef struct session_walk {
    uint64_t open[TRANSPORTS];
    uint64_t queued;
} session_walk;

static void count_session(eio_session *s, void *ud)
{
    session_walk *w = ud;
    if (eio_session_is_closed(s))
        return;
    w->open[eio_session_transport(s) == EIO_WEBSOCKET]++;
    w->queued += eio_session_queued_bytes(s);
}

/* ---- the families -------------------------------------------------------- */

static void counter(buf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "counter", help);
    prom_sample(b, name, NULL, 0, v);
}

static void gauge(buf *b, const char *name, const char *help, uint64_t v)
{
    prom_family(b, name, "gauge", help);
    prom_sample(b, name, NULL, 0, v);
}

static void write_connections(buf *b)
{
    socket_walk sw = {0};
    walk_sockets(&sw);
    prom_family(b, "plugio_socketio_sockets", "gauge",
                "Connected Socket.IO sockets, by namespace (a child namespace under its "
                "pattern) and transport.");
    for (size_t i = 0; i < sw.n; i++)
        for (int t = 0; t < TRANSPORTS; t++) {
            prom_label l[] = {{"namespace", sw.rows[i].label}, {"transport", transport_names[t]}};
            prom_sample(b, "plugio_socketio_sockets", l, 2, sw.rows[i].sockets[t]);
        }
    if (sw.failed)
        b->failed = true;
    free(sw.rows);
    gauge(b, "plugio_socketio_acks_pending", "Server-to-client emits awaiting the client's ack.",
          sw.acks_pending);

    session_walk ew = {{0}, 0};
    eio_sessions_each(count_session, &ew);
    prom_family(b, "plugio_engineio_sessions", "gauge", "Open Engine.IO sessions, by transport.");
    for (int t = 0; t < TRANSPORTS; t++) {
        prom_label l[] = {{"transport", transport_names[t]}};
        prom_sample(b, "plugio_engineio_sessions", l, 1, ew.open[t]);
    }
    counter(b, "plugio_engineio_sessions_opened_total", "Engine.IO sessions opened.",
            eio_counters.sessions_opened);
    gauge(b, "plugio_engineio_queued_bytes",
          "Bytes queued for clients and not yet sent (all sessions).", ew.queued);
    counter(b, "plugio_engineio_received_bytes_total",
            "Engine.IO bytes received: WebSocket message payloads and polling POST bodies.",
            eio_counters.bytes_in);
    counter(b, "plugio_engineio_sent_bytes_total",
            "Engine.IO bytes sent: WebSocket message payloads and polling response bodies.",
            eio_counters.bytes_out);

    limits_stats ls = limits_get_stats();
    prom_family(b, "plugio_connections_refused_total", "counter",
                "Requests and sessions refused, by reason.");
    const struct {
        const char *reason;
        uint64_t n;
    } refused[] = {
        {"over_capacity", eio_counters.refused_capacity},  /* 503 */
        {"not_allowed", ls.not_allowed},                   /* security.allow: 403 */
        {"too_many_per_address", ls.too_many},             /* maxConnectionsPerAddress: 403 */
        {"head_too_large", eio_counters.refused_head},     /* 431 */
        {"timeout", eio_counters.cut_slow},                /* 408 */
        {"send_stalled", eio_counters.cut_send},           /* a response not read on */
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        prom_label l[] = {{"reason", refused[i].reason}};
        prom_sample(b, "plugio_connections_refused_total", l, 1, refused[i].n);
    }
    static_cache_stats sc = static_cache_read_stats();
    counter(b, "plugio_static_cache_hits_total",
            "Compressed static files and client bundles served from the cache.", sc.hits);
    counter(b, "plugio_static_cache_misses_total",
            "Compressed static files and client bundles compressed for a request.", sc.misses);
    gauge(b, "plugio_static_cache_bytes", "Compressed bytes the static file cache holds.",
          sc.bytes);
    counter(b, "plugio_events_rate_limited_total",
            "Client events refused by security.rateLimit.", ls.events_refused);
    counter(b, "plugio_rate_limit_disconnects_total",
            "Clients disconnected by security.rateLimit.disconnectAfter.", ls.disconnected);
}

static void write_events(buf *b)
{
    const sio_stats *st = &sio_counters;
    prom_family(b, "plugio_socketio_events_received_total", "counter",
                "Events dispatched, by name (names outside `events:` as _other; connect and "
                "disconnect for sockets joining and leaving).");
    for (size_t i = 0; i < st->n_events; i++) {
        prom_label l[] = {{"event", st->events[i]->name}};
        prom_sample(b, "plugio_socketio_events_received_total", l, 1, st->events[i]->received);
    }
    prom_family(b, "plugio_socketio_events_emitted_total", "counter",
                "Events plugins emitted or broadcast, by name (each broadcast once).");
    for (size_t i = 0; i < st->n_events; i++) {
        prom_label l[] = {{"event", st->events[i]->name}};
        prom_sample(b, "plugio_socketio_events_emitted_total", l, 1, st->events[i]->emitted);
    }
    counter(b, "plugio_socketio_broadcast_deliveries_total",
            "Sockets broadcasts were queued for.", st->broadcast_deliveries);
    counter(b, "plugio_socketio_volatile_dropped_total",
            "Volatile broadcasts left out for a socket whose transport was busy.",
            st->volatile_dropped);
    prom_family(b, "plugio_plugin_handler_duration_seconds", "histogram",
                "Time event handlers took, by plugin.");
    for (size_t i = 0; i < st->n_plugins; i++) {
        prom_label l[] = {{"plugin", st->plugins[i]->name}};
        prom_histogram(b, "plugio_plugin_handler_duration_seconds", l, 1,
                       &st->plugins[i]->handler);
    }
    prom_family(b, "plugio_plugin_middleware_duration_seconds", "histogram",
                "Time connection middleware took, by plugin.");
    for (size_t i = 0; i < st->n_plugins; i++) {
        prom_label l[] = {{"plugin", st->plugins[i]->name}};
        prom_histogram(b, "plugio_plugin_middleware_duration_seconds", l, 1,
                       &st->plugins[i]->middleware);
    }
}

static void write_runtime(buf *b)
{
    reload_stats rs = reload_get_stats();
    prom_family(b, "plugio_reloads_total", "counter",
                "Reloads, by result: ok (switched), failed (the previous version kept "
                "serving), rollback (a faulted plugin replaced by its previous version), "
                "disabled (a faulted plugin with none to roll back to).");
    const struct {
        const char *result;
        unsigned long n;
    } reloads[] = {{"ok", rs.done}, {"failed", rs.failed}, {"rollback", rs.rollbacks},
                   {"disabled", rs.disabled}};
    for (size_t i = 0; i < sizeof reloads / sizeof reloads[0]; i++) {
        prom_label l[] = {{"result", reloads[i].result}};
        prom_sample(b, "plugio_reloads_total", l, 1, reloads[i].n);
    }
    prom_family(b, "plugio_reload_duration_seconds", "histogram",
                "Time the reloads that switched took.");
    prom_histogram(b, "plugio_reload_duration_seconds", NULL, 0, reload_duration());
    counter(b, "plugio_plugin_faults_total",
            "Plugin crashes and overruns contained (each costs its plugin version).",
            guard_faults());
    prom_family(b, "plugio_loop_iteration_seconds", "histogram",
                "Busy time of each turn of the event loop, from waking to waiting again.");
    prom_histogram(b, "plugio_loop_iteration_seconds", NULL, 0, server_turn_time());
}

/* ---- process_*, as prom-client and the Go client name them ---------------- */

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n ? n - 1 : 0; /* not the one opendir holds */
}

static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    char line[256];
    double btime = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    if (f)
        fclose(f);
    return btime;
}

static void write_process(buf *b)
{
    unsigned long utime = 0, stime = 0, vsize = 0;
    unsigned long long start = 0;
    long rss = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    char text[1024];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    /* Fields after the command, which may hold spaces: from the last ')'. */
    const char *p = strrchr(text, ')');
    if (p)
        sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
               "%llu %lu %ld",
               &utime, &stime, &start, &vsize, &rss);
    double ticks = (double)sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    prom_family(b, "process_cpu_seconds_total", "counter",
                "Total user and system CPU time spent in seconds.");
    prom_sample_double(b, "process_cpu_seconds_total", NULL, 0, (double)(utime + stime) / ticks);
    prom_family(b, "process_start_time_seconds", "gauge",
                "Start time of the process since unix epoch in seconds.");
    prom_sample_double(b, "process_start_time_seconds", NULL, 0,
                       boot_time() + (double)start / ticks);
    gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
          (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)page);
    gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize);
    gauge(b, "process_open_fds", "Number of open file descriptors.", open_fds());
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        gauge(b, "process_max_fds", "Maximum number of open file descriptors.",
              rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur);
}

/* ---- GET metrics.path ---------------------------------------------------- */

static bool metrics_render(buf *b)
{
    write_connections(b);
    write_events(b);
    write_runtime(b);
    write_process(b);
    return !b->failed;
}

int metrics_route(struct lws *wsi, const char *path, const config *c)
{
    if (!c->metrics.enabled || !c->metrics.path || strcmp(path, c->metrics.path) != 0)
        return HTTP_SITE_DECLINED;
    if (!method_ok(wsi))
        return reply_not_allowed(wsi);
    buf b = BUF_INIT;
    int rc;
    if (metrics_render(&b)) {
        rc = send_text(wsi, 200, PROM_CONTENT_TYPE, b.data, b.len);
    } else {
        static const char msg[] = "out of memory\n";
        rc = send_text(wsi, 500, "text/plain; charset=utf-8", msg, sizeof msg - 1);
    }
    buf_free(&b);
    return rc;
}
