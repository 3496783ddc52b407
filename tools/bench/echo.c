/*
 * echo - the transport's ceiling for tools/bench: a bare libwebsockets
 * WebSocket server with no Engine.IO or Socket.IO layer.
 *
 *   echo [--port PORT] [--broadcast] [--rx-buffer BYTES] [--evlib poll|ev|uv]
 *
 * Listens on 127.0.0.1:PORT (0, the default, lets the system pick) and
 * logs "listening on 127.0.0.1:PORT" on stderr, as plugio does; SIGTERM
 * and SIGINT exit 0.  Every message received is sent back to its sender,
 * or with --broadcast to every other connection (the fanout scenario).
 *
 * The transport is set up as plugio's (host/server.c; keep them in step) so
 * that the two differ only by what plugio adds on top: the default poll
 * loop, rx_buffer_size 256 (--rx-buffer), tx_packet_size 65536, UTF-8
 * validation.  Writes
 * follow LIBWEBSOCKETS.md: each connection has a queue of messages, and
 * SERVER_WRITEABLE drains it while !lws_send_pipe_choked.  A broadcast
 * message is allocated once and shared by every queue it is on.
 *
 * --evlib ev or uv runs it on lws's libev or libuv event library (the
 * packages libwebsockets-evlib-ev/-uv), with a loop lws owns: the
 * comparison of the two that chose plugio's (BENCHMARKS.md).  lws_service
 * then runs that loop until the process ends, so a signal exits at once.
 */
#include <libwebsockets.h>

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

typedef struct msg {
    unsigned refs;
    size_t len;
    bool binary;
    unsigned char buf[]; /* LWS_PRE bytes for lws, then the payload */
} msg;

typedef struct conn {
    struct lws *wsi;
    struct conn *prev, *next; /* every connection, for --broadcast */
    msg **queue;              /* a ring of messages to write */
    unsigned head, count, cap;
    unsigned char *rx;        /* a message arriving in pieces */
    size_t rx_len, rx_cap;
} conn;

static volatile sig_atomic_t stopping;
static struct lws_context *context;
static bool broadcast;
static conn *all;

static void msg_unref(msg *m)
{
    if (--m->refs == 0)
        free(m);
}

static bool enqueue(conn *c, msg *m)
{
    if (c->count == c->cap) {
        unsigned cap = c->cap ? c->cap * 2 : 8;
        msg **q = malloc(cap * sizeof *q);
        if (!q)
            return false;
        for (unsigned i = 0; i < c->count; i++)
            q[i] = c->queue[(c->head + i) % c->cap];
        free(c->queue);
        c->queue = q;
        c->cap = cap;
        c->head = 0;
    }
    c->queue[(c->head + c->count) % c->cap] = m;
    c->count++;
    m->refs++;
    lws_callback_on_writable(c->wsi);
    return true;
}

static void on_message(conn *from, const void *data, size_t len, bool binary)
{
    msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return;
    m->refs = 1; /* ours, until the loop below is done */
    m->len = len;
    m->binary = binary;
    memcpy(m->buf + LWS_PRE, data, len);
    if (!broadcast) {
        enqueue(from, m);
    } else {
        for (conn *c = all; c; c = c->next)
            if (c != from)
                enqueue(c, m);
    }
    msg_unref(m);
}

static int write_queued(conn *c)
{
    while (c->count && !lws_send_pipe_choked(c->wsi)) {
        msg *m = c->queue[c->head];
        int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
        c->head = (c->head + 1) % c->cap;
        c->count--;
        msg_unref(m);
        if (n < 0)
            return -1;
    }
    if (c->count)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(c, 0, sizeof *c);
        c->wsi = wsi;
        c->next = all;
        if (all)
            all->prev = c;
        all = c;
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        bool whole = lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) && c->rx_len == 0;
        if (whole) {
            on_message(c, in, len, lws_frame_is_binary(wsi));
            return 0;
        }
        if (c->rx_len + len > c->rx_cap) {
            size_t cap = c->rx_cap ? c->rx_cap : 4096;
            while (cap < c->rx_len + len)
                cap *= 2;
            unsigned char *rx = realloc(c->rx, cap);
            if (!rx)
                return -1;
            c->rx = rx;
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi)) {
            on_message(c, c->rx, c->rx_len, lws_frame_is_binary(wsi));
            c->rx_len = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return write_queued(c);
    case LWS_CALLBACK_CLOSED:
        if (!c->wsi)
            return 0; /* never established */
        if (c->prev)
            c->prev->next = c->next;
        else
            all = c->next;
        if (c->next)
            c->next->prev = c->prev;
        while (c->count) {
            msg_unref(c->queue[c->head]);
            c->head = (c->head + 1) % c->cap;
            c->count--;
        }
        free(c->queue);
        free(c->rx);
        c->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

static int evlib; /* 0 poll, else LWS_SERVER_OPTION_LIBEV or _LIBUV */

static void on_signal(int sig)
{
    (void)sig;
    if (evlib)
        _exit(0); /* the loop lws runs does not look at a flag */
    stopping = 1;
    if (context)
        lws_cancel_service(context);
}

/* lws's event libraries watch SIGINT/SIGTERM themselves (uv's stops the
 * loop and then spins); with this callback they call it instead. */
static void on_evlib_signal(void *handle, int signum)
{
    (void)handle, (void)signum;
    _exit(0);
}

int main(int argc, char **argv)
{
    int port = 0, rx_buffer = 256;
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"broadcast", no_argument, NULL, 'b'},
        {"rx-buffer", required_argument, NULL, 'r'},
        {"evlib", required_argument, NULL, 'e'},
        {0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "p:br:e:", longopts, NULL)) != -1) {
        if (o == 'p') {
            port = atoi(optarg);
        } else if (o == 'b') {
            broadcast = true;
        } else if (o == 'r') {
            rx_buffer = atoi(optarg);
        } else if (o == 'e' && strcmp(optarg, "poll") == 0) {
            evlib = 0;
        } else if (o == 'e' && strcmp(optarg, "ev") == 0) {
            evlib = LWS_SERVER_OPTION_LIBEV;
        } else if (o == 'e' && strcmp(optarg, "uv") == 0) {
            evlib = LWS_SERVER_OPTION_LIBUV;
        } else {
            fprintf(stderr, "Usage: echo [--port PORT] [--broadcast] [--rx-buffer BYTES] "
                            "[--evlib poll|ev|uv]\n");
            return 2;
        }
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    lws_set_log_level(LLL_ERR, NULL);

    const struct lws_protocols protocols[] = {
        {
            .name = "echo",
            .callback = callback,
            .per_session_data_size = sizeof(conn),
            .rx_buffer_size = (size_t)rx_buffer,
            .tx_packet_size = 65536,
        },
        {0},
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6 | evlib;
    if (evlib)
        info.signal_cb = on_evlib_signal;
    info.keepalive_timeout = 60;
    context = lws_create_context(&info);
    if (!context) {
        fprintf(stderr, "echo: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(context, "default");
    fprintf(stderr, "echo: listening on 127.0.0.1:%d%s\n", vh ? lws_get_vhost_listen_port(vh) : -1,
            broadcast ? " (broadcast)" : "");
    while (!stopping && lws_service(context, 0) >= 0)
        ;
    lws_context_destroy(context);
    return 0;
}
