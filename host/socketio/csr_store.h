/*
 * csr_store.h - what connection state recovery remembers (socket.io 4.6+'s
 * connectionStateRecovery; socket.io-adapter's SessionAwareAdapter).
 *
 * Two things, both per namespace:
 *  - the log: the EVENT packets sent (emits and broadcasts without ack,
 *    not volatile), each with its offset and the audience it addressed
 *    (rooms, except rooms).  The packet itself is the caller's encoded,
 *    reference-counted message: the log holds one reference per packet,
 *    whatever the number of recipients or sessions.
 *  - the sessions of sockets that lost their connection: id, private id,
 *    rooms and data, each expiring after its maxDisconnectionDuration
 *    (one intrusive timer of the host's heap each).
 * A reconnecting client presents its private id and the offset of the
 * last packet it processed; csr_restore hands back the session and the
 * logged packets after that offset that addressed it, in order, exactly
 * as socket.io's in-memory adapter computes them.
 *
 * Bounds.  A session holds no packet: the log is the only packet memory,
 * at most CSR_LOG_MAX_PACKETS packets and CSR_LOG_MAX_BYTES bytes per
 * namespace, none older than the longest maxDisconnectionDuration; the
 * oldest go first.  A session whose missed packets are no longer all in
 * the log (too many, too large, or too old) is not restored: the client
 * gets a new session, as socket.io does when the offset is unknown.  A
 * restore attempt consumes the session, whatever its outcome.
 *
 * Offsets are decimal strings of a counter that only grows.  Knowing the
 * last offset sent to each socket, the store can also restore a client
 * whose last packet has left the log, provided nothing that could have
 * addressed it left with it (socket.io would refuse it).
 *
 * Pure bookkeeping: no I/O.  Time is passed in (ms, monotonic), except
 * that session expiry runs on the timer heap (timer.h).
 */
#ifndef PIO_CSR_STORE_H
#define PIO_CSR_STORE_H

#include "base/strmap.h"
#include "base/timer.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSR_LOG_MAX_PACKETS 1000
#define CSR_LOG_MAX_BYTES (8u << 20)
#define CSR_LOG_MAX_TOTAL_BYTES (64u << 20) /* all namespaces' logs together */
#define CSR_ID_LEN 20

typedef struct csr_store csr_store;

/* One logged packet.  Reference counted: the log holds one, and so does
 * each csr_restored that lists it. */
typedef struct csr_packet {
    unsigned refs;
    uint64_t offset;          /* > 0 */
    uint64_t at;              /* ms, when logged */
    size_t bytes;             /* the payload's size, for the byte bound */
    char **rooms;             /* owned; none: the whole namespace */
    size_t n_rooms;
    char **except;            /* owned; rooms (or a socket id) left out */
    size_t n_except;
    void *payload;            /* the caller's; released with `release` */
    void (*release)(void *payload);
} csr_packet;

void csr_packet_unref(csr_packet *p);

/* A session: a socket that lost its connection, as it was. */
typedef struct csr_session {
    char pid[CSR_ID_LEN + 1]; /* the private id the client presents (the map key) */
    char sid[CSR_ID_LEN + 1]; /* the socket id it gets back */
    char *nsp;                /* owned */
    char **rooms;             /* owned; its rooms, its id room included */
    size_t n_rooms;
    json_object *data;        /* a reference, or NULL */
    uint64_t last_offset;     /* the last logged packet sent to the socket, or 0 */
    uint64_t offset_at_close; /* the store's last offset when it closed */
    uint64_t deadline;        /* ms: gone after this */
    timer expiry;
    csr_store *store;         /* while in the store */
} csr_session;

/* What csr_restore gives back: the session (out of the store) and
 * references to the packets it missed, oldest first. */
typedef struct csr_restored {
    csr_session *session;
    csr_packet **missed;
    size_t n_missed;
} csr_restored;

void csr_restored_free(csr_restored *r);

enum {
    CSR_OK = 0,
    CSR_ENOSESSION = -1,  /* no such private id in this namespace */
    CSR_EEXPIRED = -2,    /* the session outlived its maxDisconnectionDuration */
    CSR_EOFFSET = -3,     /* the offset is not one the session can resume from */
    CSR_EGAP = -4,        /* packets it may have missed have left the log */
    CSR_ENOMEM = -5,
};

csr_store *csr_store_new(void);
/* Free every session and packet (stops the session timers). */
void csr_store_free(csr_store *st);

/* The next offset (the previous one plus one). */
uint64_t csr_next_offset(csr_store *st);
/* The offset as the wire carries it: decimal; buf holds 21 bytes. */
void csr_offset_format(uint64_t offset, char buf[21]);
/* Parse a decimal offset; 0 when s is not one. */
uint64_t csr_offset_parse(const char *s);

/* Log a packet sent in namespace nsp under `offset` (from csr_next_offset,
 * in increasing order) at `now`, to `rooms` (n_rooms 0: everyone) except
 * `except` and the socket `except_id` (may be NULL).  Names are copied;
 * the payload is taken over (released at once on failure).  Then trims
 * the log to its bounds and to packets not older than max_age_ms. */
bool csr_log(csr_store *st, const char *nsp, uint64_t offset, uint64_t now, uint64_t max_age_ms,
             const char *const *rooms, size_t n_rooms, const char *const *except, size_t n_except,
             const char *except_id, void *payload, size_t bytes, void (*release)(void *));
/* Drop the packets logged before now - max_age_ms, in every namespace. */
void csr_trim(csr_store *st, uint64_t now, uint64_t max_age_ms);
/* Bytes held by every log, and the namespaces with a log or kept session. */
size_t csr_bytes(const csr_store *st);
size_t csr_namespaces(const csr_store *st);

/* Keep a session: the socket `sid` with private id `pid` in nsp, in
 * `rooms` (its id room is added when missing), with `data` (referenced,
 * may be NULL); the last logged packet it was sent was `last_offset`.
 * It expires max_ms after now (a timer).  A session with the same pid
 * is replaced.  False when out of memory (nothing kept). */
bool csr_save(csr_store *st, const char *nsp, const char *pid, const char *sid,
              const char *const *rooms, size_t n_rooms, json_object *data, uint64_t last_offset,
              uint64_t now, uint64_t max_ms);
/* Take the session `pid` of nsp out of the store, with the packets logged
 * after `offset` that addressed it.  CSR_OK fills out; any other result
 * has still removed the session (a CSR_ENOSESSION for another namespace
 * leaves it). */
int csr_restore(csr_store *st, const char *nsp, const char *pid, const char *offset,
                uint64_t now, csr_restored *out);

/* Counts, for tests and metrics. */
size_t csr_sessions(const csr_store *st);
size_t csr_logged(const csr_store *st, const char *nsp);

#endif
