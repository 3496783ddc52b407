/*
 * loadgen - the load generator of tools/bench: many Socket.IO (or bare
 * WebSocket) clients in one thread, with plain sockets and epoll.
 *
 *   loadgen --port P --scenario ack|fanout|connect|reload [options]
 *
 * Written by hand because it must cost the server's core nothing and its
 * own core as little as possible: no libwebsockets, no JSON library.  The
 * client side of RFC 6455 it needs is small - one upgrade request, masked
 * frames out, unmasked frames in - and so is the Engine.IO v4 / Socket.IO v5
 * it speaks over it: GET /socket.io/?EIO=4&transport=websocket, the "0{...}"
 * open packet, "40" -> "40{sid}", "2" -> "3", events "42<id>[...]" and acks
 * "43<id>[...]".  --bare skips the Engine.IO/Socket.IO handshake, for the
 * bare echo server (tools/bench/echo.c), and counts echoed frames as acks.
 * --msgpack speaks socket.io-msgpack-parser's format instead (ack scenario):
 * each Socket.IO packet a binary frame holding a MessagePack map.
 *
 * Scenarios:
 *   ack      --clients N each keep --inflight K events `ack` in flight;
 *            counts acks, latency from send to ack.
 *   fanout   --clients N receivers emit `join` (acked), one more client
 *            sends `fanout` events carrying a sequence number and its send
 *            time; closed loop with --inflight broadcasts outstanding (one
 *            completes when every receiver has it), or --rate per second.
 *   connect  opens --clients connections (at most --concurrency handshakes
 *            at a time); connections/s and the server's RSS per connection.
 *   reload   ack, while the file --swap-dest is replaced every --swap-ms by
 *            --swap-a / --swap-b in turn (copied next to it, renamed into
 *            place); every event sent must get exactly one ack.
 *   cycle    --cycles N connect/disconnect cycles, --clients C of them live
 *            at a time, carrying --events E events in all (E/N a cycle):
 *            every 16th cycle first emits `join` (acked: room "bench"),
 *            then its events go in turn: 1 in 10 `fanout` (no ack, to the
 *            room), 2 in 10 `ack` with a binary argument (451-<id>..., then
 *            the attachment), the rest `ack` with a string; --inflight acked
 *            ones outstanding.  Then the cycle ends: 9 in 10 with "41" and a
 *            WebSocket close, waiting for the server to close the TCP
 *            connection; 1 in 10 abruptly (RST, no goodbye).  The slot opens
 *            the next cycle.  For tools/bench/soak: what must leave a server
 *            as it found it.  --duration is a time limit here (3600).
 *
 * Timing: connect everyone, then --warmup seconds, then a measured window
 * of --duration seconds; only what arrives in the window is counted.  With
 * --server-pid the server's CPU (utime+stime from /proc/PID/stat) and RSS
 * (VmRSS from /proc/PID/status) are read at the window's edges.
 *
 * Output: a human summary on stderr and one line on stdout,
 *   RESULT scenario=ack mode=sio ... key=value ...
 * that tools/bench/run parses.  Exit status 0 when there were no errors,
 * 1 when something failed (counted in errors=, lost=, dup=), 2 on usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 256
#define READ_CHUNK (256 * 1024)
#define FANOUT_RING 4096

/* ---- options ------------------------------------------------------------- */

enum scenario { SC_ACK, SC_FANOUT, SC_CONNECT, SC_RELOAD, SC_CYCLE };

static struct {
    const char *host;
    int port;
    int port2;           /* fanout: every other receiver connects here */
    enum scenario scenario;
    bool bare;
    bool msgpack;
    int clients;
    int inflight;
    int payload;
    double warmup, duration, drain, rate, settle, connect_timeout;
    int concurrency;
    int sources;
    int server_pid;
    const char *swap_a, *swap_b, *swap_dest;
    int swap_ms;
    uint64_t cycles, events; /* cycle: totals */
    bool duration_set;
} opt = {
    .host = "127.0.0.1",
    .port = 0,
    .scenario = SC_ACK,
    .clients = 100,
    .inflight = 1,
    .payload = 16,
    .warmup = 1,
    .duration = 8,
    .drain = 5,
    .settle = 1,
    .connect_timeout = 30,
    .concurrency = 200,
    .sources = 1,
    .swap_ms = 500,
};

static const char *const scenario_names[] = {"ack", "fanout", "connect", "reload", "cycle"};
#define N_SCENARIOS 5

/* ---- time, CPU, memory ------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime+stime of a process (all its threads), in seconds; -1 if unknown. */
static double proc_cpu_s(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long ut, st;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of a process in KiB; -1 if unknown. */
static long proc_rss_kb(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ---- latency histogram: log-linear, 128 sub-buckets per power of two ------ */

#define H_SUB 7
#define H_BUCKETS ((64 - H_SUB) << H_SUB)

typedef struct {
    uint64_t count[H_BUCKETS];
    uint64_t n, max;
} histogram;

static unsigned h_index(uint64_t v)
{
    if (v < (1u << H_SUB))
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= H_SUB */
    return ((e - H_SUB + 1) << H_SUB) + (unsigned)((v >> (e - H_SUB)) & ((1u << H_SUB) - 1));
}

static uint64_t h_value(unsigned i)
{
    if (i < (1u << H_SUB))
        return i;
    unsigned e = (i >> H_SUB) + H_SUB - 1;
    uint64_t sub = i & ((1u << H_SUB) - 1);
    uint64_t lo = ((1ull << H_SUB) + sub) << (e - H_SUB);
    return lo + ((1ull << (e - H_SUB)) >> 1); /* the bucket's middle */
}

static void h_add(histogram *h, uint64_t v)
{
    h->count[h_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

/* The q-quantile in µs (values are ns); 0 when empty. */
static double h_quantile_us(const histogram *h, double q)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if (rank >= h->n)
        rank = h->n - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        seen += h->count[i];
        if (seen > rank) {
            uint64_t v = h_value(i);
            return (double)(v > h->max ? h->max : v) / 1000.0;
        }
    }
    return (double)h->max / 1000.0;
}

/* ---- connections ------------------------------------------------------------ */

enum state {
    ST_CONNECTING, /* TCP connect in progress */
    ST_UPGRADING,  /* upgrade request sent, waiting for the 101 */
    ST_WAIT_OPEN,  /* waiting for Engine.IO "0{...}" */
    ST_WAIT_SIO,   /* "40" sent, waiting for "40{...}" */
    ST_JOINING,    /* fanout receivers: `join` sent, waiting for its ack */
    ST_READY,
    ST_CLOSING, /* cycle: "41" and a close frame sent, waiting for the server's FIN */
    ST_DEAD,
};

enum role { ROLE_ACKER, ROLE_RECEIVER, ROLE_SENDER };

typedef struct {
    uint64_t id, sent_ns;
    bool busy;
} slot;

typedef struct conn {
    int fd;
    int index;
    enum state state;
    enum role role;
    bool dirty, started;
    uint64_t opened_ns;
    /* input: bytes of an incomplete frame / HTTP head kept between reads */
    unsigned char *in;
    size_t in_len, in_cap;
    /* a fragmented message being reassembled */
    unsigned char *msg;
    size_t msg_len, msg_cap;
    /* output not yet accepted by the kernel */
    unsigned char *out;
    size_t out_len, out_off, out_cap;
    uint64_t next_id;
    int inflight;
    slot *slots;
    /* cycle */
    uint64_t cycle;           /* which cycle this connection is */
    uint64_t ev_left, ev_idx; /* events still to send in it, and sent */
    bool cycle_open;          /* counted in cycles_started, not yet ended */
    bool msg_binary;          /* the fragmented message being reassembled is */
    int bins_pending;         /* attachments still due for bin_ack_id */
    uint64_t bin_ack_id;
} conn;

static conn *conns;
static int n_conns;
static int epfd;
static int *dirty_list, n_dirty;
static unsigned char *readbuf;
static size_t readbuf_cap;
static char *pad;
static uint32_t rng = 0x9e3779b9u;

/* ---- what is counted ------------------------------------------------------- */

enum phase { PH_CONNECT, PH_WARMUP, PH_WINDOW, PH_DRAIN, PH_DONE };

static struct {
    enum phase phase;
    uint64_t t_start, t_ready, t_window, t_window_end, t_drain_end, deadline;
    int opened, connected, failed, handshaking, live;
    uint64_t sent, acked, window_acks, errors, dup, unexpected;
    uint64_t deliveries, window_deliveries, broadcasts, window_broadcasts;
    histogram lat, swap_lat;
    double srv_cpu0, srv_cpu1, self_cpu0, self_cpu1;
    long rss_before, rss_after;
    uint64_t t_all_connected;
    uint64_t t_first_k, t_last_k; /* connect: the 1000th connection, and the
                                     one 1000 before the last */
    /* fanout */
    uint64_t seq_sent, seq_done;
    uint32_t ring_count[FANOUT_RING];
    uint64_t next_send_ns;
    int receivers;
    /* reload */
    uint64_t next_swap_ns, last_swap_ns;
    int swaps, swap_failures;
    /* cycle */
    uint64_t cycles_started, cycles_done, cycles_abrupt, fanouts, binaries, joins;
    uint64_t t_cycles_end;
    int *reopen, n_reopen; /* slots whose cycle ended, opened again after the batch */
} st;

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void errorf(const char *fmt, ...)
{
    st.errors++;
    if (st.errors > 20)
        return; /* counted, not shown */
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    return q;
}

static void grow(unsigned char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    *buf = xrealloc(*buf, c);
    *cap = c;
}

static void mark_dirty(conn *c)
{
    if (!c->dirty) {
        c->dirty = true;
        dirty_list[n_dirty++] = c->index;
    }
}

static void out_raw(conn *c, const void *data, size_t len)
{
    grow(&c->out, &c->out_cap, c->out_len + len);
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    mark_dirty(c);
}

/* Queue one masked data frame (RFC 6455 5.2: clients always mask). */
static void out_data(conn *c, bool binary, const char *text, size_t len)
{
    grow(&c->out, &c->out_cap, c->out_len + len + 14);
    unsigned char *p = c->out + c->out_len;
    *p++ = binary ? 0x82 : 0x81; /* FIN, binary or text */
    if (len < 126) {
        *p++ = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        *p++ = 0x80 | 126;
        *p++ = (unsigned char)(len >> 8);
        *p++ = (unsigned char)len;
    } else {
        *p++ = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            *p++ = (unsigned char)((uint64_t)len >> (8 * i));
    }
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    unsigned char mask[4] = {(unsigned char)rng, (unsigned char)(rng >> 8),
                             (unsigned char)(rng >> 16), (unsigned char)(rng >> 24)};
    memcpy(p, mask, 4);
    p += 4;
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)text[i] ^ mask[i & 3];
    p += len;
    c->out_len = (size_t)(p - c->out);
    mark_dirty(c);
}

static void out_frame(conn *c, const char *text, size_t len) { out_data(c, false, text, len); }

/* ---- socket.io-msgpack-parser (--msgpack) ---------------------------------- */

static void mp_str(char **p, const char *s, size_t n)
{
    if (n < 32) {
        *(*p)++ = (char)(0xa0 | n);
    } else if (n < 256) {
        *(*p)++ = (char)0xd9;
        *(*p)++ = (char)n;
    } else {
        *(*p)++ = (char)0xda;
        *(*p)++ = (char)(n >> 8);
        *(*p)++ = (char)n;
    }
    memcpy(*p, s, n);
    *p += n;
}

static void mp_uint(char **p, uint64_t v)
{
    if (v < 128) {
        *(*p)++ = (char)v;
        return;
    }
    *(*p)++ = (char)0xcf;
    for (int i = 7; i >= 0; i--)
        *(*p)++ = (char)(v >> (8 * i));
}

/* The bytes of a value starting at p (0 when malformed or truncated). */
static size_t mp_skip(const unsigned char *p, const unsigned char *end)
{
    if (p >= end)
        return 0;
    unsigned c = *p;
    size_t n = 0, head = 1, items = 0;
    if (c < 0x80 || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 1;
    if (c < 0x90)
        items = 2 * (c & 0x0f);
    else if (c < 0xa0)
        items = c & 0x0f;
    else if (c < 0xc0)
        n = c & 0x1f;
    else if (c >= 0xcc && c <= 0xcf)
        head += (size_t)1 << (c - 0xcc);
    else if (c >= 0xd0 && c <= 0xd3)
        head += (size_t)1 << (c - 0xd0);
    else if (c == 0xca || c == 0xcb)
        head += c == 0xca ? 4 : 8;
    else if ((c >= 0xc4 && c <= 0xc6) || (c >= 0xd9 && c <= 0xdb) || (c >= 0xdc && c <= 0xdf)) {
        size_t w = c <= 0xc6 ? (size_t)1 << (c - 0xc4) : c <= 0xdb ? (size_t)1 << (c - 0xd9)
                                                                    : (c & 1) ? 4 : 2;
        if ((size_t)(end - p) < 1 + w)
            return 0;
        uint64_t v = 0;
        for (size_t i = 0; i < w; i++)
            v = v << 8 | p[1 + i];
        head += w;
        if (c >= 0xdc)
            items = (c >= 0xde ? 2 : 1) * (size_t)v;
        else
            n = (size_t)v;
    } else
        return 0;
    if ((size_t)(end - p) < head + n)
        return 0;
    size_t off = head + n;
    for (size_t i = 0; i < items; i++) {
        size_t k = mp_skip(p + off, end);
        if (!k)
            return 0;
        off += k;
    }
    return off;
}

static void on_ready(conn *c, uint64_t t);
static void on_ack(conn *c, uint64_t id, uint64_t t);
static void conn_kill(conn *c, const char *why);

/* A packet map {type, data, nsp, id}: CONNECT, ACK, or the end. */
static void on_msgpack(conn *c, const unsigned char *m, size_t len, uint64_t t)
{
    const unsigned char *p = m + 1, *end = m + len;
    int type = -1;
    uint64_t id = 0;
    bool has_id = false;
    for (unsigned i = 0; i < (m[0] & 0x0f); i++) {
        size_t k = mp_skip(p, end), v;
        if (!k || !(v = mp_skip(p + k, end))) {
            errorf("client %d: malformed msgpack packet", c->index);
            return;
        }
        const unsigned char *val = p + k;
        if (k == 5 && memcmp(p, "\xa4type", 5) == 0 && *val < 0x80)
            type = *val;
        if (k == 3 && memcmp(p, "\xa2id", 3) == 0) {
            has_id = *val < 0x80 || (*val >= 0xcc && *val <= 0xcf);
            if (*val < 0x80)
                id = *val;
            for (size_t j = 1; has_id && *val >= 0xcc && j < v; j++)
                id = id << 8 | val[j]; /* uint 8..64, big-endian */
        }
        p += k + v;
    }
    if (type == 0 && c->state == ST_WAIT_SIO)
        on_ready(c, t);
    else if (type == 3 && has_id)
        on_ack(c, id, t);
    else if (type == 1 || type == 4)
        conn_kill(c, type == 1 ? "disconnected by the server" : "connect_error from the server");
    else
        errorf("client %d: unexpected msgpack packet type %d", c->index, type);
}

static void out_control(conn *c, unsigned opcode, const unsigned char *data, size_t len)
{
    unsigned char frame[2 + 4 + 125];
    if (len > 125)
        len = 125;
    frame[0] = (unsigned char)(0x80 | opcode);
    frame[1] = (unsigned char)(0x80 | len);
    memset(frame + 2, 0, 4); /* a zero mask: control frames only */
    memcpy(frame + 6, data, len);
    out_raw(c, frame, 6 + len);
}

static void conn_kill(conn *c, const char *why)
{
    if (c->state == ST_DEAD)
        return;
    if (why) {
        if (c->state < ST_READY)
            st.failed++;
        errorf("client %d: %s", c->index, why);
    }
    if (c->state < ST_JOINING)
        st.handshaking--;
    c->state = ST_DEAD;
    st.live--;
    struct linger lg = {1, 0}; /* RST: no TIME_WAIT left behind */
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c->fd);
    c->fd = -1;
    if (opt.scenario == SC_CYCLE && c->cycle_open) {
        /* Ended, well (the cycle was counted done) or not (an error was
         * counted): the slot serves the next cycle, once this batch of
         * events (which may still name its index) is through. */
        c->cycle_open = false;
        st.reopen[st.n_reopen++] = c->index;
    }
}

static void flush(conn *c)
{
    c->dirty = false;
    while (c->state != ST_DEAD && c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* EPOLLOUT (edge-triggered) says when to go on */
        } else {
            conn_kill(c, n < 0 ? strerror(errno) : "send returned 0");
            return;
        }
    }
    c->out_off = c->out_len = 0;
}

static void flush_dirty(void)
{
    for (int i = 0; i < n_dirty; i++)
        flush(&conns[dirty_list[i]]);
    n_dirty = 0;
}

/* ---- sending events ------------------------------------------------------------ */

static bool in_window(uint64_t t)
{
    return (st.phase == PH_WARMUP || st.phase == PH_WINDOW) && t >= st.t_window &&
           t < st.t_window_end;
}

static bool sending_allowed(void) { return st.phase == PH_WARMUP || st.phase == PH_WINDOW; }

static slot *free_slot(conn *c)
{
    for (int i = 0; i < opt.inflight; i++)
        if (!c->slots[i].busy)
            return &c->slots[i];
    return NULL;
}

/* Slot s of c waits for the ack of event `id`, sent at t. */
static void slot_sent(conn *c, slot *s, uint64_t id, uint64_t t)
{
    s->busy = true;
    s->id = id;
    s->sent_ns = t;
    c->inflight++;
    st.sent++;
}

static void send_ack_event(conn *c, uint64_t t)
{
    slot *s = free_slot(c);
    if (!s)
        return;
    uint64_t id = ++c->next_id;
    char buf[64 + 65536];
    int n;
    if (opt.msgpack) { /* {type: 2, data: ["ack", pad], nsp: "/", id} */
        char *p = buf;
        *p++ = (char)0x84;
        mp_str(&p, "type", 4);
        *p++ = 2;
        mp_str(&p, "data", 4);
        *p++ = (char)0x92;
        mp_str(&p, "ack", 3);
        mp_str(&p, pad, (size_t)opt.payload);
        mp_str(&p, "nsp", 3);
        mp_str(&p, "/", 1);
        mp_str(&p, "id", 2);
        mp_uint(&p, id);
        n = (int)(p - buf);
    } else {
        n = snprintf(buf, sizeof buf, "42%" PRIu64 "[\"ack\",\"%s\"]", id, pad);
    }
    slot_sent(c, s, id, t);
    out_data(c, opt.msgpack, buf, (size_t)n);
}

static void fill_acks(conn *c, uint64_t t)
{
    while (sending_allowed() && c->inflight < opt.inflight)
        send_ack_event(c, t);
}

static void send_fanout(conn *c, uint64_t t)
{
    char buf[96 + 65536];
    uint64_t seq = st.seq_sent++;
    st.ring_count[seq % FANOUT_RING] = 0;
    int n = snprintf(buf, sizeof buf, "42[\"fanout\",%" PRIu64 ",%" PRIu64 ",\"%s\"]", seq,
                     t / 1000, pad);
    out_frame(c, buf, (size_t)n);
    st.broadcasts++;
    if (in_window(t))
        st.window_broadcasts++;
}

static conn *sender(void) { return &conns[n_conns - 1]; }

/* Closed loop: keep --inflight broadcasts incomplete; or pace at --rate. */
static void pump_fanout(uint64_t t)
{
    conn *c = sender();
    if (c->state != ST_READY || !sending_allowed())
        return;
    if (opt.rate > 0) {
        uint64_t gap = (uint64_t)(1e9 / opt.rate);
        int burst = 0;
        while (st.next_send_ns <= t && burst++ < 1000) {
            send_fanout(c, t);
            st.next_send_ns += gap;
        }
        if (st.next_send_ns + 100 * gap < t) /* fell far behind: don't catch up */
            st.next_send_ns = t + gap;
        return;
    }
    while (st.seq_sent - st.seq_done < (uint64_t)opt.inflight && st.seq_sent - st.seq_done < FANOUT_RING)
        send_fanout(c, t);
}

/* ---- cycle ------------------------------------------------------------------- */

/* Cycle k carries E/N events, the first E%N cycles one more. */
static uint64_t cycle_events(uint64_t k)
{
    return opt.events / opt.cycles + (k < opt.events % opt.cycles ? 1 : 0);
}

enum cycle_kind { CK_JOIN, CK_TEXT, CK_BINARY };

/* One acked event: `join`, or `ack` with the pad as a string or as the
 * one attachment of a binary event (answered by a binary ack). */
static void cycle_acked(conn *c, slot *s, enum cycle_kind kind, uint64_t t)
{
    uint64_t id = ++c->next_id;
    char buf[96 + 65536];
    int n;
    if (kind == CK_JOIN)
        n = snprintf(buf, sizeof buf, "42%" PRIu64 "[\"join\"]", id), st.joins++;
    else if (kind == CK_BINARY)
        n = snprintf(buf, sizeof buf, "451-%" PRIu64 "[\"ack\",{\"_placeholder\":true,\"num\":0}]",
                     id), st.binaries++;
    else
        n = snprintf(buf, sizeof buf, "42%" PRIu64 "[\"ack\",\"%s\"]", id, pad);
    slot_sent(c, s, id, t);
    out_frame(c, buf, (size_t)n);
    if (kind == CK_BINARY)
        out_data(c, true, pad, (size_t)opt.payload);
}

/* 9 in 10 cycles say goodbye ("41", a close frame, then the server closes
 * the TCP connection: its TIME_WAIT, not ours); 1 in 10 just reset. */
static void cycle_end(conn *c)
{
    st.cycles_done++;
    if (c->cycle % 10 == 9) {
        st.cycles_abrupt++;
        conn_kill(c, NULL);
        return;
    }
    static const unsigned char normal_closure[2] = {0x03, 0xe8}; /* 1000 */
    out_frame(c, "41", 2);
    out_control(c, 0x8, normal_closure, sizeof normal_closure);
    c->state = ST_CLOSING;
}

/* Send what the cycle may send now; end it when all is sent and answered. */
static void cycle_pump(conn *c, uint64_t t)
{
    while (c->state == ST_READY && c->ev_left > 0) {
        unsigned k = (unsigned)(c->ev_idx % 10);
        if (c->ev_idx == 0 && c->cycle % 16 == 0) {
            slot *s = free_slot(c);
            if (!s)
                return;
            cycle_acked(c, s, CK_JOIN, t);
        } else if (k == 9) {
            char buf[64 + 65536];
            int n = snprintf(buf, sizeof buf, "42[\"fanout\",0,0,\"%s\"]", pad);
            out_frame(c, buf, (size_t)n);
            st.fanouts++;
        } else {
            slot *s = free_slot(c);
            if (!s)
                return;
            cycle_acked(c, s, k == 2 || k == 6 ? CK_BINARY : CK_TEXT, t);
        }
        c->ev_idx++;
        c->ev_left--;
    }
    if (c->state == ST_READY && c->ev_left == 0 && c->inflight == 0 && c->bins_pending == 0)
        cycle_end(c);
}

/* ---- receiving --------------------------------------------------------------- */

static uint64_t parse_u64(const unsigned char **p, const unsigned char *end, bool *ok)
{
    uint64_t v = 0;
    const unsigned char *q = *p;
    while (q < end && *q >= '0' && *q <= '9')
        v = v * 10 + (uint64_t)(*q++ - '0');
    *ok = q > *p;
    *p = q;
    return v;
}

static void on_ready(conn *c, uint64_t t);

static void on_ack(conn *c, uint64_t id, uint64_t t)
{
    if (c->state == ST_JOINING) {
        c->state = ST_READY;
        st.connected++;
        return;
    }
    for (int i = 0; i < opt.inflight; i++) {
        slot *s = &c->slots[i];
        if (s->busy && s->id == id) {
            s->busy = false;
            c->inflight--;
            st.acked++;
            uint64_t lat = t - s->sent_ns;
            if (in_window(t)) {
                st.window_acks++;
                h_add(&st.lat, lat);
            }
            if (opt.scenario == SC_RELOAD && st.last_swap_ns && s->sent_ns >= st.last_swap_ns &&
                s->sent_ns < st.last_swap_ns + 100000000u && st.phase <= PH_WINDOW)
                h_add(&st.swap_lat, lat);
            if (opt.scenario == SC_CYCLE)
                cycle_pump(c, t);
            else
                fill_acks(c, t);
            return;
        }
    }
    if (id <= c->next_id)
        st.dup++;
    else
        st.unexpected++;
    errorf("client %d: ack %" PRIu64 " matches no event in flight", c->index, id);
}

static void on_delivery(const unsigned char *p, const unsigned char *end, uint64_t t)
{
    bool ok1, ok2;
    uint64_t seq = parse_u64(&p, end, &ok1);
    if (p < end && *p == ',')
        p++;
    uint64_t sent_us = parse_u64(&p, end, &ok2);
    if (!ok1 || !ok2) {
        errorf("malformed fanout delivery");
        return;
    }
    st.deliveries++;
    if (in_window(t)) {
        st.window_deliveries++;
        uint64_t t_us = t / 1000;
        h_add(&st.lat, (t_us > sent_us ? t_us - sent_us : 0) * 1000);
    }
    if (seq >= st.seq_done && seq < st.seq_sent && st.seq_sent - seq <= FANOUT_RING) {
        if (++st.ring_count[seq % FANOUT_RING] == (uint32_t)st.receivers) {
            /* complete; the window slides past every completed one in order */
            while (st.seq_done < st.seq_sent &&
                   st.ring_count[st.seq_done % FANOUT_RING] >= (uint32_t)st.receivers)
                st.seq_done++;
        }
    }
}

static const char fanout_prefix[] = "42[\"fanout\",";

static void on_message(conn *c, const unsigned char *m, size_t len, uint64_t t)
{
    const unsigned char *end = m + len;
    if (c->state == ST_CLOSING)
        return; /* said goodbye: whatever was on its way is of no interest */
    if (len >= sizeof fanout_prefix - 1 && memcmp(m, fanout_prefix, sizeof fanout_prefix - 1) == 0) {
        if (opt.scenario == SC_CYCLE)
            st.deliveries++; /* from the other cycles in room "bench" */
        else if (c->role == ROLE_RECEIVER && c->state == ST_READY)
            on_delivery(m + sizeof fanout_prefix - 1, end, t);
        else
            errorf("client %d: unexpected fanout delivery", c->index);
        return;
    }
    if (opt.bare) {
        /* the bare echo server sends our own frame back: "42<id>[..." */
        const unsigned char *p = m + 2;
        bool ok;
        uint64_t id = len > 2 ? parse_u64(&p, end, &ok) : 0;
        if (len > 2 && m[0] == '4' && m[1] == '2' && ok)
            on_ack(c, id, t);
        else
            errorf("client %d: unexpected frame from the bare server", c->index);
        return;
    }
    if (len == 0) {
        errorf("client %d: empty message", c->index);
        return;
    }
    if (opt.msgpack && (m[0] & 0xf0) == 0x80) { /* a fixmap, never an Engine.IO digit */
        on_msgpack(c, m, len, t);
        return;
    }
    switch (m[0]) {
    case '0':
        if (c->state != ST_WAIT_OPEN) {
            errorf("client %d: unexpected open packet", c->index);
            return;
        }
        c->state = ST_WAIT_SIO;
        if (opt.msgpack) /* {type: 0, nsp: "/"} */
            out_data(c, true, "\x82\xa4type\x00\xa3nsp\xa1/", 13);
        else
            out_frame(c, "40", 2);
        return;
    case '1':
        conn_kill(c, "the server closed the Engine.IO session");
        return;
    case '2':
        out_frame(c, "3", 1);
        return;
    case '6':
        return;
    case '4':
        break;
    default:
        errorf("client %d: unexpected Engine.IO packet '%c'", c->index, m[0]);
        return;
    }
    if (len < 2) {
        errorf("client %d: short message", c->index);
        return;
    }
    if (m[1] == '0') {
        if (c->state != ST_WAIT_SIO) {
            errorf("client %d: unexpected CONNECT", c->index);
            return;
        }
        on_ready(c, t);
        return;
    }
    if (m[1] == '4') {
        conn_kill(c, "connect_error from the server");
        return;
    }
    if (m[1] == '3') {
        const unsigned char *p = m + 2;
        bool ok;
        uint64_t id = parse_u64(&p, end, &ok);
        if (!ok || p >= end || *p != '[') {
            errorf("client %d: malformed ack", c->index);
            return;
        }
        on_ack(c, id, t);
        return;
    }
    if (m[1] == '1') {
        conn_kill(c, "disconnected by the server");
        return;
    }
    if (m[1] == '6' && opt.scenario == SC_CYCLE) { /* 461-<id>[...]: attachments follow */
        const unsigned char *p = m + 2;
        bool ok1, ok2 = false;
        uint64_t n = parse_u64(&p, end, &ok1);
        uint64_t id = 0;
        if (ok1 && p < end && *p == '-') {
            p++;
            id = parse_u64(&p, end, &ok2);
        }
        if (!ok2 || n != 1 || p >= end || *p != '[' || c->bins_pending) {
            errorf("client %d: malformed binary ack %.*s", c->index, (int)(len > 40 ? 40 : len),
                   (const char *)m);
            return;
        }
        c->bins_pending = 1;
        c->bin_ack_id = id;
        return;
    }
    errorf("client %d: unexpected packet %.*s", c->index, (int)(len > 40 ? 40 : len), (const char *)m);
}

/* A whole WebSocket message: an attachment when one is due, else a packet. */
static void on_ws_message(conn *c, bool binary, const unsigned char *m, size_t len, uint64_t t)
{
    if (!(binary && c->bins_pending)) {
        on_message(c, m, len, t);
        return;
    }
    if (len != (size_t)opt.payload || (len && memcmp(m, pad, len) != 0))
        errorf("client %d: the binary ack's attachment is not the bytes sent", c->index);
    if (--c->bins_pending == 0)
        on_ack(c, c->bin_ack_id, t);
}

/* Parse complete frames in buf; returns the bytes consumed. */
static size_t parse_frames(conn *c, unsigned char *buf, size_t len, uint64_t t)
{
    size_t off = 0;
    while (c->state != ST_DEAD && len - off >= 2) {
        unsigned char *p = buf + off;
        unsigned fin = p[0] & 0x80, opcode = p[0] & 0x0f;
        bool masked = p[1] & 0x80;
        uint64_t plen = p[1] & 0x7f;
        size_t hlen = 2;
        if (plen == 126) {
            if (len - off < 4)
                break;
            plen = (uint64_t)p[2] << 8 | p[3];
            hlen = 4;
        } else if (plen == 127) {
            if (len - off < 10)
                break;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | p[2 + i];
            hlen = 10;
        }
        if (masked)
            hlen += 4;
        if (plen > (64u << 20)) {
            conn_kill(c, "frame too large");
            break;
        }
        if (len - off < hlen + plen)
            break;
        unsigned char *data = p + hlen;
        if (masked) {
            const unsigned char *mk = p + hlen - 4;
            for (uint64_t i = 0; i < plen; i++)
                data[i] ^= mk[i & 3];
        }
        off += hlen + (size_t)plen;
        switch (opcode) {
        case 0x0: /* continuation */
        case 0x1:
        case 0x2:
            if (opcode != 0)
                c->msg_binary = opcode == 0x2;
            if (opcode != 0 && fin && c->msg_len == 0) {
                on_ws_message(c, c->msg_binary, data, (size_t)plen, t);
            } else {
                grow(&c->msg, &c->msg_cap, c->msg_len + plen);
                memcpy(c->msg + c->msg_len, data, (size_t)plen);
                c->msg_len += (size_t)plen;
                if (fin) {
                    on_ws_message(c, c->msg_binary, c->msg, c->msg_len, t);
                    c->msg_len = 0;
                }
            }
            break;
        case 0x8:
            if (c->state != ST_CLOSING) /* else: the answer to ours; its FIN follows */
                conn_kill(c, "close frame from the server");
            break;
        case 0x9:
            out_control(c, 0xA, data, (size_t)plen);
            break;
        case 0xA:
            break;
        default:
            conn_kill(c, "unknown opcode");
        }
    }
    return off;
}

/* The HTTP head of the upgrade answer; returns the bytes consumed, 0 when
 * incomplete. */
static size_t parse_upgrade(conn *c, unsigned char *buf, size_t len)
{
    unsigned char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    if (len < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
        char line[80];
        size_t n = (size_t)(end - buf);
        snprintf(line, sizeof line, "upgrade refused: %.*s", (int)(n > 60 ? 60 : n), (char *)buf);
        conn_kill(c, line);
        return len;
    }
    if (opt.bare) {
        on_ready(c, now_ns());
    } else {
        c->state = ST_WAIT_OPEN;
    }
    return (size_t)(end + 4 - buf);
}

static void on_readable(conn *c)
{
    for (;;) {
        if (c->state == ST_DEAD)
            return;
        size_t keep = c->in_len;
        grow(&readbuf, &readbuf_cap, keep + READ_CHUNK);
        if (keep)
            memcpy(readbuf, c->in, keep);
        ssize_t n = recv(c->fd, readbuf + keep, READ_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            /* Closing, the server's FIN (or a reset) is the end we waited for. */
            conn_kill(c, c->state == ST_CLOSING ? NULL
                         : n == 0              ? "the server closed the connection"
                                               : strerror(errno));
            return;
        }
        uint64_t t = now_ns();
        size_t len = keep + (size_t)n, off = 0;
        if (c->state == ST_UPGRADING) {
            off = parse_upgrade(c, readbuf, len);
            if (off == 0) {
                if (len > 16384) {
                    conn_kill(c, "upgrade answer too long");
                    return;
                }
            }
        }
        if (c->state != ST_UPGRADING && c->state != ST_DEAD)
            off += parse_frames(c, readbuf + off, len - off, t);
        if (c->state == ST_DEAD)
            return;
        c->in_len = len - off;
        if (c->in_len) {
            grow(&c->in, &c->in_cap, c->in_len);
            memcpy(c->in, readbuf + off, c->in_len);
        }
        /* Drained (edge-triggered: the next edge will come); but a FIN that
         * came with the last bytes has no edge of its own: closing, read on
         * to it. */
        if ((size_t)n < READ_CHUNK && c->state != ST_CLOSING)
            return;
    }
}

/* ---- connecting --------------------------------------------------------------- */

static struct sockaddr_in server_addr, server_addr2;

/* The server c talks to: with --port2, every other fanout receiver goes to
 * the second one. */
static bool on_second(const conn *c)
{
    return opt.port2 && c->role == ROLE_RECEIVER && c->index % 2 == 1;
}

static void conn_open(conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = ST_DEAD;
        st.failed++;
        errorf("socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (opt.sources > 1) {
        /* Many connections to one server port from one address run out of
         * ephemeral ports (and find them slowly among TIME_WAIT ones). */
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(c->index % opt.sources));
#ifdef IP_BIND_ADDRESS_NO_PORT
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src) != 0) {
            conn_kill(c, strerror(errno));
            return;
        }
    }
    c->state = ST_CONNECTING;
    c->opened_ns = now_ns();
    st.opened++;
    st.handshaking++;
    st.live++;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP,
                             .data.u32 = (uint32_t)c->index};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        conn_kill(c, strerror(errno));
        return;
    }
    const struct sockaddr_in *to = on_second(c) ? &server_addr2 : &server_addr;
    if (connect(c->fd, (const struct sockaddr *)to, sizeof *to) != 0 &&
        errno != EINPROGRESS)
        conn_kill(c, strerror(errno));
}

static void on_connected_tcp(conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        conn_kill(c, strerror(err));
        return;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                     "Host: %s:%d\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     opt.host, on_second(c) ? opt.port2 : opt.port);
    c->state = ST_UPGRADING;
    out_raw(c, req, (size_t)n);
}

static void on_ready(conn *c, uint64_t t)
{
    st.handshaking--;
    if (opt.scenario == SC_CYCLE) {
        c->state = ST_READY;
        st.connected++;
        cycle_pump(c, t);
        return;
    }
    if (c->role == ROLE_RECEIVER && !opt.bare) {
        c->state = ST_JOINING;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "42%" PRIu64 "[\"join\"]", ++c->next_id);
        out_frame(c, buf, (size_t)n);
        return;
    }
    c->state = ST_READY;
    st.connected++;
    if (st.connected == 1000)
        st.t_first_k = t;
    if (st.connected == n_conns - 1000)
        st.t_last_k = t;
}

static void open_more(void)
{
    while (st.opened < n_conns && st.handshaking < opt.concurrency)
        conn_open(&conns[st.opened]);
}

/* The next cycle on a slot whose last one ended: as new. */
static void cycle_start(conn *c)
{
    c->cycle = st.cycles_started++;
    c->cycle_open = true;
    c->ev_left = cycle_events(c->cycle);
    c->ev_idx = 0;
    c->in_len = c->msg_len = 0;
    c->out_len = c->out_off = 0;
    c->next_id = 0;
    c->inflight = 0;
    c->bins_pending = 0;
    for (int i = 0; i < opt.inflight; i++)
        c->slots[i].busy = false;
    conn_open(c);
}

/* After each batch of events: slots whose cycle ended start the next. */
static void cycle_reopen(void)
{
    while (st.n_reopen > 0 && st.cycles_started < opt.cycles && st.handshaking < opt.concurrency)
        cycle_start(&conns[st.reopen[--st.n_reopen]]);
}

/* ---- phases ---------------------------------------------------------------- */

static void swap_plugin(uint64_t t)
{
    const char *src = st.swaps % 2 == 0 ? opt.swap_b : opt.swap_a;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.loadgen-tmp", opt.swap_dest);
    FILE *in = fopen(src, "rb"), *out = in ? fopen(tmp, "wb") : NULL;
    bool ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    if (ok && rename(tmp, opt.swap_dest) != 0)
        ok = false;
    if (!ok) {
        st.swap_failures++;
        errorf("cannot install %s as %s: %s", src, opt.swap_dest, strerror(errno));
    }
    st.swaps++;
    st.last_swap_ns = t;
}

static void begin_load(uint64_t t)
{
    st.t_ready = t;
    st.t_window = t + (uint64_t)(opt.warmup * 1e9);
    st.t_window_end = st.t_window + (uint64_t)(opt.duration * 1e9);
    st.phase = PH_WARMUP;
    st.next_send_ns = t;
    st.next_swap_ns = t + (uint64_t)opt.swap_ms * 1000000u;
    for (int i = 0; i < n_conns; i++) {
        conn *c = &conns[i];
        if (c->state == ST_READY && c->role == ROLE_ACKER)
            fill_acks(c, t);
    }
    if (opt.scenario == SC_FANOUT)
        pump_fanout(t);
}

static int outstanding(void)
{
    int n = 0;
    for (int i = 0; i < n_conns; i++)
        n += conns[i].state != ST_DEAD ? conns[i].inflight : 0;
    return n;
}

static void advance(uint64_t t)
{
    if (opt.scenario == SC_CYCLE) {
        if (st.cycles_started >= opt.cycles && st.live == 0) {
            st.t_cycles_end = st.t_window_end = t;
            st.srv_cpu1 = proc_cpu_s(opt.server_pid);
            st.self_cpu1 = self_cpu_s();
            st.phase = PH_DONE;
        }
        return;
    }
    switch (st.phase) {
    case PH_CONNECT:
        if (st.connected + st.failed >= n_conns) {
            st.t_all_connected = t;
            if (opt.scenario == SC_CONNECT) {
                st.srv_cpu1 = proc_cpu_s(opt.server_pid);
                st.self_cpu1 = self_cpu_s();
                st.phase = PH_WINDOW;
                st.t_window_end = t + (uint64_t)(opt.settle * 1e9);
            } else if (st.connected == 0 ||
                       (opt.scenario == SC_FANOUT && sender()->state != ST_READY)) {
                st.phase = PH_DONE;
            } else {
                begin_load(t);
            }
        } else if (t - st.t_start > (uint64_t)(opt.connect_timeout * 1e9)) {
            errorf("only %d of %d clients connected within %.0f s", st.connected, n_conns,
                   opt.connect_timeout);
            st.phase = PH_DONE;
        }
        break;
    case PH_WARMUP:
        if (t >= st.t_window) {
            st.phase = PH_WINDOW;
            st.srv_cpu0 = proc_cpu_s(opt.server_pid);
            st.self_cpu0 = self_cpu_s();
        }
        break;
    case PH_WINDOW:
        if (t >= st.t_window_end) {
            if (opt.scenario != SC_CONNECT) {
                st.srv_cpu1 = proc_cpu_s(opt.server_pid);
                st.self_cpu1 = self_cpu_s();
            }
            if (opt.scenario == SC_CONNECT) {
                st.rss_after = proc_rss_kb(opt.server_pid);
                st.phase = PH_DONE;
            } else {
                st.phase = PH_DRAIN;
                st.t_drain_end = t + (uint64_t)(opt.drain * 1e9);
            }
        }
        break;
    case PH_DRAIN: {
        bool idle = opt.scenario == SC_FANOUT ? st.seq_done >= st.seq_sent || opt.rate > 0
                                              : outstanding() == 0;
        if (idle || t >= st.t_drain_end)
            st.phase = PH_DONE;
        break;
    }
    case PH_DONE:
        break;
    }
    if (opt.scenario == SC_RELOAD && (st.phase == PH_WARMUP || st.phase == PH_WINDOW) &&
        t >= st.next_swap_ns) {
        swap_plugin(t);
        st.next_swap_ns += (uint64_t)opt.swap_ms * 1000000u;
    }
    if (opt.scenario == SC_FANOUT && opt.rate > 0)
        pump_fanout(t);
}

static int next_timeout_ms(uint64_t t)
{
    uint64_t next = UINT64_MAX;
    if (st.phase == PH_WARMUP)
        next = st.t_window;
    else if (st.phase == PH_WINDOW)
        next = st.t_window_end;
    else if (st.phase == PH_DRAIN)
        next = st.t_drain_end;
    if (opt.scenario == SC_RELOAD && st.next_swap_ns < next)
        next = st.next_swap_ns;
    if (opt.scenario == SC_FANOUT && opt.rate > 0 && st.next_send_ns < next)
        next = st.next_send_ns;
    if (st.phase == PH_CONNECT || st.phase == PH_DRAIN)
        return 100;
    if (next == UINT64_MAX)
        return 100;
    if (next <= t)
        return 0;
    uint64_t ms = (next - t + 999999) / 1000000;
    return ms > 100 ? 100 : (int)ms;
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: loadgen --port PORT [options]\n"
            "  --port2 PORT         fanout: every other receiver connects to this port\n"
            "                       (a second server joined to the first by an adapter)\n"
            "  --host ADDR          server address (127.0.0.1)\n"
            "  --scenario NAME      ack | fanout | connect | reload | cycle (ack)\n"
            "  --bare               bare WebSocket: no Engine.IO/Socket.IO (the echo server)\n"
            "  --msgpack            socket.io-msgpack-parser packets (ack scenario)\n"
            "  --clients N          clients (fanout: receivers; one sender more) (100)\n"
            "  --inflight K         events in flight per client; fanout: broadcasts (1)\n"
            "  --payload BYTES      length of the string argument (16)\n"
            "  --warmup S           seconds before the window (1)\n"
            "  --duration S         measured window in seconds (8)\n"
            "  --drain S            wait at most S for outstanding acks after it (5)\n"
            "  --rate R             fanout: broadcasts per second (0: closed loop)\n"
            "  --concurrency N      handshakes in progress at most (200)\n"
            "  --sources N          connect from 127.0.0.2 .. 127.0.0.N+1 in turn, each\n"
            "                       with its own ephemeral ports (1: the default address)\n"
            "  --settle S           connect: idle seconds before reading RSS (1)\n"
            "  --connect-timeout S  give up connecting after S (30)\n"
            "  --server-pid PID     read the server's CPU and RSS from /proc\n"
            "  --swap-a FILE --swap-b FILE --swap-dest FILE [--swap-ms MS (500)]\n"
            "                       reload: install a, b, a, ... as dest every MS\n"
            "  --cycles N --events E\n"
            "                       cycle: N connect/disconnect cycles carrying E events\n"
            "                       in all, --clients of them at a time; --duration is\n"
            "                       then a time limit (3600)\n");
}

static double num_arg(const char *name, const char *v, double lo, double hi)
{
    char *end;
    double d = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || d < lo || d > hi) {
        fprintf(stderr, "loadgen: --%s: invalid value '%s' (%g..%g)\n", name, v, lo, hi);
        exit(2);
    }
    return d;
}

static void parse_args(int argc, char **argv)
{
    enum {
        O_HOST = 1, O_PORT, O_PORT2, O_SCENARIO, O_BARE, O_CLIENTS, O_INFLIGHT, O_PAYLOAD, O_WARMUP,
        O_DURATION, O_DRAIN, O_RATE, O_CONC, O_SETTLE, O_CTIMEOUT, O_PID, O_SWAP_A, O_SWAP_B,
        O_SWAP_DEST, O_SWAP_MS, O_MSGPACK, O_SOURCES, O_CYCLES, O_EVENTS, O_HELP
    };
    static const struct option longopts[] = {
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"port2", required_argument, NULL, O_PORT2},
        {"scenario", required_argument, NULL, O_SCENARIO},
        {"bare", no_argument, NULL, O_BARE},
        {"msgpack", no_argument, NULL, O_MSGPACK},
        {"clients", required_argument, NULL, O_CLIENTS},
        {"inflight", required_argument, NULL, O_INFLIGHT},
        {"payload", required_argument, NULL, O_PAYLOAD},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"duration", required_argument, NULL, O_DURATION},
        {"drain", required_argument, NULL, O_DRAIN},
        {"rate", required_argument, NULL, O_RATE},
        {"concurrency", required_argument, NULL, O_CONC},
        {"sources", required_argument, NULL, O_SOURCES},
        {"settle", required_argument, NULL, O_SETTLE},
        {"connect-timeout", required_argument, NULL, O_CTIMEOUT},
        {"server-pid", required_argument, NULL, O_PID},
        {"swap-a", required_argument, NULL, O_SWAP_A},
        {"swap-b", required_argument, NULL, O_SWAP_B},
        {"swap-dest", required_argument, NULL, O_SWAP_DEST},
        {"swap-ms", required_argument, NULL, O_SWAP_MS},
        {"cycles", required_argument, NULL, O_CYCLES},
        {"events", required_argument, NULL, O_EVENTS},
        {"help", no_argument, NULL, O_HELP},
        {0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case O_HOST: opt.host = optarg; break;
        case O_PORT: opt.port = (int)num_arg("port", optarg, 1, 65535); break;
        case O_PORT2: opt.port2 = (int)num_arg("port2", optarg, 1, 65535); break;
        case O_SCENARIO: {
            int i = 0;
            while (i < N_SCENARIOS && strcmp(optarg, scenario_names[i]) != 0)
                i++;
            if (i == N_SCENARIOS) {
                fprintf(stderr, "loadgen: unknown scenario '%s'\n", optarg);
                exit(2);
            }
            opt.scenario = (enum scenario)i;
            break;
        }
        case O_BARE: opt.bare = true; break;
        case O_MSGPACK: opt.msgpack = true; break;
        case O_CLIENTS: opt.clients = (int)num_arg("clients", optarg, 1, 1000000); break;
        case O_INFLIGHT: opt.inflight = (int)num_arg("inflight", optarg, 1, MAX_INFLIGHT); break;
        case O_PAYLOAD: opt.payload = (int)num_arg("payload", optarg, 0, 65000); break;
        case O_WARMUP: opt.warmup = num_arg("warmup", optarg, 0, 3600); break;
        case O_DURATION:
            opt.duration = num_arg("duration", optarg, 0.01, 3600);
            opt.duration_set = true;
            break;
        case O_DRAIN: opt.drain = num_arg("drain", optarg, 0, 3600); break;
        case O_RATE: opt.rate = num_arg("rate", optarg, 0, 1e7); break;
        case O_CONC: opt.concurrency = (int)num_arg("concurrency", optarg, 1, 1000000); break;
        case O_SOURCES: opt.sources = (int)num_arg("sources", optarg, 1, 250); break;
        case O_SETTLE: opt.settle = num_arg("settle", optarg, 0, 3600); break;
        case O_CTIMEOUT: opt.connect_timeout = num_arg("connect-timeout", optarg, 0.1, 3600); break;
        case O_PID: opt.server_pid = (int)num_arg("server-pid", optarg, 1, 1 << 30); break;
        case O_SWAP_A: opt.swap_a = optarg; break;
        case O_SWAP_B: opt.swap_b = optarg; break;
        case O_SWAP_DEST: opt.swap_dest = optarg; break;
        case O_SWAP_MS: opt.swap_ms = (int)num_arg("swap-ms", optarg, 1, 3600000); break;
        case O_CYCLES: opt.cycles = (uint64_t)num_arg("cycles", optarg, 1, 1e12); break;
        case O_EVENTS: opt.events = (uint64_t)num_arg("events", optarg, 0, 1e13); break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind != argc || !opt.port) {
        usage(stderr);
        exit(2);
    }
    if (opt.msgpack && (opt.scenario != SC_ACK || opt.bare)) {
        fprintf(stderr, "loadgen: --msgpack is for the ack scenario against a Socket.IO server\n");
        exit(2);
    }
    if (opt.scenario == SC_RELOAD && (!opt.swap_a || !opt.swap_b || !opt.swap_dest)) {
        fprintf(stderr, "loadgen: reload needs --swap-a, --swap-b and --swap-dest\n");
        exit(2);
    }
    if (opt.scenario == SC_CYCLE && (opt.bare || opt.msgpack || !opt.cycles)) {
        fprintf(stderr, "loadgen: cycle needs --cycles, against a Socket.IO server (no --bare, "
                        "--msgpack)\n");
        exit(2);
    }
    if (opt.scenario == SC_FANOUT && opt.bare && opt.clients < 1) {
        fprintf(stderr, "loadgen: fanout needs receivers\n");
        exit(2);
    }
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static double per_sec(uint64_t n, double secs) { return secs > 0 ? (double)n / secs : 0; }

static void report(void)
{
    double window = st.t_window_end > st.t_window && st.t_window
                        ? (double)(st.t_window_end - st.t_window) / 1e9
                        : 0;
    double srv = st.srv_cpu0 >= 0 && st.srv_cpu1 >= 0 ? st.srv_cpu1 - st.srv_cpu0 : -1;
    double self = st.self_cpu1 - st.self_cpu0;
    const char *mode = opt.bare ? "bare" : opt.msgpack ? "msgpack" : "sio";
    uint64_t lost = 0;
    if (opt.scenario == SC_ACK || opt.scenario == SC_RELOAD || opt.scenario == SC_CYCLE)
        lost = st.sent > st.acked ? st.sent - st.acked : 0;

    if (opt.scenario == SC_CYCLE) {
        double secs = (double)(st.t_cycles_end ? st.t_cycles_end - st.t_start : now_ns() - st.t_start) / 1e9;
        uint64_t events = st.sent + st.fanouts;
        printf("RESULT scenario=cycle mode=sio clients=%d inflight=%d payload=%d cycles=%" PRIu64
               " cycles_done=%" PRIu64 " abrupt=%" PRIu64 " failed=%d seconds=%.3f cycle_rate=%.1f"
               " events=%" PRIu64 " event_rate=%.1f acked=%" PRIu64 " joins=%" PRIu64
               " binaries=%" PRIu64 " fanouts=%" PRIu64 " deliveries=%" PRIu64 " lost=%" PRIu64
               " dup=%" PRIu64 " unexpected=%" PRIu64 " p50_us=%.1f p99_us=%.1f srv_cpu_s=%.2f"
               " srv_us_per_cycle=%.2f gen_cpu_pct=%.1f errors=%" PRIu64 "\n",
               opt.clients, opt.inflight, opt.payload, opt.cycles, st.cycles_done, st.cycles_abrupt,
               st.failed, secs, per_sec(st.cycles_done, secs), events, per_sec(events, secs), st.acked,
               st.joins, st.binaries, st.fanouts, st.deliveries, lost, st.dup, st.unexpected,
               h_quantile_us(&st.lat, 0.50), h_quantile_us(&st.lat, 0.99), srv,
               srv >= 0 && st.cycles_done ? srv * 1e6 / (double)st.cycles_done : -1,
               secs > 0 ? 100 * self / secs : -1, st.errors);
        fflush(stdout);
        return;
    }

    printf("RESULT scenario=%s mode=%s clients=%d inflight=%d payload=%d connected=%d failed=%d",
           scenario_names[opt.scenario], mode, opt.clients, opt.inflight, opt.payload, st.connected,
           st.failed);
    if (opt.scenario == SC_CONNECT) {
        double secs = st.t_all_connected > st.t_start ? (double)(st.t_all_connected - st.t_start) / 1e9 : 0;
        long per = st.rss_before >= 0 && st.rss_after >= 0 && st.connected
                       ? (st.rss_after - st.rss_before) * 1024 / st.connected
                       : -1;
        printf(" seconds=%.3f conn_rate=%.1f rss_before_kb=%ld rss_after_kb=%ld rss_per_conn_b=%ld",
               secs, per_sec((uint64_t)st.connected, secs), st.rss_before, st.rss_after, per);
        printf(" srv_cpu_pct=%.1f srv_us_per_conn=%.2f", srv >= 0 && secs > 0 ? 100 * srv / secs : -1,
               srv >= 0 && st.connected ? srv * 1e6 / st.connected : -1);
        /* Does connecting slow down as connections pile up? */
        if (n_conns >= 2000 && st.t_first_k && st.t_last_k && st.connected == n_conns)
            printf(" rate_first_1000=%.1f rate_last_1000=%.1f",
                   per_sec(1000, (double)(st.t_first_k - st.t_start) / 1e9),
                   per_sec(1000, (double)(st.t_all_connected - st.t_last_k) / 1e9));
        window = secs;
    } else {
        uint64_t counted = opt.scenario == SC_FANOUT ? st.window_deliveries : st.window_acks;
        double rate = per_sec(counted, window);
        printf(" window_s=%.3f events=%" PRIu64 " rate=%.1f", window, counted, rate);
        printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f",
               h_quantile_us(&st.lat, 0.50), h_quantile_us(&st.lat, 0.90), h_quantile_us(&st.lat, 0.99), h_quantile_us(&st.lat, 0.999),
               (double)st.lat.max / 1000.0);
        printf(" srv_cpu_pct=%.1f srv_us_per_event=%.3f", srv >= 0 && window > 0 ? 100 * srv / window : -1,
               srv >= 0 && counted ? srv * 1e6 / (double)counted : -1);
        if (opt.scenario == SC_FANOUT)
            printf(" broadcasts=%" PRIu64 " window_broadcasts=%" PRIu64 " receivers=%d", st.broadcasts,
                   st.window_broadcasts, st.receivers);
        else
            printf(" sent=%" PRIu64 " acked=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
                   " unexpected=%" PRIu64,
                   st.sent, st.acked, lost, st.dup, st.unexpected);
        if (opt.scenario == SC_RELOAD)
            printf(" swaps=%d swap_failures=%d swap_p99_us=%.1f swap_samples=%" PRIu64, st.swaps,
                   st.swap_failures, h_quantile_us(&st.swap_lat, 0.99), st.swap_lat.n);
    }
    printf(" gen_cpu_pct=%.1f errors=%" PRIu64 "\n",
           window > 0 ? 100 * self / window : -1, st.errors);
    fflush(stdout);
    (void)lost;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);

    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)opt.port);
    if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
        return 2;
    }
    server_addr2 = server_addr;
    server_addr2.sin_port = htons((uint16_t)opt.port2);
    pad = malloc((size_t)opt.payload + 1);
    memset(pad, 'x', (size_t)opt.payload);
    pad[opt.payload] = '\0';
    grow(&readbuf, &readbuf_cap, 2 * READ_CHUNK);

    n_conns = opt.clients + (opt.scenario == SC_FANOUT ? 1 : 0);
    st.receivers = opt.scenario == SC_FANOUT ? opt.clients : 0;
    conns = calloc((size_t)n_conns, sizeof *conns);
    dirty_list = calloc((size_t)n_conns, sizeof *dirty_list);
    st.reopen = calloc((size_t)n_conns, sizeof *st.reopen);
    slot *slots = calloc((size_t)n_conns * (size_t)opt.inflight, sizeof *slots);
    if (!pad || !readbuf || !conns || !dirty_list || !slots || !st.reopen) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n_conns; i++) {
        conns[i].index = i;
        conns[i].fd = -1;
        conns[i].state = ST_DEAD;
        conns[i].slots = slots + (size_t)i * (size_t)opt.inflight;
        conns[i].role = opt.scenario == SC_FANOUT
                            ? (i == n_conns - 1 ? ROLE_SENDER : ROLE_RECEIVER)
                            : ROLE_ACKER;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    st.srv_cpu0 = st.srv_cpu1 = -1;
    st.rss_before = proc_rss_kb(opt.server_pid);
    st.rss_after = -1;
    st.t_start = now_ns();
    double budget = opt.connect_timeout + opt.warmup + opt.duration + opt.drain + opt.settle + 30;
    if (opt.scenario == SC_CYCLE)
        budget = opt.duration_set ? opt.duration : 3600;
    st.deadline = st.t_start + (uint64_t)(budget * 1e9);

    if (opt.scenario == SC_CONNECT || opt.scenario == SC_CYCLE)
        st.self_cpu0 = self_cpu_s(), st.srv_cpu0 = proc_cpu_s(opt.server_pid);
    if (opt.scenario == SC_CYCLE) {
        st.phase = PH_WINDOW; /* every ack counts */
        st.t_window = st.t_start;
        st.t_window_end = UINT64_MAX;
        for (int i = n_conns - 1; i >= 0; i--)
            st.reopen[st.n_reopen++] = i;
        cycle_reopen();
    } else {
        open_more();
    }
    flush_dirty();

    struct epoll_event evs[512];
    while (st.phase != PH_DONE) {
        uint64_t t = now_ns();
        if (t > st.deadline) {
            errorf("gave up after %.0f s", budget);
            break;
        }
        int n = epoll_wait(epfd, evs, 512, next_timeout_ms(t));
        if (n < 0 && errno != EINTR) {
            perror("loadgen: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = &conns[evs[i].data.u32];
            if (c->state == ST_DEAD)
                continue;
            uint32_t e = evs[i].events;
            if (c->state == ST_CONNECTING) {
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    on_connected_tcp(c);
                if (c->state != ST_DEAD)
                    flush(c);
                continue;
            }
            if (e & EPOLLOUT)
                flush(c);
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
                on_readable(c);
        }
        t = now_ns();
        if (opt.scenario == SC_CYCLE)
            cycle_reopen();
        else if (st.phase == PH_CONNECT)
            open_more();
        if (opt.scenario == SC_FANOUT && opt.rate == 0)
            pump_fanout(t);
        advance(t);
        flush_dirty();
    }
    if (opt.scenario == SC_CONNECT && st.self_cpu1 == 0) /* never reached the window */
        st.self_cpu1 = self_cpu_s();

    uint64_t lost = (opt.scenario == SC_ACK || opt.scenario == SC_RELOAD || opt.scenario == SC_CYCLE) &&
                            st.sent > st.acked
                        ? st.sent - st.acked
                        : 0;
    if (lost)
        errorf("%" PRIu64 " event(s) never acked", lost);
    if (opt.scenario == SC_FANOUT && opt.rate == 0 && st.seq_done < st.seq_sent)
        errorf("%" PRIu64 " broadcast(s) did not reach every receiver", st.seq_sent - st.seq_done);
    report();
    for (int i = 0; i < n_conns; i++)
        if (conns[i].state != ST_DEAD)
            conn_kill(&conns[i], NULL);
    return st.errors || st.dup || lost || st.failed ? 1 : 0;
}
