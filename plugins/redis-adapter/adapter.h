/*
 * adapter.h - the redis-adapter's state, shared by its three parts:
 *   redis_adapter.c  the plugin: config, the two connections, namespaces,
 *                    reload, and the helpers below;
 *   publish.c        what this server tells the others (pio_adapter_ops);
 *   receive.c        what the others tell this server.
 * One ra_adapter exists per plugin version; everything hangs off it.
 */
#ifndef RA_ADAPTER_H
#define RA_ADAPTER_H

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "pending.h"
#include "subs.h"
#include "wire.h"

#include <plugio/plugio.h>

#include <stddef.h>
#include <stdint.h>

/* One namespace this server has, with its uid and channels. */
typedef struct ra_nsp {
    char *name; /* "/", "/chat" */
    char uid[RA_UID_LEN + 1];
    ra_channels ch;
    struct ra_nsp *next;
} ra_nsp;

/* Counters, handed from a plugin version to the next inside its state:
 * a change to this layout changes HANDOVER_MAGIC (redis_adapter.c). */
typedef struct ra_stats {
    uint64_t published;      /* PUBLISH commands sent */
    uint64_t dropped;        /* messages not sent (Redis was away or too far behind), or
                                not delivered here: memory ran out */
    uint64_t received;       /* messages heard on our channels */
    uint64_t malformed;      /* of those, dropped as unreadable */
    uint64_t dropped_at_loss; /* `dropped` when the connection was lost */
} ra_stats;

typedef struct ra_adapter {
    pio_ctx *ctx;
    ra_config cfg;
    char where[160];   /* cfg as "host:port", for log lines */
    ra_conn pub;       /* PUBLISH and PUBSUB NUMSUB */
    ra_conn sub;       /* SUBSCRIBE / PSUBSCRIBE, and the messages */
    ra_subs subs;      /* the request channels Redis confirmed on `sub` */
    ra_nsp *nsps;
    ra_pending_table pending;
    ra_stats stats;
    int online;        /* both connections up, as last logged */
    int ever_online;   /* connected once (by this version or an earlier one) */
    int told_down;     /* "cannot reach" / "lost" logged since the last "connected" */
    int reloaded;      /* started from a previous version's state, not yet online */
    int behind;        /* the publisher's backlog is over its bound */
    void *inherited;   /* the previous version's state, during pio_adapter_install */
} ra_adapter;

/* ---- redis_adapter.c --------------------------------------------------- */

ra_nsp *ra_nsp_find(ra_adapter *a, const char *name);
/* This version's adapter, or NULL once it is unloaded: for the host's
 * callbacks that may come after that (a client's ack, up to its timeout). */
ra_adapter *ra_current(void);
/* Publish payload on channel (both binary-safe): 0, or -1 when it was
 * dropped (and counted): the publishing connection is down or too far
 * behind, or memory ran out. */
int ra_publish(ra_adapter *a, const char *channel, size_t channel_len, const void *payload,
                size_t len);
/* Where a response to `requester_uid` goes: the shared response channel,
 * or with publishOnSpecificResponseChannel that server's own. */
void ra_publish_response(ra_adapter *a, const ra_nsp *ns, const char *requester_uid,
                         size_t requester_uid_len, const ra_buf *payload);
/* Appends v as the host writes it: JSON text (binary as Socket.IO
 * placeholders), or msgpack as notepack.io does.  -1 when out of memory
 * or the host refused. */
int ra_value_json(ra_buf *b, const pio_value *v);
int ra_value_msgpack(ra_buf *b, const pio_value *v);
/* Both connections up: requests can be asked and answered. */
int ra_online(const ra_adapter *a);
/* Redis has confirmed this server's subscription to ns's request channel
 * (its other channels come in the same SUBSCRIBE): PUBSUB NUMSUB counts
 * this server, so the others are that count less one.  Until then a
 * request to the others is held. */
int ra_nsp_ready(const ra_adapter *a, const ra_nsp *ns);

/* ---- publish.c --------------------------------------------------------- */

/* The pio_adapter_ops entries (state is the ra_adapter). */
void ra_op_broadcast(pio_ctx *ctx, void *state, const pio_select *sel, const pio_value *packet);
void ra_op_broadcast_with_ack(pio_ctx *ctx, void *state, const pio_select *sel,
                              const pio_value *packet, uint32_t timeout_ms, uint64_t request);
void ra_op_sockets_join(pio_ctx *ctx, void *state, const pio_select *sel, const char *room);
void ra_op_sockets_leave(pio_ctx *ctx, void *state, const pio_select *sel, const char *room);
void ra_op_disconnect_sockets(pio_ctx *ctx, void *state, const pio_select *sel, int close);
void ra_op_fetch_sockets(pio_ctx *ctx, void *state, const pio_select *sel, uint32_t timeout_ms,
                         uint64_t request);
void ra_op_all_rooms(pio_ctx *ctx, void *state, const char *nsp, uint32_t timeout_ms,
                     uint64_t request);
void ra_op_server_emit(pio_ctx *ctx, void *state, const char *nsp, const pio_value *packet,
                       uint32_t timeout_ms, uint64_t request);
/* Every pending request of namespace nsp (NULL: all) completes now with
 * `status`; the entries go. */
void ra_requests_fail(ra_adapter *a, const char *nsp, int status);
/* Redis confirmed the subscription to a request channel (its bytes as
 * heard): the requests held for its namespace are asked now, in order. */
void ra_requests_release(ra_adapter *a, const char *channel, size_t len);
/* A response heard on one of ns's response channels. */
void ra_on_response(ra_adapter *a, ra_nsp *ns, const char *payload, size_t len);

/* ---- receive.c ----------------------------------------------------------- */

/* A message on the pattern K#N#*: a broadcast from another server. */
void ra_on_broadcast(ra_adapter *a, ra_nsp *ns, const char *channel, size_t channel_len,
                     const char *payload, size_t len);
/* A message on K-request#N#. */
void ra_on_request(ra_adapter *a, ra_nsp *ns, const char *payload, size_t len);

/* Parses a request or response: JSON when it starts with '{', msgpack
 * otherwise (§2).  NULL when malformed (counted). */
const pio_value *ra_parse_body(ra_adapter *a, const char *payload, size_t len);
/* The string member `key` of v: 0 and *s, *len set, or -1. */
int ra_member_string(const pio_value *v, const char *key, const char **s, size_t *len);

#endif
