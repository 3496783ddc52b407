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
 *
 * The layer knows its neighbours only through two tables, as engine.io
 * and socket.io are split in Node: the layer above (Socket.IO) registers
 * eio_events and hears of sessions opening, messages and closes; the
 * transport below (http.c, over libwebsockets) registers
 * eio_transport_ops, which a session uses to wake, close or drop the
 * connections it holds.  To this layer a `struct lws *` is a handle it
 * never looks into, so a test can drive sessions with a fake transport.
 */
#ifndef PIO_EIO_SESSION_H
#define PIO_EIO_SESSION_H

#include "base/buf.h"
#include "base/timer.h"
#include "protocol/eio_packet.h"

#include <json-c/json.h>
#include <libwebsockets.h>
#include <stdbool.h>

#define EIO_SID_LEN 20

/* A client that does not read cannot make the server queue more than
 * socket.serverOptions.maxQueueBytes for it (CONFIG_MAX_QUEUE_BYTES,
 * 64 MiB, by default): past it the session closes ("transport error").
 * Read at each write, so a reload applies to the next one. */
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

/* The layer above: told of each session's life. */
typedef struct eio_events {
    /* A session opened: store the layer's state for it in *upper first
     * thing (a close from within open finds it there); false refuses the
     * session. */
    bool (*open)(eio_session *s, void **upper);
    /* A message from the client; false when the session closed because of
     * it. */
    bool (*message)(void *upper, const void *data, size_t len, bool binary);
    /* The session closed ("transport close", "ping timeout", ...). */
    void (*close)(void *upper, const char *reason);
    /* The session is freed: so is the layer's state. */
    void (*free)(void *upper);
    /* The session moved to WebSocket (its upgrade completed); may be NULL. */
    void (*upgraded)(void *upper);
} eio_events;

/* The transport below: what a session asks of the connections it holds
 * (a held poll, a WebSocket, a probe, a POST being read). */
typedef struct eio_transport_ops {
    /* Call back when the connection can be written. */
    void (*writable)(struct lws *t);
    /* A held poll: read it again, and call back when it can be written. */
    void (*resume)(struct lws *t);
    /* It cannot take more output right now. */
    bool (*choked)(struct lws *t);
    /* A WebSocket: close it normally, once what it was given is written
     * (`flush`, bounded in time) or at once. */
    void (*close)(struct lws *t, bool flush);
    /* Drop it at once. */
    void (*kill)(struct lws *t);
} eio_transport_ops;

void eio_set_events(const eio_events *e);
void eio_set_transport(const eio_transport_ops *ops);

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
const char *eio_session_sid(const eio_session *s);
/* The Engine.IO protocol: 4, or 3. */
int eio_session_protocol(const eio_session *s);
eio_transport eio_session_transport(const eio_session *s);
/* Closed: no longer in the table, output only drains. */
bool eio_session_is_closed(const eio_session *s);
/* Bytes queued for its client and not yet sent (bounded by maxQueueBytes). */
size_t eio_session_queued_bytes(const eio_session *s);
/* The peer's address ("" when unknown). */
const char *eio_session_address(const eio_session *s);
/* When the session began, in ms since the epoch (handshake.issued). */
uint64_t eio_session_issued(const eio_session *s);
/* The i-th handshake header's name (lower case) and *value, or NULL
 * after the last. */
const char *eio_session_header_at(const eio_session *s, unsigned i, const char **value);
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
/* Open, nothing queued, and its transport able to take a packet right
 * now: socket.io's test for a volatile emit. */
bool eio_session_can_take_now(const eio_session *s);

/* Close the session: the upper layer learns `reason` ("transport close",
 * "transport error", "ping timeout", "parse error", "forced close",
 * "server shutting down"); a held poll gets a close packet, WebSockets are
 * closed. Idempotent. */
void eio_session_close(eio_session *s, const char *reason);
/* The same, asked by the layer above (socket.io's conn.close()): a polling
 * client between two GETs stays known until its next GET has taken the
 * close packet, or for pingTimeout at most, as with engine.io; a close
 * of Engine.IO's own (ping timeout, its parse errors, a transport that
 * failed) forgets the sid at once, as engine.io does. */
void eio_session_end(eio_session *s, const char *reason);

/* ---- what the transport calls ------------------------------------------ */

/* What a transport received: one Engine.IO text packet, or one binary
 * message. Returns false when the session closed because of it. */
bool eio_session_receive_text(eio_session *s, struct lws *from, const char *data, size_t len);
bool eio_session_receive_binary(eio_session *s, struct lws *from, const void *data, size_t len);

/* Polling: a GET. EIO_POLL_OVERLAP: a GET is held already, so the
 * session closed (engine.io's "overlap from client"); EIO_POLL_ANSWER:
 * answer it now (eio_session_drain_payload); EIO_POLL_HELD: the session
 * holds it until it has output, and wakes it then (ops->resume). */
typedef enum eio_poll { EIO_POLL_OVERLAP, EIO_POLL_ANSWER, EIO_POLL_HELD } eio_poll;
eio_poll eio_session_poll(eio_session *s, struct lws *get);
/* Polling: the answer to `get` - the queue moved into a payload; a noop
 * when there is nothing (a held poll is only woken to answer), a close
 * packet once closed.  The session no longer holds `get`.  True when the
 * payload is binary (application/octet-stream). */
bool eio_session_drain_payload(eio_session *s, struct lws *get, buf *payload);
/* Polling: the GET the session holds, or NULL. */
struct lws *eio_session_held_poll(const eio_session *s);
/* Polling: a POST while another is being read closes the session
 * (engine.io's "data request overlap"): true then. */
bool eio_session_post_overlaps(eio_session *s);
/* Polling: a POST's body is being read, then has arrived - a text payload
 * or (protocol 3 only, sent as application/octet-stream) a binary one. A
 * malformed payload closes the session ("parse error"). */
void eio_session_post_begin(eio_session *s, struct lws *post);
void eio_session_post_end(eio_session *s, struct lws *post, const char *body, size_t len,
                          bool binary);
/* WebSocket: the transport of a session that began on it. */
void eio_session_attach_ws(eio_session *s, struct lws *ws);
/* wsi is the session's WebSocket transport. */
bool eio_session_is_ws(const eio_session *s, const struct lws *wsi);
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
void eio_sessions_flush_due(void (*write)(eio_session *s, struct lws *ws));
/* The next queued message, left in the queue. */
const eio_msg *eio_session_peek_frame(const eio_session *s);

/* A WebSocket with this sid asks to upgrade (its query asking for b64 or
 * not: see eio_query_asks_b64). False when not allowed. */
bool eio_session_probe_begin(eio_session *s, struct lws *ws, bool b64);
/* wsi is the session's probing WebSocket. */
bool eio_session_is_probe(const eio_session *s, const struct lws *wsi);
/* The probe's "3probe" is due (and, asked, no longer). */
bool eio_session_take_probe_reply(eio_session *s);
/* Query pairs ("name\0value\0", n of them) ask for b64, as JavaScript
 * reads the argument: present and not empty. */
bool eio_query_asks_b64(const char *pairs, unsigned n);
/* A query's n "name\0value\0" pairs (as http.c reads them) as an object
 * of strings (a later name wins), or NULL when out of memory: the
 * handshake's (eio_session_query) and a plugin route's request's. */
json_object *eio_query_object(const char *pairs, unsigned n);
/* A transport's connection went away. */
void eio_session_transport_gone(eio_session *s, struct lws *wsi);

/* From now on refuse new sessions (the server is stopping). */
void eio_sessions_refuse(void);

/* n random url-safe characters (6 bits each, from getrandom): session
 * ids, socket ids.  False when the kernel gave no random bytes: out is
 * then all NULs, and the caller refuses what needed the id. */
bool eio_random_chars(char *out, size_t n);

/* Every open session, for shutdown and dead-peer checks. */
typedef void (*eio_session_fn)(eio_session *s, void *ud);
void eio_sessions_each(eio_session_fn fn, void *ud);
/* Session objects not yet freed: open ones, and closed ones whose
 * transports are still going away. */
size_t eio_sessions_alive(void);
/* Whether eio_sessions_refuse was called: the server is shutting down. */
bool eio_sessions_refusing(void);

#endif
