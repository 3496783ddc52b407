/*
 * wire.c - channel names, uids and the bodies this server publishes
 * (see wire.h).
 *
 * The msgpack envelopes are written with msgpack-c's packer, which picks
 * the smallest form of every integer and string as notepack.io does; the
 * event data inside them is the host's (pio_value_msgpack), because only
 * the host's codec knows notepack's exact forms for the values a plugin
 * holds (binary as bin, Dates).  The JSON bodies are short and fixed, so
 * they are composed as text.
 */
#include "wire.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char uid_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

void ra_uid_from_bytes(char out[RA_UID_LEN + 1], const unsigned char bytes[RA_UID_LEN])
{
    /* 64 symbols: the low 6 bits of a random byte pick one uniformly. */
    for (int i = 0; i < RA_UID_LEN; i++)
        out[i] = uid_alphabet[bytes[i] & 63];
    out[RA_UID_LEN] = '\0';
}

int ra_uid_new(char out[RA_UID_LEN + 1])
{
    unsigned char bytes[RA_UID_LEN];
    /* Six bytes never come short from getrandom once the pool is ready;
     * before that (early boot) it waits, as it should for ids others
     * must not guess or repeat. */
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return -1;
    ra_uid_from_bytes(out, bytes);
    return 0;
}

static char *joined(const char *a, const char *b, const char *c, const char *d)
{
    ra_buf s = RA_BUF_INIT;
    ra_buf_puts(&s, a);
    ra_buf_puts(&s, b);
    ra_buf_puts(&s, c);
    ra_buf_puts(&s, d);
    if (s.failed) {
        ra_buf_free(&s);
        return NULL;
    }
    return s.data;
}

int ra_channels_init(ra_channels *ch, const char *key, const char *nsp, const char *uid)
{
    memset(ch, 0, sizeof *ch);
    ch->pattern = joined(key, "#", nsp, "#*");
    ch->request = joined(key, "-request#", nsp, "#");
    ch->response = joined(key, "-response#", nsp, "#");
    ch->own_response = ch->response ? joined(ch->response, uid, "#", "") : NULL;
    if (!ch->pattern || !ch->request || !ch->response || !ch->own_response) {
        ra_channels_free(ch);
        return -1;
    }
    ch->prefix_len = strlen(ch->pattern) - 1;
    return 0;
}

void ra_channels_free(ra_channels *ch)
{
    free(ch->pattern);
    free(ch->request);
    free(ch->response);
    free(ch->own_response);
    memset(ch, 0, sizeof *ch);
}

void ra_channel_broadcast(ra_buf *b, const ra_channels *ch, const char *room)
{
    ra_buf_put(b, ch->pattern, ch->prefix_len);
    if (room) {
        ra_buf_puts(b, room);
        ra_buf_put(b, "#", 1);
    }
}

void ra_channel_response_to(ra_buf *b, const ra_channels *ch, const char *uid, size_t uid_len)
{
    ra_buf_puts(b, ch->response);
    ra_buf_put(b, uid, uid_len);
    ra_buf_put(b, "#", 1);
}

int ra_channel_room(const ra_channels *ch, const char *channel, size_t len, const char **room,
                    size_t *room_len)
{
    if (len < ch->prefix_len || memcmp(channel, ch->pattern, ch->prefix_len) != 0)
        return -1;
    /* channel.slice(prefix.length, -1): the last byte (a '#' from any
     * sane sender) is dropped whatever it is. */
    size_t rest = len - ch->prefix_len;
    if (rest <= 1)
        return 0;
    *room = channel + ch->prefix_len;
    *room_len = rest - 1;
    return 1;
}

size_t ra_unique(const char **v, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < kept && strcmp(v[j], v[i]) != 0)
            j++;
        if (j == kept)
            v[kept++] = v[i];
    }
    return kept;
}

/* ---- msgpack -------------------------------------------------------- */

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    pack_str(pk, s, strlen(s));
}

static void pack_strings(msgpack_packer *pk, const char *const *v, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_cstr(pk, v[i]);
}

/* {rooms, except, flags}: Node's order.  flags holds what was set:
 * volatile, and the timeout of a broadcast with acks. */
static void pack_opts(msgpack_packer *pk, const ra_target *t)
{
    msgpack_pack_map(pk, 3);
    pack_cstr(pk, "rooms");
    pack_strings(pk, t->rooms, t->n_rooms);
    pack_cstr(pk, "except");
    pack_strings(pk, t->except, t->n_except);
    pack_cstr(pk, "flags");
    msgpack_pack_map(pk, (t->is_volatile ? 1u : 0u) + (t->timeout_ms ? 1u : 0u));
    if (t->is_volatile) {
        pack_cstr(pk, "volatile");
        msgpack_pack_true(pk);
    }
    if (t->timeout_ms) {
        pack_cstr(pk, "timeout");
        msgpack_pack_uint32(pk, t->timeout_ms);
    }
}

/* A Socket.IO EVENT packet as the adapters carry it: {type: 2, data, nsp},
 * data already msgpack (binary inline, never type 5). */
static void pack_packet(msgpack_packer *pk, ra_buf *b, const char *nsp, const void *data,
                        size_t data_len)
{
    msgpack_pack_map(pk, 3);
    pack_cstr(pk, "type");
    msgpack_pack_int(pk, 2);
    pack_cstr(pk, "data");
    ra_buf_put(b, data, data_len);
    pack_cstr(pk, "nsp");
    pack_cstr(pk, nsp);
}

int ra_pack_broadcast(ra_buf *b, const char *uid, const char *nsp, const void *data,
                      size_t data_len, const ra_target *t)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, ra_buf_msgpack_write);
    msgpack_pack_array(&pk, 3);
    pack_cstr(&pk, uid);
    pack_packet(&pk, b, nsp, data, data_len);
    pack_opts(&pk, t);
    return b->failed ? -1 : 0;
}

int ra_pack_ack_request(ra_buf *b, const char *uid, const char *request_id, const char *nsp,
                        const void *data, size_t data_len, const ra_target *t)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, ra_buf_msgpack_write);
    msgpack_pack_map(&pk, 5);
    pack_cstr(&pk, "uid");
    pack_cstr(&pk, uid);
    pack_cstr(&pk, "requestId");
    pack_cstr(&pk, request_id);
    pack_cstr(&pk, "type");
    msgpack_pack_int(&pk, RA_BROADCAST);
    pack_cstr(&pk, "packet");
    pack_packet(&pk, b, nsp, data, data_len);
    pack_cstr(&pk, "opts");
    pack_opts(&pk, t);
    return b->failed ? -1 : 0;
}

int ra_pack_ack_answer(ra_buf *b, const char *request_id, size_t request_id_len,
                       const void *answer, size_t answer_len)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, b, ra_buf_msgpack_write);
    msgpack_pack_map(&pk, 3);
    pack_cstr(&pk, "type");
    msgpack_pack_int(&pk, RA_BROADCAST_ACK);
    pack_cstr(&pk, "requestId");
    pack_str(&pk, request_id, request_id_len);
    pack_cstr(&pk, "packet");
    ra_buf_put(b, answer, answer_len);
    return b->failed ? -1 : 0;
}

/* ---- JSON ------------------------------------------------------------ */

static void json_key(ra_buf *b, const char *key)
{
    ra_buf_json_string(b, key, strlen(key));
    ra_buf_put(b, ":", 1);
}

static void json_opts(ra_buf *b, const ra_target *t)
{
    json_key(b, "opts");
    ra_buf_puts(b, "{");
    json_key(b, "rooms");
    ra_buf_json_strings(b, t->rooms, t->n_rooms);
    ra_buf_puts(b, ",");
    json_key(b, "except");
    ra_buf_json_strings(b, t->except, t->n_except);
    ra_buf_puts(b, "}");
}

/* {"uid":"..",["requestId":"..",]"type":N */
static void json_request_head(ra_buf *b, const char *uid, const char *request_id, int type)
{
    ra_buf_puts(b, "{");
    json_key(b, "uid");
    ra_buf_json_string(b, uid, strlen(uid));
    if (request_id) {
        ra_buf_puts(b, ",");
        json_key(b, "requestId");
        ra_buf_json_string(b, request_id, strlen(request_id));
    }
    ra_buf_printf(b, ",\"type\":%d", type);
}

void ra_json_sockets_room(ra_buf *b, const char *uid, int type, const ra_target *t,
                          const char *room)
{
    json_request_head(b, uid, NULL, type);
    ra_buf_puts(b, ",");
    json_opts(b, t);
    ra_buf_puts(b, ",");
    json_key(b, "rooms");
    ra_buf_json_strings(b, &room, 1);
    ra_buf_puts(b, "}");
}

void ra_json_disconnect(ra_buf *b, const char *uid, const ra_target *t, int close)
{
    json_request_head(b, uid, NULL, RA_REMOTE_DISCONNECT);
    ra_buf_puts(b, ",");
    json_opts(b, t);
    ra_buf_puts(b, close ? ",\"close\":true}" : ",\"close\":false}");
}

void ra_json_fetch(ra_buf *b, const char *uid, const char *request_id, const ra_target *t)
{
    json_request_head(b, uid, request_id, RA_REMOTE_FETCH);
    ra_buf_puts(b, ",");
    json_opts(b, t);
    ra_buf_puts(b, "}");
}

void ra_json_all_rooms(ra_buf *b, const char *uid, const char *request_id)
{
    json_request_head(b, uid, request_id, RA_ALL_ROOMS);
    ra_buf_puts(b, "}");
}

void ra_json_server_emit_head(ra_buf *b, const char *uid, const char *request_id)
{
    json_request_head(b, uid, request_id, RA_SERVER_SIDE_EMIT);
    ra_buf_puts(b, ",");
    json_key(b, "data");
}

void ra_json_reply_head(ra_buf *b, const char *request_id, size_t request_id_len,
                        const char *member)
{
    ra_buf_puts(b, "{");
    json_key(b, "requestId");
    ra_buf_json_string(b, request_id, request_id_len);
    ra_buf_puts(b, ",");
    json_key(b, member);
}

void ra_json_reply_done(ra_buf *b, const char *request_id, size_t request_id_len)
{
    ra_buf_puts(b, "{");
    json_key(b, "requestId");
    ra_buf_json_string(b, request_id, request_id_len);
    ra_buf_puts(b, "}");
}

void ra_json_server_emit_reply_head(ra_buf *b, const char *request_id, size_t request_id_len)
{
    ra_buf_printf(b, "{\"type\":%d,", RA_SERVER_SIDE_EMIT);
    json_key(b, "requestId");
    ra_buf_json_string(b, request_id, request_id_len);
    ra_buf_puts(b, ",");
    json_key(b, "data");
}

void ra_json_client_count(ra_buf *b, const char *request_id, size_t request_id_len,
                          uint32_t client_count)
{
    ra_buf_printf(b, "{\"type\":%d,", RA_BROADCAST_CLIENT_COUNT);
    json_key(b, "requestId");
    ra_buf_json_string(b, request_id, request_id_len);
    ra_buf_printf(b, ",\"clientCount\":%u}", (unsigned)client_count);
}
