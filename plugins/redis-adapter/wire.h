/*
 * wire.h - the classic @socket.io/redis-adapter wire, as far as it can be
 * written without the host: channel names, uids, and the bodies this
 * server publishes (JSON text, and the msgpack envelopes of broadcasts).
 * The event data inside an envelope comes ready-encoded from the host
 * (pio_value_msgpack) and is spliced in as it is.
 *
 * Pure functions; design/REDIS-ADAPTER.md is the reference for every
 * layout here (the section is named next to each).
 */
#ifndef RA_WIRE_H
#define RA_WIRE_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* Request and response types (§4). */
enum {
    RA_SOCKETS = 0, /* legacy sockets(rooms) */
    RA_ALL_ROOMS = 1,
    RA_REMOTE_JOIN = 2,
    RA_REMOTE_LEAVE = 3,
    RA_REMOTE_DISCONNECT = 4,
    RA_REMOTE_FETCH = 5,
    RA_SERVER_SIDE_EMIT = 6,
    RA_BROADCAST = 7, /* a broadcast that wants acks */
    RA_BROADCAST_CLIENT_COUNT = 8,
    RA_BROADCAST_ACK = 9,
};

/* A uid (one per namespace) and a requestId: 6 characters of
 * [A-Za-z0-9_-], as uid2(6) makes them.  None of them is special in a
 * channel name or a Redis glob pattern. */
#define RA_UID_LEN 6

/* out[0..5] from 6 random bytes, NUL-terminated. */
void ra_uid_from_bytes(char out[RA_UID_LEN + 1], const unsigned char bytes[RA_UID_LEN]);
/* A new random uid (getrandom); -1 when the kernel gave no randomness. */
int ra_uid_new(char out[RA_UID_LEN + 1]);

/* The channels of one namespace N with key K (§1), each malloc'ed. */
typedef struct ra_channels {
    char *pattern;      /* K#N#*  - PSUBSCRIBE: every broadcast channel */
    size_t prefix_len;  /* strlen("K#N#"): the pattern without its '*' */
    char *request;      /* K-request#N# */
    char *response;     /* K-response#N#, shared by every server */
    char *own_response; /* K-response#N#<uid>#, this server's */
} ra_channels;

/* 0, or -1 when out of memory (nothing is left allocated).  The namespace
 * is used as it is: like Node's adapter, glob characters in it are not
 * escaped. */
int ra_channels_init(ra_channels *ch, const char *key, const char *nsp, const char *uid);
void ra_channels_free(ra_channels *ch);

/* The channel a broadcast goes to: K#N#room# when it names exactly one
 * room (room non-NULL), K#N# otherwise. */
void ra_channel_broadcast(ra_buf *b, const ra_channels *ch, const char *room);
/* K-response#N#<uid>#: where a server set to publishOnSpecificResponseChannel
 * answers the requester `uid`. */
void ra_channel_response_to(ra_buf *b, const ra_channels *ch, const char *uid, size_t uid_len);

/* The room a broadcast channel names, read as Node's adapter reads it:
 * what lies between the K#N# prefix and the channel's last byte.  Returns
 * 1 with *room and *room_len set, 0 when it names none (the namespace's own
 * channel), -1 when the channel does not start with the prefix. */
int ra_channel_room(const ra_channels *ch, const char *channel, size_t len, const char **room,
                    size_t *room_len);

/* Removes repeated strings from v (keeping the first of each, in order)
 * and returns how many remain: socket.io's rooms and except are sets.
 * Quadratic, for the few rooms a broadcast names. */
size_t ra_unique(const char **v, size_t n);

/* Whom a broadcast or a server operation addresses, as it goes out. */
typedef struct ra_target {
    const char *const *rooms;
    size_t n_rooms;
    const char *const *except;
    size_t n_except;
    int is_volatile;     /* flags.volatile */
    uint32_t timeout_ms; /* flags.timeout of a broadcast with acks; 0: none */
} ra_target;

/* §3: [uid, {type: 2, data, nsp}, {rooms, except, flags}], msgpack, with
 * `data` (the msgpack array [event, arg...]) spliced in as it is.
 * 0, or -1 when out of memory. */
int ra_pack_broadcast(ra_buf *b, const char *uid, const char *nsp, const void *data,
                      size_t data_len, const ra_target *t);
/* §4 type 7: {uid, requestId, type: 7, packet: {type: 2, data},
 * opts: {rooms, except, flags}}, msgpack; the packet is {type: 2, data,
 * nsp}, as Node's adapter writes it. */
int ra_pack_ack_request(ra_buf *b, const char *uid, const char *request_id, const char *nsp,
                        const void *data, size_t data_len, const ra_target *t);
/* §4 type 9: {type: 9, requestId, packet: <answer>}, msgpack, with the
 * answer (msgpack) spliced in. */
int ra_pack_ack_answer(ra_buf *b, const char *request_id, size_t request_id_len,
                       const void *answer, size_t answer_len);

/* JSON requests (§4), written exactly as Node's adapter writes them. */
/* {"uid","type":2|3,"opts":{"rooms","except"},"rooms":[room]} */
void ra_json_sockets_room(ra_buf *b, const char *uid, int type, const ra_target *t,
                          const char *room);
/* {"uid","type":4,"opts":{"rooms","except"},"close"} */
void ra_json_disconnect(ra_buf *b, const char *uid, const ra_target *t, int close);
/* {"uid","requestId","type":5,"opts":{"rooms","except"}} */
void ra_json_fetch(ra_buf *b, const char *uid, const char *request_id, const ra_target *t);
/* {"uid","requestId","type":1} */
void ra_json_all_rooms(ra_buf *b, const char *uid, const char *request_id);
/* {"uid",["requestId",]"type":6,"data":  - the caller writes the data
 * array and the closing brace. */
void ra_json_server_emit_head(ra_buf *b, const char *uid, const char *request_id);

/* JSON responses (§4).  request_id is the asker's, as it came. */
/* {"requestId","<member>":  - for 0 (sockets), 1 (rooms) and 5 (sockets):
 * the caller writes the array and the closing brace. */
void ra_json_reply_head(ra_buf *b, const char *request_id, size_t request_id_len,
                        const char *member);
/* {"requestId"}: a legacy join / leave / disconnect done. */
void ra_json_reply_done(ra_buf *b, const char *request_id, size_t request_id_len);
/* {"type":6,"requestId","data":  - the caller writes the answer and '}'. */
void ra_json_server_emit_reply_head(ra_buf *b, const char *request_id, size_t request_id_len);
/* {"type":8,"requestId","clientCount"} */
void ra_json_client_count(ra_buf *b, const char *request_id, size_t request_id_len,
                          uint32_t client_count);

#endif
