/*
 * http.c - the HTTP and WebSocket glue: one libwebsockets protocol that
 * serves serverOptions.path for both Engine.IO transports.
 *
 * Long-polling: a GET is answered at once when the session has output,
 * else held (no lws timeout, rx flow control off so lws does not spin on
 * a peer that left) until the session wakes it.  A POST's body is
 * collected and decoded at completion.  Every response carries an exact
 * Content-Length, so connections stay alive between requests.
 *
 * WebSocket: the upgrade is checked in HTTP_CONFIRM_UPGRADE (a refusal is
 * a 400 with socket.io's JSON error), the handshake read in ESTABLISHED
 * (the headers are gone after it), messages reassembled from fragments.
 *
 * Request checks and error bodies follow engine.io's server: codes 0-5
 * with its messages, a second concurrent GET or POST closes the session,
 * a POST over maxHttpBufferSize gets 413 and closes it.
 *
 * HTTP/1.1 as clients expect it: a request that asks for `Connection:
 * close` (or an HTTP/1.0 one without keep-alive) is answered with
 * `Connection: close` before lws closes, so a keep-alive agent never
 * reuses a socket that is going away; query arguments and header values
 * are read whole at any length; a request head over server.maxHeaderSize
 * is refused with 431 and a log line, as Node's HTTP server does.
 * Pipelined requests are served in order, except one with a body behind
 * another, which libwebsockets 4.1.6 cannot read (it would loop for ever):
 * its connection is closed unanswered ("pipelined requests" below).
 *
 * A request that trickles in (slowloris) is cut: its head must have
 * arrived within server.headersTimeout and the whole of it, a POST's body
 * included, within server.requestTimeout, counted from the accept or, on
 * a kept-alive connection, from the previous response.  lws's own
 * timeouts are whole seconds and re-armed by every piece of a body, so
 * each HTTP connection has one of plugio's timers (ms) until it becomes a
 * WebSocket; a held long-poll GET is not subject to it (the heartbeat
 * is).  A cut request is answered 408 when nothing else is being written,
 * then closed, and logged with the peer's address.
 *
 * A response is written whole (http_send); what the socket does not take
 * libwebsockets keeps and sends as the peer reads.  While it holds some,
 * the shorter of the two timeouts bounds the time between two steps of
 * the send, not the whole of it (nginx's send_timeout): a 3 MB source map
 * on a slow link arrives whole however long it takes, as long as the peer
 * keeps reading, measured by the bytes it acknowledged (tcp_acked.c).  A
 * peer that reads nothing for that long is cut, so that it cannot keep
 * the response in memory forever, logged and counted apart from slow
 * requests.  A response that ends the connection (Connection: close) is
 * sent under the same rule and the connection closed after it.  Once the
 * rest is out the connection is idle, the next request due as after any
 * response.
 *
 * The site (web/site.c) answers what is not Engine.IO's; a plugin's
 * route among it may take a body of any method (http_read_body): read as
 * a polling POST's, under the same deadline, and handed to the site's
 * body fn once whole, the request's head still readable then.
 *
 * Connections are counted from accept to close.  Past server.maxConnections
 * (capped to what the descriptor limit leaves room for) a request that
 * would start a new session is answered 503 and closed; requests of
 * sessions that exist are served, so no connected client is cut off.
 *
 * security.allow and security.maxConnectionsPerAddress (limits.c) refuse
 * a handshake as engine.io refuses one its allowRequest rejects.
 */
#include "http.h"

#include "base/log.h"
#include "base/out.h"
#include "base/tcp_acked.h"
#include "base/timer.h"
#include "config/config.h"
#include "cors.h"
#include "eio_session.h"
#include "eio_stats.h"
#include "limits.h"
#include "ws_deflate.h"
#include "zip.h"

#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* CONN_SITE_BODY: a request the site serves once its body has come
 * (http_read_body). */
typedef enum conn_kind {
    CONN_NONE,
    CONN_POLL_GET,
    CONN_POLL_POST,
    CONN_SITE_BODY,
    CONN_WS
} conn_kind;

/* Per connection (WebSocket) or per HTTP transaction (polling) state:
 * lws allocates it zeroed and frees it; what it points to is ours. */
typedef struct conn { /* per connection: ordered to leave no holes */
    eio_session *session;  /* a reference */
    buf body;              /* POST body, or a WebSocket message in pieces */
    ws_inflater *inflater; /* owned; NULL until a compressed message came */
    char *site_path;       /* CONN_SITE_BODY: owned, the request's path */
    size_t body_max;       /* CONN_SITE_BODY: its Content-Length */
    conn_kind kind;
    bool body_binary;
    bool deflate;          /* the WebSocket negotiated permessage-deflate */
    bool body_deflated;    /* the message in `body` arrives compressed */
} conn;

/* engine.io's error codes and messages. */
enum {
    ERR_UNKNOWN_TRANSPORT = 0,
    ERR_UNKNOWN_SID = 1,
    ERR_BAD_HANDSHAKE_METHOD = 2,
    ERR_BAD_REQUEST = 3,
    ERR_FORBIDDEN = 4,
    ERR_UNSUPPORTED_PROTOCOL_VERSION = 5,
};
static const char *const err_messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request",       "Forbidden",          "Unsupported protocol version",
};

static void conn_release(conn *c)
{
    buf_free(&c->body);
    ws_inflater_free(&c->inflater);
    free(c->site_path);
    c->site_path = NULL;
    if (c->session) {
        eio_session_unref(c->session);
        c->session = NULL;
    }
    c->kind = CONN_NONE;
}

/* The configuration in force (server.*), set at start and by each reload. */
static const config *cfg;

void http_set_config(const config *c) { cfg = c; }

/* TCP connections accepted and not yet destroyed, and the most the
 * descriptor limit allows (0 until server.c sets it: no cap). */
static size_t open_connections;
static size_t connection_ceiling;

void http_set_connection_ceiling(size_t n) { connection_ceiling = n; }

/* ---- slow requests ----------------------------------------------------- */

typedef enum deadline_phase {
    PHASE_HEAD,     /* the first request's head is on its way */
    PHASE_IDLE,     /* kept alive after a response: idle, or the next head on its way */
    PHASE_HANDLING, /* the head is in; LWS_CALLBACK_HTTP runs */
    PHASE_BODY,     /* a POST's body is on its way */
    PHASE_SENDING,  /* lws still holds part of a response: the peer must read on */
    PHASE_NONE,     /* not bounded: a held poll, or the request is served */
} deadline_phase;

/* What is known of how much lws had read from the socket when the
 * connection's previous response completed (see "pipelined requests"). */
typedef enum read_mark {
    MARK_NONE,    /* no response yet: the request came from the socket */
    MARK_VALID,   /* `read` holds it */
    MARK_UNKNOWN, /* lws discards a body it had not read, or the count failed */
} read_mark;

/* One per HTTP connection (lws's opaque user data: the per-session data
 * lives only as long as one transaction), freed when the connection
 * becomes a WebSocket or is destroyed. */
typedef struct deadline {
    timer t; /* first: the timer's callback finds its deadline */
    struct lws *wsi;
    uint64_t start; /* ms: the accept, the end of the previous response, or
                       (sending) the last time the peer read more */
    uint64_t acked; /* sending: the bytes the peer had acknowledged then */
    uint64_t read;  /* MARK_VALID: the bytes lws had read from the socket then */
    deadline_phase phase;
    read_mark mark;
    bool cut;         /* closing: a request that completes meanwhile is not served */
    bool close_after; /* sending: the response ends the connection */
    bool body_unread; /* the request has a body lws has not read (or discards) */
} deadline;

static void peer_address(struct lws *wsi, char *out, size_t len);

static uint32_t headers_timeout(void)
{
    return cfg ? cfg->headers_timeout : CONFIG_HEADERS_TIMEOUT;
}

static uint32_t request_timeout(void)
{
    return cfg ? cfg->request_timeout : CONFIG_REQUEST_TIMEOUT;
}

static void deadline_due(timer *t);

/* (Re)arm d for `phase`, `limit` ms after its start. */
static void deadline_arm(deadline *d, deadline_phase phase, uint32_t limit)
{
    d->phase = phase;
    uint64_t now = timer_now(), due = d->start + limit;
    timer_start(&d->t, due > now ? due - now : 0, deadline_due);
}

/* A new request may begin now: the head is due within the shorter of the
 * two timeouts. */
static void deadline_begin(struct lws *wsi, deadline_phase phase)
{
    deadline *d = lws_get_opaque_user_data(wsi);
    if (!d)
        return;
    d->start = timer_now();
    uint32_t h = headers_timeout(), r = request_timeout();
    deadline_arm(d, phase, h < r ? h : r);
}

static void deadline_stop(struct lws *wsi)
{
    deadline *d = lws_get_opaque_user_data(wsi);
    if (d) {
        timer_stop(&d->t);
        d->phase = PHASE_NONE;
    }
}

/* The transaction completed now: note how much lws has read. */
static void deadline_mark(deadline *d)
{
    d->mark = !d->body_unread && tcp_bytes_read(lws_get_socket_fd(d->wsi), &d->read)
                  ? MARK_VALID
                  : MARK_UNKNOWN;
}

static void deadline_free(struct lws *wsi)
{
    deadline *d = lws_get_opaque_user_data(wsi);
    if (d) {
        timer_stop(&d->t);
        free(d);
        lws_set_opaque_user_data(wsi, NULL);
    }
}

/* How often a response being sent is looked at: its progress, and
 * whether lws has sent the rest (lws 4.1.6 completes a deferred
 * transaction without a callback: no HTTP_WRITEABLE follows). */
#define SENDING_TICK_MS 1000

static uint32_t sending_limit(void)
{
    uint32_t h = headers_timeout(), r = request_timeout();
    return h < r ? h : r;
}

static void sending_arm(deadline *d)
{
    uint32_t limit = sending_limit();
    timer_start(&d->t, limit < SENDING_TICK_MS ? limit : SENDING_TICK_MS, deadline_due);
}

/* http_send wrote a response of which lws keeps a part: from now on the
 * peer must read on; `close`: the connection ends after it. */
static void deadline_sending(struct lws *wsi, bool close)
{
    deadline *d = lws_get_opaque_user_data(wsi);
    if (!d) {
        if (close)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    /* plugio's deadline bounds the send, not lws's own timeouts. */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    d->phase = PHASE_SENDING;
    /* lws completes the transaction when the rest is out; what it reads
     * from the socket meanwhile it parses at once (it stashes input only
     * while serving a file of its own, which plugio never asks), so a
     * request it later parses from kept input was read by now. */
    deadline_mark(d);
    d->start = timer_now();
    d->close_after = close;
    d->cut = d->cut || close; /* a request pipelined behind it is not served */
    d->acked = 0;
    tcp_bytes_acked(lws_get_socket_fd(wsi), &d->acked);
    sending_arm(d);
}

/* The rest of the response is out: the connection is idle, or ends. */
static void sending_done(deadline *d)
{
    if (d->close_after) {
        d->phase = PHASE_NONE;
        lws_set_timeout(d->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    } else {
        /* No request began since (it would have ended this phase), so
         * whatever lws read meanwhile it parsed. */
        deadline_mark(d);
        deadline_begin(d->wsi, PHASE_IDLE);
    }
}

/* The peer read nothing for the limit: dropped with a reset (SO_LINGER
 * 0), so that neither lws nor the kernel keeps the unsent rest for it. */
static void sending_cut(deadline *d)
{
    static log_quiet cut;
    struct lws *wsi = d->wsi;
    int fd = lws_get_socket_fd(wsi);
    eio_counters.cut_send++;
    if (log_quiet_due(&cut)) {
        char address[46];
        peer_address(wsi, address, sizeof address);
        log_warn("cut a response to %s: the peer read nothing of it for %u ms (the shorter of "
                 "server.headersTimeout and server.requestTimeout): closed (%lu cut so far)",
                 address, sending_limit(), cut.count);
    }
    d->phase = PHASE_NONE;
    d->cut = true;
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    /* lws would otherwise wait up to 5 s for the socket to take the rest;
     * shut, its next send fails and it closes at once. */
    shutdown(fd, SHUT_RDWR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void sending_check(deadline *d)
{
    struct lws *wsi = d->wsi;
    if (!lws_partial_buffered(wsi)) {
        sending_done(d);
        return;
    }
    uint64_t acked, now = timer_now();
    if (tcp_bytes_acked(lws_get_socket_fd(wsi), &acked) && acked != d->acked) {
        d->acked = acked;
        d->start = now;
    } else if (now - d->start >= sending_limit()) {
        sending_cut(d);
        return;
    }
    sending_arm(d);
}

/* A kept-alive connection whose next request has not begun is closed
 * quietly, as an idle one; one whose request line has arrived, or a first
 * request, or a body, is cut: 408 when nothing else is being written
 * (written directly: no response has begun), then closed. */
static void deadline_due(timer *t)
{
    static log_quiet cut;
    deadline *d = (deadline *)t;
    struct lws *wsi = d->wsi;
    if (d->phase == PHASE_SENDING) {
        sending_check(d);
        return;
    }
    deadline_phase phase = d->phase;
    d->phase = PHASE_NONE;
    d->cut = true;
    bool begun = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0 ||
                 lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 ||
                 lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI) > 0;
    char address[46];
    peer_address(wsi, address, sizeof address);
    if (phase == PHASE_IDLE && !begun) {
        log_debug("closed a kept-alive connection from %s: no request within %u ms", address,
                  headers_timeout());
    } else {
        /* The head's deadline is the shorter of the two. */
        bool by_request = phase == PHASE_BODY || request_timeout() < headers_timeout();
        eio_counters.cut_slow++;
        if (log_quiet_due(&cut))
            log_warn("cut a slow request from %s: its %s had not arrived within "
                     "server.%s (%u ms): 408, closed (%lu cut so far)",
                     address, phase == PHASE_BODY ? "body" : "head",
                     by_request ? "requestTimeout" : "headersTimeout",
                     by_request ? request_timeout() : headers_timeout(), cut.count);
        if (!lws_send_pipe_choked(wsi)) {
            static const char r408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                       "Content-Type: text/plain\r\nContent-Length: 15\r\n\r\n"
                                       "Request Timeout";
            ssize_t n = send(lws_get_socket_fd(wsi), r408, sizeof r408 - 1,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
            (void)n; /* best effort: the connection is closed either way */
        }
    }
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* ---- pipelined requests ------------------------------------------------ */

/* A request that carries a body can only be served when libwebsockets
 * read its head from the socket, not from input it had kept: two requests
 * sent in one write leave the second in the connection's buffered input
 * (lws's buflist) once the first is answered.  lws 4.1.6 then parses the
 * second from there, and after LWS_CALLBACK_HTTP returns, for a request
 * with a body (a Content-Length, or any POST, PUT or PATCH), lws_http_action
 * drains the buffered input through lws_read_h1 until it is empty; but the
 * segment still begins with the head just parsed (lws trims it only after
 * lws_read_h1 returns), so the head's first bytes are taken for the body,
 * and once the transaction completes (LRS_DEFERRING_ACTION) lws_read_h1
 * consumes nothing and the loop never ends: the whole server freezes inside
 * lws_service_do_ripe_rxflow, signals included.  Answering at once, reading
 * the body, or discarding it all end there.  The only way out is a nonzero
 * return from LWS_CALLBACK_HTTP: the connection is closed before that loop.
 *
 * So such a request is not served: the requests before it were answered,
 * its connection is closed (RFC 9112 9.3.2: the client retries what was
 * not answered on a new one), and only that connection is affected.  A
 * pipelined request without a body is served as any other. */

static bool expects_body(struct lws *wsi)
{
    char cl[32] = "";
    /* lws reads the length as atoll does; one it cannot copy it ignores. */
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
        return atoll(cl) > 0;
    /* Without one, lws waits for a body after these methods' heads. */
    return lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 ||
           lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0 ||
           lws_hdr_total_length(wsi, WSI_TOKEN_PATCH_URI) > 0;
}

/* Whether lws keeps input of this connection that it has not parsed yet,
 * i.e. the request being handled came from it.  lws has no per-connection
 * accessor for it; lws_service_adjust_timeout returns 0 while any
 * connection that is not rx flow controlled keeps some (it is what makes
 * the loop service them without waiting for the network), so it is asked
 * with this connection's rx allowed, then held: nonzero first is no; 0
 * then nonzero is this one.  0 both times is unknown (another connection
 * keeps some too, e.g. a request pipelined behind a response its peer
 * does not read): then lws reads a connection's socket only once it has
 * parsed all it kept, so the request came from kept input exactly when
 * lws has read nothing from the socket since the previous response
 * completed (deadline_mark); and when that is not known, yes: a request
 * refused is better than a frozen server. */
static bool input_buffered(struct lws *wsi, const deadline *d)
{
    struct lws_context *ctx = lws_get_context(wsi);
    lws_rx_flow_control(wsi, 1);
    if (lws_service_adjust_timeout(ctx, 1, 0) != 0)
        return false; /* no connection keeps any */
    lws_rx_flow_control(wsi, 0);
    bool others = lws_service_adjust_timeout(ctx, 1, 0) == 0;
    lws_rx_flow_control(wsi, 1);
    if (!others)
        return true;
    if (!d || d->mark == MARK_UNKNOWN)
        return true;
    if (d->mark == MARK_NONE)
        return false; /* the first request of a connection */
    uint64_t now;
    return !tcp_bytes_read(lws_get_socket_fd(wsi), &now) || now == d->read;
}

/* True when the request must not be served (see above): logged at most
 * once a second. */
static bool pipelined_body(struct lws *wsi, const deadline *d)
{
    static log_quiet refused;
    if (!input_buffered(wsi, d))
        return false;
    if (log_quiet_due(&refused)) {
        char address[46];
        peer_address(wsi, address, sizeof address);
        log_warn("closed a connection from %s: a request with a body was pipelined behind "
                 "another, which libwebsockets cannot read (%lu so far)",
                 address, refused.count);
    }
    return true;
}

/* ---- the request ------------------------------------------------------- */

static void peer_address(struct lws *wsi, char *out, size_t len)
{
    out[0] = '\0';
    lws_get_peer_simple(wsi, out, len);
    /* IPv4 peers on a dual-stack socket read as ::ffff:a.b.c.d. */
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

void http_peer_address(struct lws *wsi, char *out, size_t len) { peer_address(wsi, out, len); }

const char *http_method_name(struct lws *wsi)
{
    static const char *const names[] = {
        [LWSHUMETH_GET] = "GET",         [LWSHUMETH_POST] = "POST",
        [LWSHUMETH_OPTIONS] = "OPTIONS", [LWSHUMETH_PUT] = "PUT",
        [LWSHUMETH_PATCH] = "PATCH",     [LWSHUMETH_DELETE] = "DELETE",
        [LWSHUMETH_CONNECT] = "CONNECT", [LWSHUMETH_HEAD] = "HEAD",
    };
    char *uri;
    int len;
    int m = lws_http_get_uri_and_method(wsi, &uri, &len);
    return m >= 0 && (size_t)m < sizeof names / sizeof *names && names[m] ? names[m] : "";
}

void http_query_arg(http_request *r, char *arg, buf *pairs, unsigned *n)
{
    char *eq = strchr(arg, '=');
    const char *value = eq ? eq + 1 : "";
    if (eq)
        *eq = '\0';
    if (strcmp(arg, "EIO") == 0)
        snprintf(r->eio, sizeof r->eio, "%s", value);
    else if (strcmp(arg, "transport") == 0)
        snprintf(r->transport, sizeof r->transport, "%s", value);
    else if (strcmp(arg, "sid") == 0) {
        snprintf(r->sid, sizeof r->sid, "%s", value);
        r->has_sid = true;
    }
    if (pairs) {
        buf_append(pairs, arg, strlen(arg) + 1);
        buf_append(pairs, value, strlen(value) + 1);
        (*n)++;
    }
}

/* Read the query arguments fragment by fragment, each at its own length
 * (lws_get_urlarg_by_name gives up at the first argument longer than its
 * buffer, and a fixed buffer would drop a long token and every argument
 * after it); with `pairs`, also append each as "name\0value\0" and count
 * them in *n.  False when out of memory. */
static bool read_query(struct lws *wsi, http_request *r, buf *pairs, unsigned *n)
{
    memset(r, 0, sizeof *r);
    char small[256];
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0)
            break;
        char *frag = (size_t)flen < sizeof small ? small : malloc((size_t)flen + 1);
        if (!frag)
            return false;
        if (lws_hdr_copy_fragment(wsi, frag, flen + 1, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0)
            http_query_arg(r, frag, pairs, n);
        if (frag != small)
            free(frag);
    }
    return !(pairs && pairs->failed);
}

bool http_query_pairs(struct lws *wsi, buf *pairs, unsigned *n)
{
    http_request r;
    *n = 0;
    return read_query(wsi, &r, pairs, n);
}

/* The header `name` as lws knows it: a token, whose name lws writes in
 * lower case with its colon, or -1 for a custom one. */
static int header_token(const char *lower)
{
    size_t len = strlen(lower);
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
        if (name && strlen(name) == len + 1 && name[len] == ':' && memcmp(name, lower, len) == 0)
            return t;
    }
    return -1;
}

char *http_header_copy(struct lws *wsi, const char *name)
{
    char key[128];
    size_t len = name ? strlen(name) : 0;
    if (!len || len + 2 > sizeof key)
        return NULL;
    for (size_t i = 0; i < len; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[len] = '\0';
    int t = header_token(key);
    int vlen;
    if (t >= 0) { /* 0 for a token the request does not have (or left empty) */
        vlen = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (vlen == 0)
            return NULL;
    } else { /* the names lws does not know, it keeps in lower case */
        memcpy(key + len, ":", 2);
        vlen = lws_hdr_custom_length(wsi, key, (int)len + 1);
    }
    char *value = vlen >= 0 ? malloc((size_t)vlen + 1) : NULL;
    if (!value)
        return NULL;
    int n = t >= 0 ? lws_hdr_copy(wsi, value, vlen + 1, (enum lws_token_indexes)t)
                   : lws_hdr_custom_copy(wsi, value, vlen + 1, key, (int)len + 1);
    if (n < 0) {
        free(value);
        return NULL;
    }
    value[n] = '\0';
    return value;
}

static void add_header(buf *pairs, unsigned *n, const char *name, const char *value)
{
    buf_append(pairs, name, strlen(name) + 1);
    buf_append(pairs, value, strlen(value) + 1);
    (*n)++;
}

/* Call fn for each custom header server.headers names that the request
 * has, with its name as lws wants it ("x-api-key:", nlen counting the
 * colon) and the length of its value. */
static void each_custom_header(struct lws *wsi,
                               void (*fn)(struct lws *wsi, const char *name, int nlen, int vlen,
                                          void *ud),
                               void *ud)
{
    const char *names = cfg ? cfg->custom_headers : NULL;
    while (names && *names) {
        size_t len = strcspn(names, ",");
        char name[128];
        if (len + 2 <= sizeof name) {
            memcpy(name, names, len);
            memcpy(name + len, ":", 2);
            int vlen = lws_hdr_custom_length(wsi, name, (int)len + 1);
            if (vlen >= 0)
                fn(wsi, name, (int)len + 1, vlen, ud);
        }
        names += len + (names[len] == ',');
    }
}

struct custom_copy {
    buf *pairs;
    unsigned *n;
    buf *value;
};

static void copy_custom_header(struct lws *wsi, const char *name, int nlen, int vlen, void *ud)
{
    struct custom_copy *cc = ud;
    buf_clear(cc->value);
    if (!buf_reserve(cc->value, (size_t)vlen + 1) ||
        lws_hdr_custom_copy(wsi, cc->value->data, vlen + 1, name, nlen) < 0)
        return;
    char key[128];
    memcpy(key, name, (size_t)nlen - 1);
    key[nlen - 1] = '\0';
    add_header(cc->pairs, cc->n, key, cc->value->data);
}

/* Every header libwebsockets parsed, and the custom ones server.headers
 * names (lws cannot enumerate those), as lower-case "name\0value\0",
 * each value whole whatever its length (the head as a whole is bounded by
 * server.maxHeaderSize before this runs). */
static void read_headers(struct lws *wsi, buf *pairs, unsigned *n)
{
    buf value = BUF_INIT;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
        size_t len = name ? strlen(name) : 0;
        if (len < 2 || name[len - 1] != ':' || name[0] == ':' || len - 1 >= 64)
            continue;
        /* The WebSocket handshake's own mechanics mean nothing to a
         * plugin, and would cost every connection their bytes. */
        if (t == WSI_TOKEN_KEY || t == WSI_TOKEN_VERSION || t == WSI_TOKEN_EXTENSIONS)
            continue;
        int vlen = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (vlen <= 0)
            continue;
        buf_clear(&value);
        if (!buf_reserve(&value, (size_t)vlen + 1) ||
            lws_hdr_copy(wsi, value.data, vlen + 1, (enum lws_token_indexes)t) < 0)
            continue;
        char key[64];
        for (size_t i = 0; i < len - 1; i++)
            key[i] = (char)tolower((unsigned char)name[i]);
        key[len - 1] = '\0';
        add_header(pairs, n, key, value.data);
    }
    struct custom_copy cc = {pairs, n, &value};
    each_custom_header(wsi, copy_custom_header, &cc);
    buf_free(&value);
}

/* A new session for a handshake request: its query and headers kept. */
static eio_session *handshake_session(struct lws *wsi, eio_transport t)
{
    http_request r;
    buf pairs = BUF_INIT;
    unsigned n_query = 0, n_headers = 0;
    if (!read_query(wsi, &r, &pairs, &n_query)) {
        buf_free(&pairs);
        return NULL;
    }
    read_headers(wsi, &pairs, &n_headers);
    char address[46];
    peer_address(wsi, address, sizeof address);
    /* engine.io: EIO=4 is protocol 4, anything else 3 (verify allowed it). */
    return eio_session_create(t, &pairs, n_query, n_headers, address,
                              strcmp(r.eio, "4") == 0 ? 4 : 3);
}


/* engine.io's verify() and handshake checks, in their order: -1 when the
 * request may proceed (with *session set when it names one), else an
 * ERR_* code. */
static int verify(const http_request *r, bool upgrade, bool is_get, eio_session **session)
{
    const config_server_options *opts = eio_options();
    *session = NULL;
    bool polling = strcmp(r->transport, "polling") == 0;
    bool websocket = strcmp(r->transport, "websocket") == 0;
    if ((!polling && !websocket) ||
        (polling && !(opts->transports & CONFIG_TRANSPORT_POLLING)) ||
        (websocket && !(opts->transports & CONFIG_TRANSPORT_WEBSOCKET)))
        return ERR_UNKNOWN_TRANSPORT;
    if (r->has_sid) {
        eio_session *s = eio_session_find(r->sid, strlen(r->sid));
        if (!s)
            return ERR_UNKNOWN_SID;
        /* Plain HTTP reaches a polling session only; a WebSocket session
         * takes no request but the upgrade that made it. */
        if (!upgrade && (websocket || eio_session_transport(s) != EIO_POLLING))
            return ERR_BAD_REQUEST;
        *session = s;
        return -1;
    }
    if (!is_get)
        return ERR_BAD_HANDSHAKE_METHOD;
    if (websocket && !upgrade)
        return ERR_BAD_REQUEST;
    if (strcmp(r->eio, "4") != 0 && !opts->allow_eio3)
        return ERR_UNSUPPORTED_PROTOCOL_VERSION;
    return -1;
}

/* ---- responses --------------------------------------------------------- */

static bool has_token(const char *list, const char *token)
{
    size_t tlen = strlen(token);
    for (const char *p = list; *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        size_t end = len;
        while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end == tlen && strncasecmp(p, token, tlen) == 0)
            return true;
        p += len;
    }
    return false;
}

/* Whether the connection ends after this response: the request asked for
 * it (`Connection: close`, or HTTP/1.0 without keep-alive).  libwebsockets
 * closes then too; the response must say so, or a keep-alive agent puts
 * the socket back in its pool and its next request fails. */
static bool request_wants_close(struct lws *wsi)
{
    char value[128] = "", version[16] = "";
    lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_CONNECTION);
    if (has_token(value, "close"))
        return true;
    lws_hdr_copy(wsi, version, sizeof version, WSI_TOKEN_HTTP);
    return strcasecmp(version, "HTTP/1.0") == 0 && !has_token(value, "keep-alive");
}

/* One response, head and body in one write; see http_reply in http.h. */
int http_send(struct lws *wsi, const http_reply *r)
{
    const config_server_options *opts = eio_options();
    bool preflight = r->preflight;
    /* The request's Origin and Access-Control-Request-Headers may be
     * echoed, at whatever length server.maxHeaderSize let through. */
    int olen = r->cors ? lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) : 0;
    int hlen = r->cors && preflight ? lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS) : 0;
    size_t olen_z = olen > 0 ? (size_t)olen : 0, hlen_z = hlen > 0 ? (size_t)hlen : 0;
    const config_cors *cors = &opts->cors;
    size_t head = 1024 + 2 * olen_z + hlen_z + (cors->methods ? strlen(cors->methods) : 0) +
                  (cors->allowed_headers ? strlen(cors->allowed_headers) : 0) +
                  (cors->exposed_headers ? strlen(cors->exposed_headers) : 0);
    for (size_t i = 0; i < r->n_headers; i++)
        head += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 4;
    size_t len = r->head_only ? 0 : r->len;
    unsigned char *block = malloc(LWS_PRE + head + len + olen_z + 1 + hlen_z + 1);
    if (!block)
        return -1;
    unsigned char *start = block + LWS_PRE, *p = start, *end = start + head;
    char *origin = (char *)end + len, *req_headers = origin + olen_z + 1;
    origin[0] = req_headers[0] = '\0';
    int rc = -1;
    bool close = r->close || request_wants_close(wsi);
    if (lws_add_http_common_headers(wsi, r->status, r->type, (lws_filepos_t)r->len, &p, end))
        goto out;
    if (close && lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                              (const unsigned char *)"close", 5, &p, end))
        goto out;
    if (r->encoding && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_ENCODING,
                                                    (const unsigned char *)r->encoding,
                                                    (int)strlen(r->encoding), &p, end))
        goto out;
    for (size_t i = 0; i < r->n_headers; i++)
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)r->headers[i].name,
                                        (const unsigned char *)r->headers[i].value,
                                        (int)strlen(r->headers[i].value), &p, end))
            goto out;
    if (r->cors) {
        cors_header ch[CORS_MAX_HEADERS];
        if (hlen > 0)
            lws_hdr_copy(wsi, req_headers, hlen + 1, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS);
        if (olen > 0)
            lws_hdr_copy(wsi, origin, olen + 1, WSI_TOKEN_ORIGIN);
        size_t n = cors_headers(cors, origin[0] ? origin : NULL, preflight,
                                req_headers[0] ? req_headers : NULL, ch);
        for (size_t i = 0; i < n; i++)
            if (lws_add_http_header_by_name(wsi, (const unsigned char *)ch[i].name,
                                            (const unsigned char *)ch[i].value,
                                            (int)strlen(ch[i].value), &p, end))
                goto out;
    }
    if (lws_finalize_http_header(wsi, &p, end))
        goto out;
    if (len)
        memcpy(p, r->body, len);
    p += len;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL) < 0)
        goto out;
    /* When lws keeps part of the response, it completes the transaction
     * once the rest is out (and closes then when the request asked for
     * it); meanwhile the peer must read on (deadline_sending). */
    if (lws_http_transaction_completed(wsi)) {
        rc = -1;
    } else if (lws_partial_buffered(wsi)) {
        rc = 0;
        deadline_sending(wsi, close);
    } else {
        rc = close ? -1 : 0;
        deadline *d = lws_get_opaque_user_data(wsi);
        if (rc == 0 && d)
            deadline_mark(d);
        if (rc == 0)
            deadline_begin(wsi, PHASE_IDLE);
    }
out:
    free(block);
    return rc;
}

/* `close`: end the connection after it whatever the request said;
 * `encoding`: the body's Content-Encoding, or NULL. */
static int respond_ex(struct lws *wsi, unsigned status, const char *type, const void *body,
                      size_t len, bool preflight, bool close, const char *encoding)
{
    http_reply r = {.status = status, .type = type, .body = body, .len = len,
                    .encoding = encoding, .preflight = preflight, .close = close, .cors = true};
    return http_send(wsi, &r);
}

static int respond(struct lws *wsi, unsigned status, const char *type, const void *body,
                   size_t len, bool preflight)
{
    return respond_ex(wsi, status, type, body, len, preflight, false, NULL);
}

static void add_custom_length(struct lws *wsi, const char *name, int nlen, int vlen, void *ud)
{
    (void)wsi, (void)name, (void)nlen;
    *(size_t *)ud += (size_t)vlen;
}

/* The request head as libwebsockets stored it: the URL and every header
 * value it parsed, plus the custom headers server.headers names. */
static size_t head_size(struct lws *wsi)
{
    size_t total = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (len > 0)
            total += (size_t)len;
    }
    each_custom_header(wsi, add_custom_length, &total);
    return total;
}

/* Node's HTTP server answers a head over its maxHeaderSize with 431 and
 * closes; so does plugio, with a log line at most once a second. */
static bool head_too_large(struct lws *wsi)
{
    static log_quiet refused;
    size_t limit = cfg ? cfg->max_header_size : CONFIG_MAX_HEADER_SIZE;
    size_t size = head_size(wsi);
    if (size <= limit)
        return false;
    eio_counters.refused_head++;
    if (log_quiet_due(&refused)) {
        char address[46];
        peer_address(wsi, address, sizeof address);
        log_warn("refused a request from %s: its head is %zu bytes, over server.maxHeaderSize "
                 "(%zu): 431 (%lu refused so far)",
                 address, size, limit, refused.count);
    }
    static const char msg[] = "Request Header Fields Too Large";
    respond_ex(wsi, 431, "text/plain", msg, sizeof msg - 1, false, true, NULL);
    return true;
}

static int respond_error(struct lws *wsi, conn *c, unsigned status, int code)
{
    char body[128];
    int n = snprintf(body, sizeof body, "{\"code\":%d,\"message\":\"%s\"}", code, err_messages[code]);
    conn_release(c);
    return respond(wsi, status, "application/json", body, (size_t)n, false);
}

/* httpCompression, as engine.io's polling transport: a payload of
 * `threshold` bytes or more is gzipped or deflated when the request's
 * Accept-Encoding offers it; a failure to compress sends it plain. */
static int respond_payload(struct lws *wsi, conn *c)
{
    const config_compression *hc = &eio_options()->http_compression;
    buf payload = BUF_INIT, zipped = BUF_INIT;
    bool binary = eio_session_drain_payload(c->session, wsi, &payload);
    conn_release(c);
    if (payload.failed) {
        buf_free(&payload);
        return -1;
    }
    zip_format f = ZIP_NONE;
    if (hc->enabled && payload.len >= hc->threshold) {
        char accept[256];
        if (lws_hdr_copy(wsi, accept, sizeof accept, WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0)
            f = zip_accepted(accept);
        if (f != ZIP_NONE && !zip_compress(f, hc, payload.data, payload.len, &zipped))
            f = ZIP_NONE;
    }
    const buf *body = f == ZIP_NONE ? &payload : &zipped;
    eio_counters.bytes_out += body->len;
    int rc = respond_ex(wsi, 200, binary ? "application/octet-stream" : "text/plain; charset=UTF-8",
                        body->data, body->len, false, false, f == ZIP_NONE ? NULL : zip_name(f));
    buf_free(&payload);
    buf_free(&zipped);
    return rc;
}

/* A new session past server.maxConnections: 503, the connection closed,
 * a log line at most once a second. */
static bool over_capacity(struct lws *wsi)
{
    static log_quiet refused;
    size_t max = cfg ? cfg->max_connections : 0;
    if (connection_ceiling && (!max || max > connection_ceiling))
        max = connection_ceiling;
    if (!max || open_connections <= max)
        return false;
    eio_counters.refused_capacity++;
    if (log_quiet_due(&refused))
        log_warn("refused a new session: %zu connections open, server.maxConnections is %zu: "
                 "503 (%lu refused so far)",
                 open_connections, max, refused.count);
    static const char msg[] = "Service Unavailable";
    respond_ex(wsi, 503, "text/plain", msg, sizeof msg - 1, false, true, NULL);
    return true;
}

/* A handshake that security.allow or maxConnectionsPerAddress refuses
 * (limits.c counts and logs it) is answered as engine.io answers one its
 * allowRequest refuses: a polling handshake with 403 and error 4,
 * "Forbidden"; a WebSocket upgrade (engine.io's abortUpgrade) with 400,
 * the message as text/html, and the connection closed.  True when
 * refused; *rc is then the callback's answer. */
static bool refused_by_limits(struct lws *wsi, conn *c, bool upgrade, int *rc)
{
    char address[46];
    peer_address(wsi, address, sizeof address);
    if (limits_admit(address) == LIMITS_ADMIT)
        return false;
    if (upgrade) {
        const char *msg = err_messages[ERR_FORBIDDEN];
        respond_ex(wsi, 400, "text/html", msg, strlen(msg), false, true, NULL);
        *rc = -1;
    } else {
        *rc = respond_error(wsi, c, 403, ERR_FORBIDDEN);
    }
    return true;
}

/* ---- polling ----------------------------------------------------------- */

static int poll_get(struct lws *wsi, conn *c, eio_session *s)
{
    eio_poll p = eio_session_poll(s, wsi);
    if (p == EIO_POLL_OVERLAP)
        return respond_error(wsi, c, 400, ERR_BAD_REQUEST);
    c->kind = CONN_POLL_GET;
    c->session = s;
    eio_session_ref(s);
    if (p == EIO_POLL_ANSWER)
        return respond_payload(wsi, c);
    /* Held.  lws would kill a GET that waits past its 5 s content timeout. */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_rx_flow_control(wsi, 0);
    return 0;
}

static int poll_handshake(struct lws *wsi, conn *c)
{
    eio_session *s = handshake_session(wsi, EIO_POLLING);
    if (!s) {
        lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL);
        return -1;
    }
    c->kind = CONN_POLL_GET;
    c->session = s;
    eio_session_ref(s);
    return respond_payload(wsi, c);
}

static int poll_post(struct lws *wsi, conn *c, eio_session *s)
{
    const config_server_options *opts = eio_options();
    if (eio_session_post_overlaps(s))
        return respond_error(wsi, c, 400, ERR_BAD_REQUEST);
    char cl[32] = "";
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        /* libwebsockets cannot read chunked request bodies. */
        return respond(wsi, 411, "text/plain", NULL, 0, false);
    }
    char *endp;
    unsigned long long length = strtoull(cl, &endp, 10);
    if (*endp || length > opts->max_http_buffer_size) {
        eio_session_close(s, "transport error");
        /* lws discards the body and keeps the connection. */
        return respond(wsi, 413, "text/plain", NULL, 0, false);
    }
    if (length == 0) { /* an empty payload is malformed */
        eio_session_close(s, "parse error");
        return respond_error(wsi, c, 400, ERR_BAD_REQUEST);
    }
    c->kind = CONN_POLL_POST;
    c->session = s;
    eio_session_ref(s);
    eio_session_post_begin(s, wsi);
    /* Protocol 3 clients that read binary payloads also send them. */
    char type[64] = "";
    lws_hdr_copy(wsi, type, sizeof type, WSI_TOKEN_HTTP_CONTENT_TYPE);
    c->body_binary = strcmp(type, "application/octet-stream") == 0;
    return 0;
}

static int poll_post_complete(struct lws *wsi, conn *c)
{
    eio_counters.bytes_in += c->body.len;
    eio_session_post_end(c->session, wsi, c->body.data, c->body.len, c->body_binary);
    conn_release(c);
    return respond(wsi, 200, "text/html", "ok", 2, false);
}

static http_site_fn site;
static http_site_body_fn site_body;

void http_set_site(http_site_fn fn, http_site_body_fn body)
{
    site = fn;
    site_body = body;
}

/* 411: the connection closes after it, as lws could not tell where the
 * body it cannot read ends. */
static int refuse_length(struct lws *wsi)
{
    static const char msg[] = "Length Required";
    return respond_ex(wsi, 411, "text/plain", msg, sizeof msg - 1, false, true, NULL);
}

int http_read_body(struct lws *wsi, const char *path, size_t max_body)
{
    conn *c = lws_wsi_user(wsi);
    if (!c || !site_body)
        return -1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        return refuse_length(wsi);
    char cl[32] = "";
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        /* lws waits for a body after these methods' heads. */
        const char *m = http_method_name(wsi);
        if (!strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH"))
            return refuse_length(wsi);
        return site_body(wsi, path, NULL, 0);
    }
    char *endp;
    errno = 0;
    unsigned long long length = strtoull(cl, &endp, 10);
    if (*endp || cl[0] == '-' || errno)
        return refuse_length(wsi);
    if (length > max_body) {
        static const char msg[] = "Payload Too Large";
        /* lws discards the body and keeps the connection. */
        return respond(wsi, 413, "text/plain", msg, sizeof msg - 1, false);
    }
    if (length == 0)
        return site_body(wsi, path, NULL, 0);
    if (!(c->site_path = strdup(path)))
        return -1;
    c->kind = CONN_SITE_BODY;
    c->body_max = (size_t)length;
    return 0;
}

static int site_body_complete(struct lws *wsi, conn *c)
{
    char *path = c->site_path;
    buf body = c->body;
    c->site_path = NULL;
    c->body = (buf)BUF_INIT;
    conn_release(c);
    int rc = site_body(wsi, path, body.data, body.len);
    free(path);
    buf_free(&body);
    return rc;
}

static int on_http(struct lws *wsi, conn *c, const char *path)
{
    const config_server_options *opts = eio_options();
    if (head_too_large(wsi))
        return -1;
    if (site) {
        int rc = site(wsi, path);
        if (rc != HTTP_SITE_DECLINED)
            return rc;
    }
    size_t plen = strlen(opts->path);
    if (strncmp(path, opts->path, plen) != 0 || (path[plen] != '/' && path[plen] != '\0'))
        return respond(wsi, 404, "text/plain", "Not Found", 9, false);
    char *uri;
    int uri_len;
    int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    if (method == LWSHUMETH_OPTIONS && opts->cors.enabled)
        return respond(wsi, 204, NULL, NULL, 0, true);
    http_request r;
    read_query(wsi, &r, NULL, NULL);
    eio_session *s;
    int err = verify(&r, false, method == LWSHUMETH_GET, &s);
    if (err >= 0)
        return respond_error(wsi, c, 400, err);
    int rc;
    if (method == LWSHUMETH_GET && !s && refused_by_limits(wsi, c, false, &rc))
        return rc;
    if (method == LWSHUMETH_GET && !s && over_capacity(wsi))
        return -1;
    if (method == LWSHUMETH_GET)
        return s ? poll_get(wsi, c, s) : poll_handshake(wsi, c);
    if (method == LWSHUMETH_POST && s)
        return poll_post(wsi, c, s);
    return respond_error(wsi, c, 400, s ? ERR_BAD_REQUEST : ERR_BAD_HANDSHAKE_METHOD);
}

/* ---- WebSocket ---------------------------------------------------------- */

/* lws has no per-session data for the connection yet: use a local one. */
static int confirm_upgrade(struct lws *wsi)
{
    const config_server_options *opts = eio_options();
    conn local = {0}, *c = &local;
    if (head_too_large(wsi))
        return -1;
    char path[512] = "";
    lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
    size_t plen = strlen(opts->path);
    if (strncmp(path, opts->path, plen) != 0 || (path[plen] != '/' && path[plen] != '\0')) {
        respond(wsi, 404, "text/plain", "Not Found", 9, false);
        return 1;
    }
    /* RFC 6455 version 13 only (lws 4.1.6 would upgrade others too). */
    char version[8] = "";
    lws_hdr_copy(wsi, version, sizeof version, WSI_TOKEN_VERSION);
    if (strcmp(version, "13") != 0) {
        respond_error(wsi, c, 400, ERR_BAD_REQUEST);
        return 1;
    }
    http_request r;
    read_query(wsi, &r, NULL, NULL);
    eio_session *s;
    int err = verify(&r, true, true, &s);
    /* A session that upgraded already, or is upgrading, gets its extra
     * WebSocket accepted and closed at once (ws_established), as
     * engine.io does: the client sees a clean close, not an HTTP error. */
    if (err < 0 && s && !opts->allow_upgrades)
        err = ERR_BAD_REQUEST;
    if (err >= 0) {
        respond_error(wsi, c, 400, err);
        return 1;
    }
    int rc;
    if (!s && refused_by_limits(wsi, c, true, &rc))
        return rc;
    if (!s && over_capacity(wsi))
        return -1;
    return 0;
}

static int ws_established(struct lws *wsi, conn *c)
{
    http_request r;
    buf pairs = BUF_INIT;
    unsigned n_query = 0;
    read_query(wsi, &r, &pairs, &n_query);
    bool b64 = !pairs.failed && eio_query_asks_b64(pairs.data, n_query);
    buf_free(&pairs);
    c->kind = CONN_WS;
    if (r.has_sid) {
        eio_session *s = eio_session_find(r.sid, strlen(r.sid));
        if (!s || !eio_session_probe_begin(s, wsi, b64)) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        c->session = s;
        eio_session_ref(s);
        return 0;
    }
    eio_session *s = handshake_session(wsi, EIO_WEBSOCKET);
    if (!s)
        return -1;
    eio_session_attach_ws(s, wsi);
    c->session = s;
    eio_session_ref(s);
    lws_callback_on_writable(wsi);
    return 0;
}

static int ws_write_queue(struct lws *wsi, conn *c, eio_session *s);

/* A session's WebSocket at the end of the loop's turn: what it can take
 * now, and a writable request for what is left (or while lws still holds
 * part of an earlier write). */
static void ws_flush(eio_session *s, struct lws *wsi)
{
    conn *c = lws_wsi_user(wsi);
    /* A failed write is left to the WRITEABLE callback, whose own write
     * fails too and closes the connection there (an lws async kill would
     * wait for a quiet turn: server.c). */
    if (lws_partial_buffered(wsi) || !c || ws_write_queue(wsi, c, s) < 0 ||
        !eio_session_idle(s))
        lws_callback_on_writable(wsi);
}

void http_flush_deferred(void) { eio_sessions_flush_due(ws_flush); }

static int ws_refuse(struct lws *wsi, eio_session *s, enum lws_close_status status, const char *why)
{
    lws_close_reason(wsi, status, (unsigned char *)why, strlen(why));
    eio_session_close(s, "transport error");
    return -1;
}

/* A message arrives in pieces; a compressed one (RSV1 on its first frame,
 * with permessage-deflate) is inflated piece by piece, bounded by
 * maxHttpBufferSize however small it was on the wire.  Text is checked
 * for UTF-8 here, once whole: lws is not asked to (ws_deflate.c). */
static int ws_receive(struct lws *wsi, conn *c, const void *in, size_t len)
{
    const config_server_options *opts = eio_options();
    eio_session *s = c->session;
    if (!s || eio_session_is_closed(s))
        return -1;
    eio_counters.bytes_in += len;
    bool first = lws_is_first_fragment(wsi), last = lws_is_final_fragment(wsi);
    if (first) {
        buf_clear(&c->body);
        c->body_binary = lws_frame_is_binary(wsi);
        c->body_deflated = c->deflate && (lws_get_reserved_bits(wsi) & 0x40);
    }
    const char *msg = in;
    size_t msg_len = len;
    bool whole = first && last && !c->body_deflated;
    if (c->body_deflated) {
        int rc = ws_inflate(&c->inflater, in, len, last, &c->body, opts->max_http_buffer_size);
        if (rc == WS_INFLATE_TOO_BIG)
            return ws_refuse(wsi, s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "");
        if (rc != WS_INFLATE_OK)
            return ws_refuse(wsi, s, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "bad deflate data");
    } else if (c->body.len + len > opts->max_http_buffer_size) {
        return ws_refuse(wsi, s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "");
    } else if (!whole) {
        buf_append(&c->body, in, len);
    }
    if (!whole) {
        if (c->body.failed)
            return -1;
        if (!last)
            return 0;
        msg = c->body.data;
        msg_len = c->body.len;
    }
    if (!c->body_binary && !utf8_valid(msg, msg_len)) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, (unsigned char *)"bad utf8", 8);
        return -1;
    }
    /* When this closes the session, the close runs its course (queued
     * output first), so the connection is not cut here. */
    if (c->body_binary)
        eio_session_receive_binary(s, wsi, msg, msg_len);
    else
        eio_session_receive_text(s, wsi, msg, msg_len);
    /* A message in pieces leaves no buffer behind: an idle connection
     * that once sent a large message must not keep its size (one
     * allocation per such message costs less than its parse). */
    if (!whole)
        buf_free(&c->body);
    return 0;
}

/* Every frame is built here and written with LWS_WRITE_RAW (lws passes raw
 * writes on a WebSocket through unframed, and buffers what the socket does
 * not take).  Small messages queued for one connection go out together, so
 * a burst of acks costs one send().  A server's frames are unmasked: a 2,
 * 4 or 10 byte header and the payload.
 *
 * permessage-deflate: lws negotiates it (ws_deflate.c), but its own
 * deflater would compress every TEXT/BINARY write, and keep 256 KB per
 * connection.  So plugio never lets lws frame a message: a message
 * of `threshold` bytes or more is compressed by zip.c (once, cached on the
 * message for all its recipients) and sent with RSV1 set; smaller ones go
 * as they are, RSV1 clear, which RFC 7692 allows in a deflate session. */
#define BATCH_MAX 65536
#define BATCH_MESSAGE_MAX 16384
#define FRAME_HEADER_MAX 10

static unsigned char batch[LWS_PRE + BATCH_MAX];

/* `first`: FIN, RSV1 and the opcode. */
static size_t frame_header(unsigned char *h, unsigned char first, size_t len)
{
    h[0] = first;
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

typedef struct wire {
    const unsigned char *data; /* LWS_PRE writable bytes precede it */
    size_t len;
    unsigned char first;       /* the header's first byte */
} wire;

/* What goes on the wire for `m` on this session (its protocol's view of
 * the message: eio_session_frame) over a connection that negotiated
 * permessage-deflate (`pmd`) or not (NULL).  Only the message's own bytes
 * are compressed, once, for all its recipients: a protocol 3 session's
 * binary frames (a type byte, or base64, of their own) go as they are.
 * False when out of memory. */
static bool wire_of(eio_session *s, eio_msg *m, const config_compression *pmd, wire *w)
{
    unsigned char *data;
    size_t len;
    bool binary;
    if (!eio_session_frame(s, m, &data, &len, &binary))
        return false;
    unsigned char opcode = binary ? 0x2 : 0x1;
    *w = (wire){data, len, (unsigned char)(0x80 | opcode)};
    if (!pmd || !pmd->enabled || data != m->data || len < pmd->threshold)
        return true;
    if (!m->deflated) {
        buf z = BUF_INIT;
        buf_append(&z, batch, LWS_PRE); /* headroom */
        if (zip_compress(ZIP_MESSAGE, pmd, m->data, m->len, &z)) {
            m->deflated_len = z.len - LWS_PRE;
            m->deflated = (unsigned char *)buf_steal(&z, NULL) + LWS_PRE;
        }
        buf_free(&z); /* a failure sends the message uncompressed */
    }
    if (m->deflated)
        *w = (wire){m->deflated, m->deflated_len, (unsigned char)(0xc0 | opcode)};
    return true;
}

/* One write per WRITEABLE callback: a large message alone, written in
 * place, or a batch of small ones. lws calls back only when the socket can
 * take data, and asks again (the caller's lws_callback_on_writable) for
 * what is left; no lws_send_pipe_choked, which in lws 4.1.6 is a poll()
 * of its own. */
static int ws_write_queue(struct lws *wsi, conn *c, eio_session *s)
{
    const config_compression *pmd = c->deflate ? &eio_options()->per_message_deflate : NULL;
    eio_msg *m = (eio_msg *)eio_session_peek_frame(s);
    wire w;
    if (!m)
        return 0;
    if (!wire_of(s, m, pmd, &w))
        return -1;
    if (w.len > BATCH_MESSAGE_MAX) {
        m = eio_session_next_frame(s);
        /* The header goes in the headroom before the bytes, which other
         * sessions' frames of the same message may use too (a protocol 3
         * type byte): borrowed, and put back once lws has taken the frame
         * (what it cannot send it copies). */
        unsigned char h[FRAME_HEADER_MAX], saved[FRAME_HEADER_MAX];
        size_t hl = frame_header(h, w.first, w.len);
        unsigned char *start = (unsigned char *)w.data - hl;
        memcpy(saved, start, hl);
        memcpy(start, h, hl);
        int n = lws_write(wsi, start, hl + w.len, LWS_WRITE_RAW);
        memcpy(start, saved, hl);
        eio_counters.bytes_out += w.len;
        eio_msg_unref(m);
        return n < 0 ? -1 : 0;
    }
    size_t used = 0;
    while (w.len <= BATCH_MESSAGE_MAX && used + FRAME_HEADER_MAX + w.len <= BATCH_MAX) {
        m = eio_session_next_frame(s);
        used += frame_header(batch + LWS_PRE + used, w.first, w.len);
        memcpy(batch + LWS_PRE + used, w.data, w.len);
        used += w.len;
        eio_counters.bytes_out += w.len;
        eio_msg_unref(m);
        if (!(m = (eio_msg *)eio_session_peek_frame(s)))
            break;
        if (!wire_of(s, m, pmd, &w))
            return -1;
    }
    if (used && lws_write(wsi, batch + LWS_PRE, used, LWS_WRITE_RAW) < 0)
        return -1;
    return 0;
}

static int ws_writeable(struct lws *wsi, conn *c)
{
    eio_session *s = c->session;
    if (!s)
        return -1;
    if (eio_session_is_probe(s, wsi)) {
        if (eio_session_take_probe_reply(s)) {
            /* Raw, so that lws's deflater never starts on this connection. */
            unsigned char frame[LWS_PRE + 8];
            memcpy(frame + LWS_PRE, "\x81\x06" "3probe", 8);
            if (lws_write(wsi, frame + LWS_PRE, 8, LWS_WRITE_RAW) < 8)
                return -1;
        }
        return 0;
    }
    if (!eio_session_is_ws(s, wsi))
        return eio_session_is_closed(s) ? -1 : 0;
    if (ws_write_queue(wsi, c, s) < 0)
        return -1;
    if (!eio_session_idle(s))
        lws_callback_on_writable(wsi);
    else if (eio_session_is_closed(s))
        return -1; /* all written: now close (the reason is set) */
    return 0;
}

/* ---- the protocol callback -------------------------------------------- */

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    conn *c = user;
    switch (reason) {
    /* Once each per accepted connection: adopted system descriptors are
     * destroyed through their own protocols. */
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        open_connections++;
        return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: {
        deadline *d = calloc(1, sizeof *d);
        if (!d)
            return -1;
        d->wsi = wsi;
        lws_set_opaque_user_data(wsi, d);
        deadline_begin(wsi, PHASE_HEAD);
        return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY:
        deadline_free(wsi);
        if (open_connections)
            open_connections--;
        return 0;

    case LWS_CALLBACK_HTTP: {
        deadline *d = lws_get_opaque_user_data(wsi);
        if (d && d->cut)
            return -1;
        bool body = expects_body(wsi);
        if (body && pipelined_body(wsi, d))
            return -1;
        if (d) {
            d->phase = PHASE_HANDLING; /* a response now re-arms it for the next request */
            d->body_unread = body;
        }
        int rc = on_http(wsi, c, in);
        if (rc == 0 && d && d->phase == PHASE_HANDLING) {
            if (c->kind == CONN_POLL_POST || c->kind == CONN_SITE_BODY)
                deadline_arm(d, PHASE_BODY, request_timeout());
            else
                deadline_stop(wsi); /* a held poll */
        }
        return rc;
    }

    case LWS_CALLBACK_HTTP_BODY:
        if (c->kind == CONN_POLL_POST) {
            buf_append(&c->body, in, len);
            if (c->body.failed || c->body.len > eio_options()->max_http_buffer_size)
                return -1;
        } else if (c->kind == CONN_SITE_BODY) {
            buf_append(&c->body, in, len);
            if (c->body.failed || c->body.len > c->body_max)
                return -1;
        }
        return 0;

    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        deadline *d = lws_get_opaque_user_data(wsi);
        if (d)
            d->body_unread = false;
        deadline_stop(wsi); /* the response re-arms it */
        if (c->kind == CONN_POLL_POST && c->session)
            return poll_post_complete(wsi, c);
        if (c->kind == CONN_SITE_BODY)
            return site_body_complete(wsi, c);
        return 0;
    }

    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (c->kind == CONN_POLL_GET && c->session)
            return respond_payload(wsi, c);
        return 0;

    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED:
        if (c && c->session)
            eio_session_transport_gone(c->session, wsi);
        if (c)
            conn_release(c);
        return 0;

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        deadline_stop(wsi); /* a refusal's response re-arms it */
        if (!in || strcmp(in, "websocket") != 0)
            return -1;
        return confirm_upgrade(wsi);

    case LWS_CALLBACK_CONFIRM_EXTENSION_OKAY:
        /* Registered always (server.c), so that a reload can turn it on;
         * nonzero declines. */
        if (!c || !in || strcmp(in, "permessage-deflate") != 0 ||
            !eio_options()->per_message_deflate.enabled)
            return 1;
        c->deflate = true;
        return 0;

    case LWS_CALLBACK_ESTABLISHED:
        deadline_free(wsi); /* a WebSocket is the heartbeat's */
        return ws_established(wsi, c);

    case LWS_CALLBACK_RECEIVE:
        return ws_receive(wsi, c, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(wsi, c);

    default:
        return 0;
    }
}

size_t http_conn_size(void) { return sizeof(conn); }

/* A held poll reads nothing (rx flow control is off), so a peer that left
 * is seen by peeking at its socket. */
static void check_held(eio_session *s, void *ud)
{
    (void)ud;
    struct lws *get = eio_session_held_poll(s);
    if (!get)
        return;
    char c;
    ssize_t n = recv(lws_get_socket_fd(get), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
        lws_set_timeout(get, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void http_check_held_polls(void) { eio_sessions_each(check_held, NULL); }

/* ---- what Engine.IO sessions ask of their connections ------------------ */

/* How long a closing WebSocket may take to write what was queued. */
#define CLOSE_FLUSH_SECS 5

static void t_writable(struct lws *t) { lws_callback_on_writable(t); }

/* A held poll is flow-controlled (so lws does not spin on a peer that
 * left); it must be released before it can be written. */
static void t_resume(struct lws *t)
{
    lws_rx_flow_control(t, 1);
    lws_callback_on_writable(t);
}

static bool t_choked(struct lws *t) { return lws_send_pipe_choked(t) != 0; }

static void t_close(struct lws *t, bool flush)
{
    lws_close_reason(t, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    if (flush) {
        lws_callback_on_writable(t);
        lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, CLOSE_FLUSH_SECS);
    } else {
        lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

static void t_kill(struct lws *t) { lws_set_timeout(t, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC); }

const eio_transport_ops *http_transport(void)
{
    static const eio_transport_ops ops = {t_writable, t_resume, t_choked, t_close, t_kill};
    return &ops;
}
