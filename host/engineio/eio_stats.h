/*
 * eio_stats.h - the Engine.IO layer's counters, for web/metrics.c: plain
 * integers in one struct, incremented where the thing happens (on the
 * loop thread, so no atomics) and only read by the scrape.  A counter
 * costs an add on the hot path and nothing else; what can be computed at
 * scrape (open sessions, bytes queued) is computed there instead
 * (eio_session.h: eio_sessions_each).
 */
#ifndef PIO_EIO_STATS_H
#define PIO_EIO_STATS_H

#include <stdint.h>

typedef struct eio_stats {
    uint64_t sessions_opened;   /* handshakes that made a session */
    uint64_t bytes_in;          /* Engine.IO payloads received: WebSocket frame
                                   payloads and polling POST bodies, as on the wire */
    uint64_t bytes_out;         /* the same sent: WebSocket frame payloads, polling
                                   response bodies (compressed when they were) */
    uint64_t refused_capacity;  /* new sessions refused with 503: server.maxConnections */
    uint64_t refused_head;      /* requests refused with 431: server.maxHeaderSize */
    uint64_t cut_slow;          /* requests cut with 408: headersTimeout/requestTimeout */
    uint64_t cut_send;          /* responses cut: the peer read none of it for the
                                   shorter of headersTimeout and requestTimeout */
} eio_stats;

/* The one instance, zero at start (eio_stats.c). */
extern eio_stats eio_counters;

#endif
