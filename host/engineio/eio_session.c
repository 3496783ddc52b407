/*
 * eio_session.c - Engine.IO sessions (see eio_session.h).
 *
 * Sessions live in a slot table.  A sid is 16 random url-safe characters
 * followed by 4 that encode the slot, so looking one up is an index and a
 * compare, with no hash table; the random part makes sids unguessable.
 *
 * Heartbeat as Engine.IO v4 specifies: the server pings every
 * pingInterval and closes the session when no pong arrives within
 * pingTimeout.  Protocol 3 turns it round, as engine.io does for it: the
 * client pings, the server answers with a pong, and closes the session
 * when no ping came for pingInterval + pingTimeout.
 *
 * Upgrade: a WebSocket carrying the sid probes ("2probe" -> "3probe"),
 * the held poll is released with a noop, the client sends "5", and the
 * WebSocket becomes the transport; until then output keeps going over
 * polling.  Both protocols upgrade alike.
 *
 * A session counts once towards security.maxConnectionsPerAddress
 * (limits.c), from its creation to its close, whatever its transports.
 */
#include "eio_session.h"

#include "base/array.h"
#include "base/log.h"
#include "base/random.h"
#include "base/timer.h"
#include "config/config.h"
#include "eio_stats.h"
#include "limits.h"
#include "protocol/eio3_packet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct eio_session {
    /* Laid out small: tens of thousands of these sit idle at once, and
     * each byte here is a byte per connection (BENCHMARKS.md). */
    char sid[EIO_SID_LEN + 1];
    unsigned char protocol;     /* the Engine.IO protocol: 4, or 3 */
    unsigned char transport;    /* eio_transport */
    bool closed : 1;            /* no longer in the table; awaiting last unref */
    bool b64 : 1;               /* protocol 3: the transport's request asked for
                                   b64 (binary goes as base64 text) */
    bool probe_reply : 1;       /* "3probe" is due on the probe */
    bool upgrading : 1;         /* the probe said "2probe": polls get noops */
    bool probe_b64 : 1;         /* the probe's request asked for b64 */
    bool flush_listed : 1;      /* its WebSocket is written at the turn's end */
    bool awaiting_pong : 1;     /* protocol 4 only: protocol 3 clients ping */
    bool awaiting_last_poll : 1; /* closed, still in the table until the
                                    client's next GET takes the close packet */
    unsigned slot;
    unsigned refs;
    /* The heartbeat announced in the open packet; a configuration reload
     * does not change it for sessions already open. */
    uint32_t ping_interval;
    uint32_t ping_timeout;

    /* Outgoing packets not yet written: a ring of eio_msg, in `inline_q`
     * while it holds at most EIO_INLINE_QUEUE (most sessions never hold
     * more, so an idle one costs no queue allocation; a grown ring is
     * given back once it drains). */
    uint32_t q_head, q_len, q_cap;
    uint32_t q_bytes;           /* their size, bounded by maxQueueBytes */
    eio_msg **queue;
    eio_msg *inline_q[EIO_INLINE_QUEUE];

    /* Long-polling. */
    struct lws *poll_get;       /* the held GET, if any */
    struct lws *poll_post;      /* the POST being received, if any */

    /* WebSocket. */
    struct lws *ws;             /* the WebSocket transport */

    /* The heartbeat: one timer, due at the next ping, or - while a pong
     * is awaited - at the ping timeout. */
    timer heartbeat;
    struct eio_session_rare *rare; /* see below; NULL when not needed */

    /* The handshake, for plugins: the peer's address, then
     * "name\0value\0" pairs, the query's n_query first, then the headers'
     * n_headers (names lower-case). Kept compact; the query becomes a JSON
     * object only if a plugin asks. */
    char *handshake;
    unsigned n_query, n_headers;

    void *upper;                /* the layer above's state (eio_events) */
};

/* What a session needs only while it upgrades, or in rare cases: allocated
 * when first needed and given back when no longer, so that a session on
 * its final transport carries none of it. */
typedef struct eio_session_rare {
    eio_session *s;
    struct lws *probe;          /* a WebSocket probing for upgrade */
    timer upgrade_timer;        /* upgradeTimeout after a probe opens */
    unsigned char *b64_frame;   /* protocol 3 b64: the last WebSocket frame
                                   sent as base64 text, or NULL */
    json_object *query;         /* the handshake's query, once a plugin asked */
} eio_session_rare;

static const config_server_options *options;
static const eio_events *events;
static const eio_transport_ops *ops;

void eio_set_events(const eio_events *e) { events = e; }
void eio_set_transport(const eio_transport_ops *o) { ops = o; }
static eio_session **slots;
static unsigned n_slots, cap_slots;
static size_t n_alive; /* session objects not yet freed */
static bool refusing;

static void forget_closed(eio_session *s);

void eio_sessions_refuse(void)
{
    refusing = true;
    /* No last poll is waited for any more. */
    for (unsigned i = 0; i < n_slots; i++)
        if (slots[i] && slots[i]->closed)
            forget_closed(slots[i]);
}
static unsigned *free_slots, n_free, cap_free_slots;

void eio_set_options(const config_server_options *o) { options = o; }
const config_server_options *eio_options(void) { return options; }

/* ---- messages ---------------------------------------------------------- */

eio_msg *eio_msg_new(bool binary, size_t len)
{
    eio_msg *m = malloc(sizeof *m + LWS_PRE + 1 + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->binary = binary;
    m->len = len;
    m->deflated = NULL;
    m->deflated_len = 0;
    m->data = (unsigned char *)(m + 1) + LWS_PRE + 1;
    m->data[-1] = EIO_MESSAGE; /* protocol 3's type byte (eio_session_frame) */
    m->data[len] = '\0';
    return m;
}

eio_msg *eio_msg_text(eio_type type, const char *data, size_t len)
{
    eio_msg *m = eio_msg_new(false, len + 1);
    if (!m)
        return NULL;
    m->data[0] = (unsigned char)('0' + type);
    if (len)
        memcpy(m->data + 1, data, len);
    return m;
}

void eio_msg_unref(eio_msg *m)
{
    if (m && --m->refs == 0) {
        free(m->deflated ? m->deflated - LWS_PRE : NULL);
        free(m);
    }
}

/* ---- the slot table ---------------------------------------------------- */

static bool claim_slot(eio_session *s)
{
    if (n_free) {
        s->slot = free_slots[--n_free];
    } else {
        if (n_slots >= (1u << 24))
            return false;
        /* Every slot may be free at once: both arrays hold n_slots. */
        if (!ARRAY_RESERVE(slots, n_slots + 1, cap_slots, 64) ||
            !ARRAY_RESERVE(free_slots, n_slots + 1, cap_free_slots, 64))
            return false;
        s->slot = n_slots++;
    }
    slots[s->slot] = s;
    return true;
}

static void release_slot(eio_session *s)
{
    slots[s->slot] = NULL;
    free_slots[n_free++] = s->slot;
}

bool eio_random_chars(char *out, size_t n)
{
    unsigned char rnd[64];
    char *start = out;
    size_t total = n;
    while (n) {
        size_t k = n < sizeof rnd ? n : sizeof rnd;
        /* Only the kernel's bytes: an id from rand() could be guessed. */
        if (!random_bytes(rnd, k)) {
            memset(start, 0, total);
            return false;
        }
        for (size_t i = 0; i < k; i++)
            *out++ = b64url[rnd[i] & 63];
        n -= k;
    }
    return true;
}

static bool make_sid(eio_session *s)
{
    if (!eio_random_chars(s->sid, 16)) {
        log_error("no random bytes for a session id (getrandom: %s): handshake refused",
                  strerror(errno));
        return false;
    }
    for (int i = 0; i < 4; i++)
        s->sid[16 + i] = b64url[(s->slot >> (6 * i)) & 63];
    s->sid[EIO_SID_LEN] = '\0';
    return true;
}

/* The i-th pair of the handshake; *value follows the name. */
static const char *pair_at(const eio_session *s, unsigned i, const char **value)
{
    const char *p = s->handshake + sizeof(uint64_t);
    p += strlen(p) + 1; /* the address */
    for (unsigned k = 0; k < i; k++)
        p += strlen(p) + 1, p += strlen(p) + 1;
    *value = p + strlen(p) + 1;
    return p;
}

/* ---- the rarely needed part -------------------------------------------- */

static eio_session_rare *rare(eio_session *s)
{
    if (!s->rare && (s->rare = calloc(1, sizeof *s->rare)))
        s->rare->s = s;
    return s->rare;
}

/* Give the rare part back once nothing in it is in use. */
static void rare_trim(eio_session *s)
{
    eio_session_rare *r = s->rare;
    if (r && !r->probe && !timer_active(&r->upgrade_timer) && !r->b64_frame && !r->query) {
        free(r);
        s->rare = NULL;
    }
}

static struct lws *probe_of(const eio_session *s) { return s->rare ? s->rare->probe : NULL; }

bool eio_session_is_probe(const eio_session *s, const struct lws *wsi)
{
    return wsi && wsi == probe_of(s);
}

const char *eio_session_address(const eio_session *s) { return s->handshake + sizeof(uint64_t); }

uint64_t eio_session_issued(const eio_session *s)
{
    uint64_t ms;
    memcpy(&ms, s->handshake, sizeof ms);
    return ms;
}

const char *eio_session_header_at(const eio_session *s, unsigned i, const char **value)
{
    return i < s->n_headers ? pair_at(s, s->n_query + i, value) : NULL;
}
const char *eio_session_sid(const eio_session *s) { return s->sid; }
int eio_session_protocol(const eio_session *s) { return s->protocol; }
eio_transport eio_session_transport(const eio_session *s) { return (eio_transport)s->transport; }
bool eio_session_is_closed(const eio_session *s) { return s->closed; }

size_t eio_session_queued_bytes(const eio_session *s) { return s->q_bytes; }

const char *eio_session_header(const eio_session *s, const char *name)
{
    const char *value;
    for (unsigned i = 0; i < s->n_headers; i++) {
        const char *key = pair_at(s, s->n_query + i, &value);
        if (strcasecmp(key, name) == 0)
            return value;
    }
    return NULL;
}

json_object *eio_session_query(eio_session *s)
{
    if (s->rare && s->rare->query)
        return s->rare->query;
    if (!rare(s))
        return NULL;
    const char *value;
    json_object *q = eio_query_object(s->n_query ? pair_at(s, 0, &value) : "", s->n_query);
    s->rare->query = q;
    rare_trim(s);
    return q;
}

eio_session *eio_session_find(const char *sid, size_t len)
{
    if (len != EIO_SID_LEN)
        return NULL;
    unsigned slot = 0;
    for (int i = 0; i < 4; i++) {
        const char *p = memchr(b64url, sid[16 + i], 64);
        if (!p || !sid[16 + i])
            return NULL;
        slot |= (unsigned)(p - b64url) << (6 * i);
    }
    if (slot >= n_slots || !slots[slot] || memcmp(slots[slot]->sid, sid, EIO_SID_LEN) != 0)
        return NULL;
    return slots[slot];
}

void eio_sessions_each(eio_session_fn fn, void *ud)
{
    for (unsigned i = 0; i < n_slots; i++)
        if (slots[i])
            fn(slots[i], ud);
}

size_t eio_sessions_alive(void) { return n_alive; }

bool eio_sessions_refusing(void) { return refusing; }

/* ---- lifecycle ---------------------------------------------------------- */

static void heartbeat_due(timer *t);

static void queue_push(eio_session *s, eio_msg *m)
{
    uint64_t max = options ? options->max_queue_bytes : CONFIG_MAX_QUEUE_BYTES;
    if ((uint64_t)s->q_bytes + m->len > max) {
        bool mib = max % (1u << 20) == 0;
        log_warn("session %s: over %llu %s queued for a client that does not read; closing "
                 "(transport error): %u bytes queued, %zu more, socket.serverOptions."
                 "maxQueueBytes is %llu",
                 s->sid, (unsigned long long)(mib ? max >> 20 : max >> 10), mib ? "MiB" : "KiB",
                 s->q_bytes, m->len, (unsigned long long)max);
        eio_msg_unref(m);
        eio_session_close(s, "transport error");
        return;
    }
    if (!s->q_cap) {
        s->queue = s->inline_q;
        s->q_cap = EIO_INLINE_QUEUE;
    }
    if (s->q_len == s->q_cap) {
        uint32_t cap = s->q_cap * 2;
        eio_msg **q = malloc(cap * sizeof *q);
        if (!q) {
            eio_msg_unref(m);
            eio_session_close(s, "transport error");
            return;
        }
        for (uint32_t i = 0; i < s->q_len; i++)
            q[i] = s->queue[(s->q_head + i) % s->q_cap];
        if (s->queue != s->inline_q)
            free(s->queue);
        s->queue = q;
        s->q_head = 0;
        s->q_cap = cap;
    }
    s->queue[(s->q_head + s->q_len++) % s->q_cap] = m;
    s->q_bytes += (uint32_t)m->len; /* below maxQueueBytes (< 4 GiB): checked above */
}

static eio_msg *queue_pop(eio_session *s)
{
    if (!s->q_len)
        return NULL;
    eio_msg *m = s->queue[s->q_head];
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_len--;
    s->q_bytes -= (uint32_t)m->len;
    if (!s->q_len && s->queue != s->inline_q) { /* drained: back to inline */
        free(s->queue);
        s->queue = s->inline_q;
        s->q_cap = EIO_INLINE_QUEUE;
        s->q_head = 0;
    }
    return m;
}

static void queue_open_packet(eio_session *s)
{
    const config_server_options *o = options;
    bool upgrades = s->transport == EIO_POLLING && o->allow_upgrades &&
                    (o->transports & CONFIG_TRANSPORT_WEBSOCKET);
    buf b = BUF_INIT;
    buf_printf(&b,
               "{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%u,\"pingTimeout\":%u,"
               "\"maxPayload\":%llu}",
               s->sid, upgrades ? "\"websocket\"" : "", s->ping_interval, s->ping_timeout,
               (unsigned long long)o->max_http_buffer_size);
    eio_msg *m = b.failed ? NULL : eio_msg_text(EIO_OPEN, b.data, b.len);
    buf_free(&b);
    if (m)
        queue_push(s, m);
}

bool eio_query_asks_b64(const char *pairs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const char *value = pairs + strlen(pairs) + 1;
        if (strcmp(pairs, "b64") == 0 && value[0])
            return true;
        pairs = value + strlen(value) + 1;
    }
    return false;
}

json_object *eio_query_object(const char *pairs, unsigned n)
{
    json_object *q = json_object_new_object();
    for (unsigned i = 0; q && i < n; i++) {
        const char *value = pairs + strlen(pairs) + 1;
        json_object_object_add(q, pairs, json_object_new_string(value));
        pairs = value + strlen(value) + 1;
    }
    return q;
}

eio_session *eio_session_create(eio_transport t, buf *handshake, unsigned n_query,
                                unsigned n_headers, const char *address, int protocol)
{
    eio_session *s = refusing ? NULL : calloc(1, sizeof *s);
    if (!s || handshake->failed || !claim_slot(s)) {
        free(s);
        buf_free(handshake);
        return NULL;
    }
    s->refs = 2; /* the table's, and ours while building it */
    n_alive++;
    s->transport = t;
    s->protocol = protocol == 3 ? 3 : 4;
    s->ping_interval = options->ping_interval;
    s->ping_timeout = options->ping_timeout;
    /* Kept for the session's life: when it began (ms since the epoch,
     * for socket.io's handshake.issued) and the address, in front of the
     * pairs. */
    size_t len, alen = strlen(address ? address : ""), head = sizeof(uint64_t) + alen + 1;
    char *pairs = buf_steal(handshake, &len);
    char *blob = realloc(pairs, head + len + 1);
    if (!blob) {
        free(pairs);
        release_slot(s);
        free(s);
        n_alive--;
        return NULL;
    }
    memmove(blob + head, blob, len + 1);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t issued = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    memcpy(blob, &issued, sizeof issued);
    memcpy(blob + sizeof issued, address ? address : "", alen);
    blob[head - 1] = '\0';
    s->handshake = blob;
    eio_counters.sessions_opened++;
    limits_session_began(eio_session_address(s)); /* ended when it closes */
    s->n_query = n_query;
    s->n_headers = n_headers;
    s->b64 = s->protocol == 3 && eio_query_asks_b64(blob + head, n_query);
    if (make_sid(s))
        queue_open_packet(s); /* may close s (out of memory) */
    else
        eio_session_close(s, "transport error"); /* never a guessable sid */
    if (!s->closed && !events->open(s, &s->upper))
        eio_session_close(s, "transport error");
    /* Protocol 3: the first ping is due within an interval. */
    if (!s->closed)
        timer_start(&s->heartbeat,
                    s->protocol == 3 ? s->ping_interval + s->ping_timeout : s->ping_interval,
                    heartbeat_due);
    bool ok = !s->closed;
    eio_session_unref(s);
    return ok ? s : NULL;
}

void eio_session_ref(eio_session *s) { s->refs++; }

void eio_session_unref(eio_session *s)
{
    if (!s || --s->refs > 0)
        return;
    eio_msg *m;
    while ((m = queue_pop(s)))
        eio_msg_unref(m);
    if (s->queue != s->inline_q)
        free(s->queue);
    if (s->upper)
        events->free(s->upper);
    if (s->rare) {
        json_object_put(s->rare->query);
        free(s->rare->b64_frame);
        free(s->rare);
    }
    free(s->handshake);
    free(s);
    n_alive--;
}

/* WebSockets with output are written at the end of the loop's turn
 * (eio_sessions_flush_due, called by http.c then), each once, directly:
 * all a turn queued for one connection goes out in one write (the acks of
 * every message one read brought, a broadcast and what follows it), and
 * none costs switching the loop's write watcher on and off. */
static eio_session **due;
static size_t n_due, cap_due;

static void wake_ws(eio_session *s)
{
    if (!s->ws || s->flush_listed)
        return;
    if (!ARRAY_RESERVE(due, n_due + 1, cap_due, 64)) {
        ops->writable(s->ws); /* the usual way, then */
        return;
    }
    s->flush_listed = true;
    eio_session_ref(s);
    due[n_due++] = s;
}

void eio_sessions_flush_due(void (*write)(eio_session *s, struct lws *ws))
{
    /* A write queues nothing new, but the list is read afresh each time. */
    for (size_t i = 0; i < n_due; i++) {
        eio_session *s = due[i];
        s->flush_listed = false;
        if (write && s->ws && !s->closed)
            write(s, s->ws);
        eio_session_unref(s);
    }
    n_due = 0;
    if (!write) {
        free(due);
        due = NULL;
        cap_due = 0;
    }
}

/* A held poll is flow-controlled (so lws does not spin on a peer that
 * left); it must be released before it can be written. */
static void wake_poll(eio_session *s)
{
    if (s->poll_get)
        ops->resume(s->poll_get);
}

static void flush(eio_session *s)
{
    if (s->transport == EIO_WEBSOCKET)
        wake_ws(s);
    else
        wake_poll(s);
}

static void last_poll_overdue(timer *t);

/* Close s; `may_wait` (the layer above closes it): a polling client
 * between two GETs is waited for, as engine.io's polling transport does
 * for socket.io's conn.close(), so that its next GET gets the close packet
 * (the client reads "transport close") instead of an unknown sid
 * ("transport error").  Not at shutdown. */
static void close_session(eio_session *s, const char *reason, bool may_wait)
{
    if (s->closed)
        return;
    s->closed = true;
    limits_session_ended(eio_session_address(s));
    s->awaiting_last_poll = may_wait && !refusing && s->transport == EIO_POLLING &&
                            !s->poll_get && !s->upgrading;
    if (!s->awaiting_last_poll)
        release_slot(s);
    timer_stop(&s->heartbeat);
    if (s->rare)
        timer_stop(&s->rare->upgrade_timer);
    if (s->upper)
        events->close(s->upper, reason);
    /* Output already queued still goes out, as with engine.io: a held
     * poll gets it followed by a close packet; a WebSocket writes it and
     * then closes, within a bound (http.c) for a client that stops
     * reading. Each transport drops its reference when lws reports it
     * gone. */
    wake_poll(s);
    if (s->ws)
        ops->close(s->ws, s->q_len > 0);
    if (probe_of(s))
        ops->kill(probe_of(s));
    if (s->poll_post)
        ops->kill(s->poll_post);
    if (s->awaiting_last_poll) /* the table's reference goes then */
        timer_start(&s->heartbeat, s->ping_timeout, last_poll_overdue);
    else
        eio_session_unref(s); /* the table's reference */
}

void eio_session_close(eio_session *s, const char *reason) { close_session(s, reason, false); }
void eio_session_end(eio_session *s, const char *reason) { close_session(s, reason, true); }

/* The last poll of a closed session came (and got the close packet), or
 * did not come in time: the sid is forgotten. */
static void forget_closed(eio_session *s)
{
    if (!s->awaiting_last_poll)
        return;
    s->awaiting_last_poll = false;
    timer_stop(&s->heartbeat);
    release_slot(s);
    eio_session_unref(s); /* the table's reference */
}

static void last_poll_overdue(timer *t)
{
    forget_closed((eio_session *)((char *)t - offsetof(eio_session, heartbeat)));
}

/* ---- heartbeat ---------------------------------------------------------- */

/* Time to ping, or - a ping being out - no pong came in time. */
static void heartbeat_due(timer *t)
{
    eio_session *s = (eio_session *)((char *)t - offsetof(eio_session, heartbeat));
    if (s->awaiting_pong || s->protocol == 3) {
        eio_session_close(s, "ping timeout");
        return;
    }
    eio_session_ref(s); /* sending may close it */
    eio_session_send(s, EIO_PING, NULL, 0);
    if (!s->closed) {
        s->awaiting_pong = true;
        timer_start(&s->heartbeat, s->ping_timeout, heartbeat_due);
    }
    eio_session_unref(s);
}

static void upgrade_overdue(timer *t)
{
    eio_session_rare *r = (eio_session_rare *)((char *)t - offsetof(eio_session_rare, upgrade_timer));
    eio_session *s = r->s;
    if (r->probe) {
        ops->kill(r->probe);
        r->probe = NULL;
        s->upgrading = false;
    }
    rare_trim(s);
}

/* ---- output ------------------------------------------------------------ */

void eio_session_send_msg(eio_session *s, eio_msg *m)
{
    if (s->closed)
        return;
    m->refs++;
    queue_push(s, m);
    flush(s);
}

void eio_session_send(eio_session *s, eio_type type, const char *data, size_t len)
{
    if (s->closed)
        return;
    eio_msg *m = eio_msg_text(type, data, len);
    if (!m) {
        eio_session_close(s, "transport error");
        return;
    }
    queue_push(s, m);
    flush(s);
}

bool eio_session_idle(const eio_session *s) { return s->q_len == 0; }

bool eio_session_can_take_now(const eio_session *s)
{
    if (s->closed || s->q_len)
        return false;
    if (s->transport == EIO_WEBSOCKET)
        return s->ws && !ops->choked(s->ws);
    return s->poll_get != NULL;
}

/* Protocol 3's payloads: binary (application/octet-stream) when a binary
 * message is queued for a client that reads them, else text. */
static bool drain_v3(eio_session *s, buf *payload)
{
    bool binary = false;
    for (size_t i = 0; !s->b64 && s->transport == EIO_POLLING && i < s->q_len; i++)
        binary = binary || s->queue[(s->q_head + i) % s->q_cap]->binary;
    eio_msg *m;
    while (s->transport == EIO_POLLING && (m = queue_pop(s))) {
        const char *text = (const char *)m->data + 1;
        eio_type type = (eio_type)(m->data[0] - '0');
        if (binary && m->binary)
            eio3_binpayload_add_binary(payload, m->data, m->len);
        else if (binary)
            eio3_binpayload_add_text(payload, type, text, m->len - 1);
        else if (m->binary)
            eio3_payload_add_base64(payload, m->data, m->len);
        else
            eio3_payload_add_text(payload, type, text, m->len - 1);
        eio_msg_unref(m);
    }
    if (s->closed || !payload->len) {
        eio_type last = s->closed ? EIO_CLOSE : EIO_NOOP;
        if (binary)
            eio3_binpayload_add_text(payload, last, NULL, 0);
        else
            eio3_payload_add_text(payload, last, NULL, 0);
    }
    if (s->closed)
        forget_closed(s); /* its last poll has the close packet */
    return binary;
}

bool eio_session_drain_payload(eio_session *s, struct lws *get, buf *payload)
{
    if (get && s->poll_get == get)
        s->poll_get = NULL;
    if (s->protocol == 3)
        return drain_v3(s, payload);
    eio_msg *m;
    /* After an upgrade the queue belongs to the WebSocket: a poll still
     * held (the client has paused polling) only gets its noop. */
    while (s->transport == EIO_POLLING && (m = queue_pop(s))) {
        if (m->binary)
            eio_payload_add_binary(payload, m->data, m->len);
        else
            eio_payload_add_text(payload, (eio_type)(m->data[0] - '0'), (const char *)m->data + 1,
                                 m->len - 1);
        eio_msg_unref(m);
    }
    if (s->closed) {
        eio_payload_add_text(payload, EIO_CLOSE, NULL, 0);
        forget_closed(s); /* its last poll has the close packet */
    } else if (!payload->len) {
        eio_payload_add_text(payload, EIO_NOOP, NULL, 0);
    }
    return false;
}

eio_msg *eio_session_next_frame(eio_session *s) { return queue_pop(s); }

bool eio_session_frame(eio_session *s, const eio_msg *m, unsigned char **data, size_t *len,
                       bool *binary)
{
    *binary = m->binary;
    *data = m->data;
    *len = m->len;
    if (s->protocol != 3 || !m->binary)
        return true;
    if (!s->b64) { /* the type byte in the message's headroom */
        *data = m->data - 1;
        *len = m->len + 1;
        return true;
    }
    /* "b4<base64>" in a text frame, for a client that asked for it. */
    if (!rare(s))
        return false;
    free(s->rare->b64_frame);
    s->rare->b64_frame = NULL;
    buf b = BUF_INIT;
    if (buf_reserve(&b, LWS_PRE + 2 + eio_base64_len(m->len))) {
        memset(b.data, 0, LWS_PRE);
        b.len = LWS_PRE;
    }
    buf_append(&b, "b4", 2);
    eio_base64_append(&b, m->data, m->len);
    if (b.failed) {
        buf_free(&b);
        return false;
    }
    *len = b.len - LWS_PRE;
    s->rare->b64_frame = (unsigned char *)buf_steal(&b, NULL);
    *data = s->rare->b64_frame + LWS_PRE;
    *binary = false;
    return true;
}

const eio_msg *eio_session_peek_frame(const eio_session *s)
{
    return s->q_len ? s->queue[s->q_head] : NULL;
}

/* ---- input ------------------------------------------------------------- */

/* One packet, already split into type and data. */
static bool receive_packet(eio_session *s, struct lws *from, eio_type type, const char *body,
                           size_t blen);

static void heard_pong(eio_session *s)
{
    /* A pong no ping asked for must not move the heartbeat: a client could
     * otherwise keep a session it never reads from alive for ever. */
    if (!s->awaiting_pong)
        return;
    s->awaiting_pong = false;
    timer_start(&s->heartbeat, s->ping_interval, heartbeat_due);
}

static void finish_upgrade(eio_session *s)
{
    s->upgrading = false;
    s->ws = s->rare->probe;
    s->rare->probe = NULL;
    timer_stop(&s->rare->upgrade_timer);
    rare_trim(s);
    s->b64 = s->protocol == 3 && s->probe_b64;
    s->transport = EIO_WEBSOCKET;
    /* The client has paused polling; a GET still held gets a noop. */
    wake_poll(s);
    flush(s);
    if (events->upgraded && !s->closed)
        events->upgraded(s->upper);
}

/* Where a protocol 3 decoder delivers a packet: a binary message, or any
 * other packet (a binary ping is a ping). */
typedef struct v3_input {
    eio_session *s;
    struct lws *from;
} v3_input;

static int deliver_v3(void *ud, eio_type type, const char *data, size_t len, bool binary)
{
    v3_input *in = ud;
    bool open;
    if (binary && type == EIO_MESSAGE) {
        open = !eio_session_is_probe(in->s, in->from) &&
               events->message(in->s->upper, data, len, true) && !in->s->closed;
        if (!open && !in->s->closed)
            eio_session_close(in->s, "parse error"); /* binary on a probe */
    } else {
        open = receive_packet(in->s, in->from, type, data, len);
    }
    return open ? 0 : 1;
}

/* After a decoder ran: malformed input (rc < 0) closes s. */
static bool closed_if_malformed(eio_session *s, int rc)
{
    if (rc < 0) {
        log_debug("session %s: malformed input: %s", s->sid, eio_strerror(rc));
        eio_session_close(s, "parse error");
    }
    return !s->closed;
}

bool eio_session_receive_text(eio_session *s, struct lws *from, const char *data, size_t len)
{
    eio_type type;
    const char *body;
    size_t blen;
    if (s->closed)
        return false;
    if (s->protocol == 3) {
        v3_input in = {s, from};
        return closed_if_malformed(s, eio3_packet_decode_text(data, len, deliver_v3, &in));
    }
    if (eio_packet_parse(data, len, &type, &body, &blen) != 0) {
        eio_session_close(s, "parse error");
        return false;
    }
    return receive_packet(s, from, type, body, blen);
}

/* On a probing WebSocket only "2probe" and then "5" are legal. */
static bool receive_on_probe(eio_session *s, eio_type type, const char *body, size_t blen)
{
    if (type == EIO_PING && blen == 5 && memcmp(body, "probe", 5) == 0) {
        s->probe_reply = true;
        s->upgrading = true;
        ops->writable(s->rare->probe);
        wake_poll(s); /* release the held GET so the client can pause */
        return true;
    }
    if (type == EIO_UPGRADE && blen == 0) {
        s->probe_reply = false;
        finish_upgrade(s);
        return true;
    }
    eio_session_close(s, "parse error");
    return false;
}

static bool receive_packet(eio_session *s, struct lws *from, eio_type type, const char *body,
                           size_t blen)
{
    if (s->closed)
        return false;
    if (eio_session_is_probe(s, from))
        return receive_on_probe(s, type, body, blen);
    switch (type) {
    case EIO_PING:
        if (s->protocol != 3)
            break;
        timer_start(&s->heartbeat, s->ping_interval + s->ping_timeout, heartbeat_due);
        eio_session_send(s, EIO_PONG, NULL, 0);
        return !s->closed;
    case EIO_PONG:
        if (s->protocol == 3) {
            /* engine.io: "invalid heartbeat direction" */
            eio_session_close(s, "transport error");
            return false;
        }
        heard_pong(s);
        return true;
    case EIO_MESSAGE:
        return events->message(s->upper, body, blen, false) && !s->closed;
    case EIO_CLOSE:
        eio_session_close(s, "transport close");
        return false;
    case EIO_NOOP:
        return true;
    default:
        break;
    }
    /* open, a ping from a protocol 4 client, upgrade outside a probe */
    eio_session_close(s, "parse error");
    return false;
}

/* Where a v4 payload decoder delivers a packet. */
static int deliver_v4(void *ud, eio_type type, const char *data, size_t len, bool binary)
{
    eio_session *s = ud;
    bool open = binary ? eio_session_receive_binary(s, NULL, data, len)
                       : receive_packet(s, NULL, type, data, len);
    return open ? 0 : 1;
}

static void receive_payload(eio_session *s, const char *body, size_t len, bool binary)
{
    if (s->closed)
        return;
    int rc;
    if (s->protocol == 3) {
        v3_input in = {s, NULL};
        rc = binary ? eio3_payload_decode_binary(body, len, deliver_v3, &in)
                    : eio3_payload_decode(body, len, deliver_v3, &in);
    } else {
        rc = eio_payload_decode(body, len, deliver_v4, s);
    }
    closed_if_malformed(s, rc);
}

bool eio_session_receive_binary(eio_session *s, struct lws *from, const void *data, size_t len)
{
    if (s->closed)
        return false;
    if (s->protocol == 3) {
        v3_input in = {s, from};
        return closed_if_malformed(s, eio3_packet_decode_binary(data, len, deliver_v3, &in));
    }
    if (eio_session_is_probe(s, from)) {
        eio_session_close(s, "parse error");
        return false;
    }
    return events->message(s->upper, data, len, true) && !s->closed;
}

bool eio_session_probe_begin(eio_session *s, struct lws *ws, bool b64)
{
    if (s->closed || s->transport != EIO_POLLING || probe_of(s) || !options->allow_upgrades ||
        !(options->transports & CONFIG_TRANSPORT_WEBSOCKET) || !rare(s))
        return false;
    s->rare->probe = ws;
    s->probe_b64 = b64;
    s->probe_reply = false;
    timer_start(&s->rare->upgrade_timer, options->upgrade_timeout, upgrade_overdue);
    return true;
}

void eio_session_transport_gone(eio_session *s, struct lws *wsi)
{
    if (eio_session_is_probe(s, wsi)) {
        s->rare->probe = NULL;
        s->upgrading = false;
        timer_stop(&s->rare->upgrade_timer);
        rare_trim(s);
        return;
    }
    if (wsi == s->ws) {
        s->ws = NULL;
        eio_session_close(s, "transport close");
        return;
    }
    if (wsi == s->poll_get) {
        /* The client left while its poll was held. */
        s->poll_get = NULL;
        close_session(s, "transport error", false);
        return;
    }
    if (wsi == s->poll_post) {
        s->poll_post = NULL;
        close_session(s, "transport error", false);
    }
}

/* ---- polling and WebSocket requests ------------------------------------ */

eio_poll eio_session_poll(eio_session *s, struct lws *get)
{
    if (s->poll_get) {
        /* engine.io: "overlap from client" */
        eio_session_close(s, "transport error");
        return EIO_POLL_OVERLAP;
    }
    /* While upgrading (after "2probe") polls are answered at once, with a
     * noop when there is nothing, as engine.io's upgrade check does. */
    if (s->q_len || s->closed || s->upgrading)
        return EIO_POLL_ANSWER;
    s->poll_get = get;
    return EIO_POLL_HELD;
}

struct lws *eio_session_held_poll(const eio_session *s) { return s->poll_get; }

bool eio_session_post_overlaps(eio_session *s)
{
    if (!s->poll_post)
        return false;
    /* engine.io: "data request overlap from client" */
    eio_session_close(s, "transport error");
    return true;
}

void eio_session_post_begin(eio_session *s, struct lws *post) { s->poll_post = post; }

void eio_session_post_end(eio_session *s, struct lws *post, const char *body, size_t len,
                          bool binary)
{
    if (s->poll_post == post)
        s->poll_post = NULL;
    receive_payload(s, body, len, binary);
}

void eio_session_attach_ws(eio_session *s, struct lws *ws) { s->ws = ws; }

bool eio_session_is_ws(const eio_session *s, const struct lws *wsi) { return wsi && wsi == s->ws; }

bool eio_session_take_probe_reply(eio_session *s)
{
    bool reply = s->probe_reply;
    s->probe_reply = false;
    return reply;
}
