/*
 * eio_session.h - Engine.IO sessions: one client connection, whatever the
 * transport.  A session owns its outgoing queue, its heartbeat and the
 * upgrade from long-polling to WebSocket; the HTTP/WebSocket glue
 * (http.c) feeds it what clients send and asks it what to write.
 *
 * Outgoing packets are eio_msg: wire-ready, reference counted (a
 * broadcast is encoded once and queued on many sessions), with the
 * headroom libwebsockets needs in front of a WebSocket frame.
 *
 * A session speaks the Engine.IO protocol its handshake asked for: 4, or
 * 3 for Socket.IO v2 clients when serverOptions.allowEIO3 is on.  The
 * packets are the same; the framing (eio3_packet.h) and the heartbeat's
 * direction differ, and are the session's business: a message is queued
 * the same for either, so one broadcast serves both.
 */
#ifndef PIO_EIO_SESSION_H
#define PIO_EIO_SESSION_H

#include "buf.h"
#include "eio_packet.h"
#include "timer.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdbool.h>

#define EIO_SID_LEN 20

/* A client that does not read cannot make the server queue more than this
 * for it: past it the session closes ("transport error"). */
#define EIO_QUEUE_MAX (64u << 20)
#define EIO_INLINE_QUEUE 2

typedef struct eio_msg {
    unsigned refs;
    bool binary;          /* a binary message; else a text packet */
    size_t len;
    unsigned char *data;  /* text: "<type digit><data>"; binary: the bytes,
                             preceded by the byte 4 (the type protocol 3
                             puts in front of them), and that by LWS_PRE
                             writable bytes. */
    /* Owned, NULL until a permessage-deflate connection first sends it:
     * the compressed form, shared by every recipient (http.c). */
    unsigned char *deflated; /* LWS_PRE writable bytes precede it too */
    size_t deflated_len;
} eio_msg;

eio_msg *eio_msg_new(bool binary, size_t len);   /* data left to fill */
eio_msg *eio_msg_text(eio_type type, const char *data, size_t len);
void eio_msg_unref(eio_msg *m);

typedef enum eio_transport { EIO_POLLING = 0, EIO_WEBSOCKET = 1 } eio_transport;

typedef struct eio_session eio_session;
struct config_server_options;

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
    uint32_t q_bytes;           /* their size, bounded by EIO_QUEUE_MAX */
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

    struct sio_client *client;  /* the Socket.IO layer above */
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

/* The server options in force: set at start and by each configuration
 * reload; read by sessions, the Socket.IO layer and the HTTP glue. */
void eio_set_options(const struct config_server_options *o);
const struct config_server_options *eio_options(void);

/* Create a session for a handshake: `handshake` holds n_query query and
 * then n_headers header pairs (see eio_session), and is taken over (its
 * memory kept, the buf reset); `protocol` is 4 or 3. The open packet is
 * queued (or, for polling, returned by the first flush). NULL on
 * allocation failure. */
eio_session *eio_session_create(eio_transport t, buf *handshake, unsigned n_query,
                                unsigned n_headers, const char *address, int protocol);
/* The peer's address ("" when unknown). */
const char *eio_session_address(const eio_session *s);
/* A handshake header (name case-insensitive), or NULL. */
const char *eio_session_header(const eio_session *s, const char *name);
/* The handshake's query as an object of strings (built on first use). */
json_object *eio_session_query(eio_session *s);
/* The open session with this sid, or NULL. */
eio_session *eio_session_find(const char *sid, size_t len);
void eio_session_ref(eio_session *s);
void eio_session_unref(eio_session *s);

/* Queue a packet / a shared message for the client. */
void eio_session_send(eio_session *s, eio_type type, const char *data, size_t len);
void eio_session_send_msg(eio_session *s, eio_msg *m);
/* The session's queue is empty. */
bool eio_session_idle(const eio_session *s);

/* Close the session: the upper layer learns `reason` ("transport close",
 * "transport error", "ping timeout", "parse error", "forced close",
 * "server shutting down"); a held poll gets a close packet, WebSockets are
 * closed. Idempotent. */
void eio_session_close(eio_session *s, const char *reason);

/* What a transport received: one Engine.IO text packet, or one binary
 * message. Returns false when the session closed because of it. */
bool eio_session_receive_text(eio_session *s, struct lws *from, const char *data, size_t len);
bool eio_session_receive_binary(eio_session *s, struct lws *from, const void *data, size_t len);
/* The same for a packet already split into type and data. */
bool eio_session_receive_packet(eio_session *s, struct lws *from, eio_type type, const char *data,
                                size_t len);

/* Polling: the body of a POST, a text payload or (protocol 3 only, sent
 * as application/octet-stream) a binary one. A malformed payload closes
 * the session ("parse error"). */
void eio_session_receive_payload(eio_session *s, const char *body, size_t len, bool binary);
/* Polling: move the queue into a payload; a noop when there is nothing
 * (a held poll is only woken to answer), a close packet once closed.
 * True when the payload is binary (application/octet-stream). */
bool eio_session_drain_payload(eio_session *s, buf *payload);
/* WebSocket: the next queued message (a reference the caller drops). */
eio_msg *eio_session_next_frame(eio_session *s);
/* The WebSocket frame of m for this session's protocol: its bytes (LWS_PRE
 * writable bytes precede *data; valid until the next call) and whether it
 * is binary. False when out of memory. */
bool eio_session_frame(eio_session *s, const eio_msg *m, unsigned char **data, size_t *len,
                       bool *binary);
/* Hand each session whose WebSocket got output since the last call to
 * `write` (which writes what it can), then forget them: at the end of each
 * loop turn.  NULL only forgets them (at shutdown). */
void eio_sessions_flush_due(void (*write)(eio_session *s));
/* The next queued message, left in the queue. */
const eio_msg *eio_session_peek_frame(const eio_session *s);

/* A WebSocket with this sid asks to upgrade (its query asking for b64 or
 * not: see eio_query_asks_b64). False when not allowed. */
bool eio_session_probe_begin(eio_session *s, struct lws *ws, bool b64);
/* wsi is the session's probing WebSocket. */
bool eio_session_is_probe(const eio_session *s, const struct lws *wsi);
/* Query pairs ("name\0value\0", n of them) ask for b64, as JavaScript
 * reads the argument: present and not empty. */
bool eio_query_asks_b64(const char *pairs, unsigned n);
/* A transport's connection went away. */
void eio_session_transport_gone(eio_session *s, struct lws *wsi);

/* From now on refuse new sessions (the server is stopping). */
void eio_sessions_refuse(void);

/* n random url-safe characters (6 bits each, from getrandom): session
 * ids, socket ids. */
void eio_random_chars(char *out, size_t n);

/* Every open session, for shutdown and dead-peer checks. */
typedef void (*eio_session_fn)(eio_session *s, void *ud);
void eio_sessions_each(eio_session_fn fn, void *ud);
/* Session objects not yet freed: open ones, and closed ones whose
 * transports are still going away. */
size_t eio_sessions_alive(void);

#endif
