/*
 * test_wire.c - the redis-adapter's wire formats against what Node's
 * @socket.io/redis-adapter 8.3 puts on the wire (the captures of
 * design/REDIS-ADAPTER.md), its table of requests in flight, and its
 * record of the subscriptions Redis confirmed.
 */
#include "buf.h"
#include "pending.h"
#include "subs.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "93 a6 6c..." -> bytes; returns the length. */
static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        cr_assert(sscanf(p, "%2x", &v) == 1, "bad hex at %s", p);
        cr_assert(n < cap);
        out[n++] = (unsigned char)v;
        p += 2;
    }
    return n;
}

static void assert_bytes(const ra_buf *b, const char *hex)
{
    unsigned char want[1024];
    size_t n = unhex(hex, want, sizeof want);
    cr_assert(!b->failed);
    cr_assert_eq(b->len, n, "length %zu, want %zu", b->len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq((unsigned char)b->data[i], want[i], "byte %zu: %02x, want %02x", i,
                     (unsigned char)b->data[i], want[i]);
}

static void assert_text(const ra_buf *b, const char *want)
{
    cr_assert(!b->failed);
    cr_assert_str_eq(b->data, want);
}

/* ---- uids ---------------------------------------------------------------- */

Test(uid, every_byte_maps_to_a_channel_safe_character)
{
    unsigned char bytes[RA_UID_LEN];
    char uid[RA_UID_LEN + 1];
    int seen[256] = {0};
    for (int b = 0; b < 256; b++) {
        memset(bytes, b, sizeof bytes);
        ra_uid_from_bytes(uid, bytes);
        cr_assert_eq(strlen(uid), RA_UID_LEN);
        cr_assert(strspn(uid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
                  RA_UID_LEN);
        seen[(unsigned char)uid[0]] = 1;
    }
    int symbols = 0;
    for (int c = 0; c < 256; c++)
        symbols += seen[c];
    cr_assert_eq(symbols, 64, "all 64 symbols are used, evenly");
}

Test(uid, new_ones_differ)
{
    char a[RA_UID_LEN + 1], b[RA_UID_LEN + 1];
    cr_assert_eq(ra_uid_new(a), 0);
    cr_assert_eq(ra_uid_new(b), 0);
    cr_assert_eq(strlen(a), RA_UID_LEN);
    cr_assert_str_neq(a, b);
}

/* ---- channels (§1) --------------------------------------------------------- */

Test(channels, are_the_ones_node_subscribes)
{
    ra_channels ch;
    cr_assert_eq(ra_channels_init(&ch, "socket.io", "/", "l9zfcA"), 0);
    cr_assert_str_eq(ch.pattern, "socket.io#/#*");
    cr_assert_str_eq(ch.request, "socket.io-request#/#");
    cr_assert_str_eq(ch.response, "socket.io-response#/#");
    cr_assert_str_eq(ch.own_response, "socket.io-response#/#l9zfcA#");
    cr_assert_eq(ch.prefix_len, strlen("socket.io#/#"));
    ra_channels_free(&ch);

    cr_assert_eq(ra_channels_init(&ch, "myapp", "/chat", "BM-3ex"), 0);
    cr_assert_str_eq(ch.pattern, "myapp#/chat#*");
    cr_assert_str_eq(ch.own_response, "myapp-response#/chat#BM-3ex#");
    ra_channels_free(&ch);
}

Test(channels, a_broadcast_names_a_room_only_when_given_one)
{
    ra_channels ch;
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_channels_init(&ch, "socket.io", "/", "l9zfcA"), 0);
    ra_channel_broadcast(&b, &ch, NULL);
    assert_text(&b, "socket.io#/#");
    ra_buf_free(&b);
    ra_channel_broadcast(&b, &ch, "FqERE39pLivMrOEeAAAB");
    assert_text(&b, "socket.io#/#FqERE39pLivMrOEeAAAB#");
    ra_buf_free(&b);
    ra_channel_response_to(&b, &ch, "Z0KHlm", 6);
    assert_text(&b, "socket.io-response#/#Z0KHlm#");
    ra_buf_free(&b);
    ra_channels_free(&ch);
}

static int room_in(const ra_channels *ch, const char *channel, char *room, size_t cap)
{
    const char *r = NULL;
    size_t len = 0;
    int rc = ra_channel_room(ch, channel, strlen(channel), &r, &len);
    if (rc == 1)
        snprintf(room, cap, "%.*s", (int)len, r);
    return rc;
}

Test(channels, the_room_is_read_as_node_reads_it)
{
    ra_channels ch;
    char room[64];
    cr_assert_eq(ra_channels_init(&ch, "socket.io", "/", "l9zfcA"), 0);
    cr_assert_eq(room_in(&ch, "socket.io#/#", room, sizeof room), 0);
    cr_assert_eq(room_in(&ch, "socket.io#/#room1#", room, sizeof room), 1);
    cr_assert_str_eq(room, "room1");
    /* a '#' inside a room name stays in it */
    cr_assert_eq(room_in(&ch, "socket.io#/#a#b#", room, sizeof room), 1);
    cr_assert_str_eq(room, "a#b");
    /* channel.slice(prefix.length, -1): one byte after the prefix is no room */
    cr_assert_eq(room_in(&ch, "socket.io#/#x", room, sizeof room), 0);
    /* another namespace, or another key */
    cr_assert_eq(room_in(&ch, "socket.io#/chat#", room, sizeof room), -1);
    cr_assert_eq(room_in(&ch, "socket.i", room, sizeof room), -1);
    ra_channels_free(&ch);
}

Test(rooms, repeated_names_count_once_in_order)
{
    const char *v[] = {"a", "b", "a", "c", "b", "a"};
    size_t n = ra_unique(v, 6);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(v[0], "a");
    cr_assert_str_eq(v[1], "b");
    cr_assert_str_eq(v[2], "c");
    cr_assert_eq(ra_unique(v, 0), 0);
}

/* ---- broadcasts (§3) -------------------------------------------------------- */

/* io.emit("hello","world",42,{nested:true},1.5,null) from uid l9zfcA,
 * captured on socket.io#/#: the data array is what the host's codec
 * writes; everything around it is ours. */
#define HELLO_DATA                                                                               \
    "96 a5 68656c6c6f a5 776f726c64 2a 81 a6 6e6573746564 c3 cb 3ff8000000000000 c0"

Test(broadcast, is_byte_for_byte_nodes_envelope)
{
    unsigned char data[128];
    size_t n = unhex(HELLO_DATA, data, sizeof data);
    ra_target t = {0};
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_pack_broadcast(&b, "l9zfcA", "/", data, n, &t), 0);
    assert_bytes(&b, "93 a6 6c397a666341 83 a4 74797065 02 a4 64617461 " HELLO_DATA
                     " a3 6e7370 a1 2f 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 80");
    ra_buf_free(&b);
}

Test(broadcast, carries_rooms_except_and_volatile)
{
    const char *rooms[] = {"room1", "room2"}, *except[] = {"room2"};
    ra_target t = {rooms, 2, except, 1, 1, 0};
    unsigned char data[] = {0x91, 0xa5, 'm', 'u', 'l', 't', 'i'};
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_pack_broadcast(&b, "l9zfcA", "/chat", data, sizeof data, &t), 0);
    assert_bytes(&b, "93 a6 6c397a666341 83 a4 74797065 02 a4 64617461 91 a5 6d756c7469"
                     " a3 6e7370 a5 2f63686174"
                     " 83 a5 726f6f6d73 92 a5 726f6f6d31 a5 726f6f6d32"
                     " a6 657863657074 91 a5 726f6f6d32"
                     " a5 666c616773 81 a8 766f6c6174696c65 c3");
    ra_buf_free(&b);
}

Test(broadcast, long_names_use_str8_as_notepack_does)
{
    char nsp[41];
    memset(nsp, 'n', 40);
    nsp[0] = '/';
    nsp[40] = '\0';
    ra_target t = {0};
    unsigned char data[] = {0x91, 0xa1, 'e'};
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_pack_broadcast(&b, "l9zfcA", nsp, data, sizeof data, &t), 0);
    const char *at = memmem(b.data, b.len, "\xa3nsp", 4);
    cr_assert(at);
    cr_assert_eq((unsigned char)at[4], 0xd9);
    cr_assert_eq((unsigned char)at[5], 40);
    ra_buf_free(&b);
}

/* ---- broadcasts with acks (§4, types 7 and 9) --------------------------------- */

static const msgpack_object *member(const msgpack_object *map, const char *key)
{
    cr_assert_eq(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
            return &kv->val;
    }
    return NULL;
}

static void assert_str(const msgpack_object *o, const char *want)
{
    cr_assert(o);
    cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
    cr_assert_eq(o->via.str.size, strlen(want));
    cr_assert(memcmp(o->via.str.ptr, want, strlen(want)) == 0);
}

Test(ack_request, is_the_map_node_decodes)
{
    const char *rooms[] = {"r"};
    ra_target t = {rooms, 1, NULL, 0, 0, 1500};
    unsigned char data[] = {0x92, 0xa4, 'p', 'i', 'n', 'g', 0x01};
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_pack_ack_request(&b, "l9zfcA", "rq0001", "/", data, sizeof data, &t), 0);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    cr_assert_eq(msgpack_unpack_next(&u, b.data, b.len, &off), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(off, b.len, "one value, nothing after it");
    const msgpack_object *m = &u.data;
    cr_assert_eq(m->via.map.size, 5);
    assert_str(&m->via.map.ptr[0].key, "uid"); /* Node's order */
    assert_str(member(m, "uid"), "l9zfcA");
    assert_str(member(m, "requestId"), "rq0001");
    cr_assert_eq(member(m, "type")->via.u64, 7);
    const msgpack_object *packet = member(m, "packet");
    cr_assert_eq(packet->via.map.size, 3);
    cr_assert_eq(member(packet, "type")->via.u64, 2);
    assert_str(member(packet, "nsp"), "/");
    cr_assert_eq(member(packet, "data")->via.array.size, 2);
    const msgpack_object *opts = member(m, "opts");
    cr_assert_eq(member(opts, "rooms")->via.array.size, 1);
    cr_assert_eq(member(opts, "except")->via.array.size, 0);
    const msgpack_object *flags = member(opts, "flags");
    cr_assert_eq(flags->via.map.size, 1);
    cr_assert_eq(member(flags, "timeout")->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_eq(member(flags, "timeout")->via.u64, 1500);
    msgpack_unpacked_destroy(&u);
    ra_buf_free(&b);
}

Test(ack_answer, is_type_9_with_the_answer_spliced)
{
    unsigned char answer[] = {0xa2, 'o', 'k'};
    ra_buf b = RA_BUF_INIT;
    cr_assert_eq(ra_pack_ack_answer(&b, "rq0001", 6, answer, sizeof answer), 0);
    assert_bytes(&b, "83 a4 74797065 09 a9 726571756573744964 a6 727130303031"
                     " a6 7061636b6574 a2 6f6b");
    ra_buf_free(&b);
}

/* ---- JSON bodies (§4) ------------------------------------------------------------ */

Test(json, requests_are_written_as_node_writes_them)
{
    const char *rooms[] = {"a"}, *except[] = {"b", "c"};
    ra_target t = {rooms, 1, except, 2, 0, 0};
    ra_target none = {0};
    ra_buf b = RA_BUF_INIT;

    ra_json_sockets_room(&b, "l9zfcA", RA_REMOTE_JOIN, &t, "room1");
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"type\":2,\"opts\":{\"rooms\":[\"a\"],\"except\":[\"b\","
                    "\"c\"]},\"rooms\":[\"room1\"]}");
    ra_buf_free(&b);

    ra_json_sockets_room(&b, "l9zfcA", RA_REMOTE_LEAVE, &none, "room1");
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"type\":3,\"opts\":{\"rooms\":[],\"except\":[]},"
                    "\"rooms\":[\"room1\"]}");
    ra_buf_free(&b);

    ra_json_disconnect(&b, "l9zfcA", &none, 1);
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"type\":4,\"opts\":{\"rooms\":[],\"except\":[]},"
                    "\"close\":true}");
    ra_buf_free(&b);

    ra_json_fetch(&b, "l9zfcA", "rq0001", &t);
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"requestId\":\"rq0001\",\"type\":5,\"opts\":{\"rooms\":"
                    "[\"a\"],\"except\":[\"b\",\"c\"]}}");
    ra_buf_free(&b);

    ra_json_all_rooms(&b, "l9zfcA", "rq0002");
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"requestId\":\"rq0002\",\"type\":1}");
    ra_buf_free(&b);

    ra_json_server_emit_head(&b, "l9zfcA", NULL);
    ra_buf_puts(&b, "[\"ev\",1]}");
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"type\":6,\"data\":[\"ev\",1]}");
    ra_buf_free(&b);

    ra_json_server_emit_head(&b, "l9zfcA", "rq0003");
    ra_buf_puts(&b, "[\"ev\"]}");
    assert_text(&b, "{\"uid\":\"l9zfcA\",\"requestId\":\"rq0003\",\"type\":6,\"data\":[\"ev\"]}");
    ra_buf_free(&b);
}

Test(json, responses_carry_the_askers_request_id)
{
    ra_buf b = RA_BUF_INIT;
    ra_json_reply_head(&b, "rq0001", 6, "sockets");
    ra_buf_puts(&b, "[]}");
    assert_text(&b, "{\"requestId\":\"rq0001\",\"sockets\":[]}");
    ra_buf_free(&b);

    ra_json_reply_done(&b, "rq0001xyz", 6); /* only the length given counts */
    assert_text(&b, "{\"requestId\":\"rq0001\"}");
    ra_buf_free(&b);

    ra_json_server_emit_reply_head(&b, "rq0003", 6);
    ra_buf_puts(&b, "\"pong\"}");
    assert_text(&b, "{\"type\":6,\"requestId\":\"rq0003\",\"data\":\"pong\"}");
    ra_buf_free(&b);

    ra_json_client_count(&b, "rq0004", 6, 0);
    assert_text(&b, "{\"type\":8,\"requestId\":\"rq0004\",\"clientCount\":0}");
    ra_buf_free(&b);
    ra_json_client_count(&b, "rq0004", 6, 4000000000u);
    assert_text(&b, "{\"type\":8,\"requestId\":\"rq0004\",\"clientCount\":4000000000}");
    ra_buf_free(&b);
}

Test(json, strings_are_escaped_as_json_stringify_does)
{
    ra_buf b = RA_BUF_INIT;
    const char s[] = "q\"b\\n\n\t\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac";
    ra_buf_json_string(&b, s, sizeof s - 1);
    assert_text(&b, "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\x7f caf\xc3\xa9 \xe2\x82\xac\"");
    ra_buf_free(&b);

    ra_buf_json_string(&b, "a\0b", 3); /* a NUL is text too */
    cr_assert_eq(b.len, 10);
    cr_assert(memcmp(b.data, "\"a\\u0000b\"", 10) == 0);
    ra_buf_free(&b);
}

Test(buf, grows_past_its_first_block)
{
    ra_buf b = RA_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        ra_buf_printf(&b, "%04d,", i);
    cr_assert(!b.failed);
    cr_assert_eq(b.len, 5000);
    cr_assert(strncmp(b.data + 4995, "0999,", 5) == 0);
    ra_buf_free(&b);

    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ra_buf_printf(&b, "<%s>", big); /* longer than printf's small buffer */
    cr_assert_eq(b.len, 301);
    cr_assert_eq(b.data[300], '>');
    ra_buf_free(&b);
}

/* ---- requests in flight ------------------------------------------------------------ */

Test(pending, entries_are_found_by_id_until_removed)
{
    ra_pending_table t = {0};
    enum { N = 1000 };
    ra_pending *all[N];
    for (int i = 0; i < N; i++) {
        all[i] = ra_pending_add(&t, RA_REMOTE_FETCH, i % 2 ? "/chat" : "/", (uint64_t)i + 1);
        cr_assert(all[i]);
        cr_assert_eq(all[i]->expected, -1, "unknown until NUMSUB answers");
    }
    cr_assert_eq(t.count, N);
    for (int i = 0; i < N; i++) {
        ra_pending *p = ra_pending_find(&t, all[i]->id, RA_UID_LEN);
        cr_assert_eq(p, all[i], "ids are unique");
        cr_assert_eq(p->request, (uint64_t)i + 1);
    }
    cr_assert_null(ra_pending_find(&t, all[0]->id, RA_UID_LEN - 1));
    cr_assert_null(ra_pending_find(&t, "######", RA_UID_LEN));

    for (int i = 0; i < N; i += 4)
        ra_pending_remove(&t, all[i]);
    cr_assert_eq(t.count, N - N / 4);

    /* the /chat ones (odd i) go together */
    size_t detached = 0;
    for (ra_pending *p = ra_pending_detach(&t, "/chat"), *next; p; p = next) {
        next = p->next;
        cr_assert_str_eq(p->nsp, "/chat");
        cr_assert_null(ra_pending_find(&t, p->id, RA_UID_LEN));
        ra_pending_free(p);
        detached++;
    }
    cr_assert_eq(detached, N / 2);
    cr_assert_eq(t.count, N / 4);
    for (int i = 2; i < N; i += 4)
        cr_assert_eq(ra_pending_find(&t, all[i]->id, RA_UID_LEN), all[i]);
    ra_pending_clear(&t);
    cr_assert_eq(t.count, 0);
    cr_assert_null(ra_pending_find(&t, "abcdef", RA_UID_LEN));
}

Test(pending, detaching_all_empties_the_table)
{
    ra_pending_table t = {0};
    for (int i = 0; i < 40; i++)
        cr_assert(ra_pending_add(&t, RA_ALL_ROOMS, "/", 1));
    size_t n = 0;
    for (ra_pending *p = ra_pending_detach(&t, NULL), *next; p; p = next, n++) {
        next = p->next;
        ra_pending_free(p);
    }
    cr_assert_eq(n, 40);
    cr_assert_eq(t.count, 0);
    cr_assert(ra_pending_add(&t, RA_ALL_ROOMS, "/", 2), "usable again");
    ra_pending_clear(&t);
}

Test(pending, held_entries_are_released_in_the_order_they_were_held)
{
    ra_pending_table t = {0};
    enum { N = 60 };
    ra_pending *all[N];
    for (int i = 0; i < N; i++)
        cr_assert(all[i] = ra_pending_add(&t, RA_REMOTE_FETCH, i % 3 ? "/" : "/chat", i + 1));
    cr_assert_null(ra_pending_first_held(&t, "/"), "none held yet");
    /* held in reverse order of creation (so not in the table's order) */
    for (int i = N; i-- > 0;)
        if (i % 5)
            ra_pending_hold(&t, all[i]);
    cr_assert_eq(all[N - 1]->held, 1);
    int released = 0, last = N;
    for (ra_pending *p; (p = ra_pending_first_held(&t, "/"));) {
        cr_assert_str_eq(p->nsp, "/");
        int i = (int)p->request - 1;
        if (i == 999) { /* held during the releases: the last one */
            cr_assert_eq(released, 31);
        } else {
            cr_assert_lt(i, last, "entry %d after %d: not in the order held", i, last);
            cr_assert(i % 5 && i % 3);
            cr_assert_neq(i, 1, "removed before its turn");
            last = i;
        }
        p->held = 0;
        released++;
        /* what a release may do meanwhile: the table changes under it */
        if (released == 3)
            ra_pending_remove(&t, all[1]);
        if (released == 4)
            ra_pending_hold(&t, ra_pending_add(&t, RA_ALL_ROOMS, "/", 1000));
    }
    /* i % 3 != 0 and i % 5 != 0 among 0..59: 32 entries, one removed
     * before its turn (i = 1), one added and released last */
    cr_assert_eq(released, 32);
    cr_assert_not_null(ra_pending_first_held(&t, "/chat"));
    cr_assert_null(ra_pending_first_held(&t, "/other"));
    ra_pending_clear(&t);
}

/* ---- subscriptions Redis confirmed ------------------------------------------------ */

static int confirm(ra_subs *s, const char *channel)
{
    return ra_subs_confirmed(s, channel, strlen(channel));
}

Test(subs, a_channel_is_ready_once_its_subscribe_is_confirmed)
{
    ra_subs s = {0};
    const char *req = "socket.io-request#/#";
    cr_assert_not(ra_subs_ready(&s, req), "nothing sent");
    cr_assert_eq(ra_subs_sent(&s, req, 1), 0);
    cr_assert_not(ra_subs_ready(&s, req), "sent, not confirmed: NUMSUB may not count us");
    cr_assert_eq(confirm(&s, "socket.io-response#/#"), 0, "another channel's confirmation");
    cr_assert_not(ra_subs_ready(&s, req));
    cr_assert_eq(confirm(&s, req), 1, "this confirmation makes it ready");
    cr_assert(ra_subs_ready(&s, req));
    cr_assert_eq(confirm(&s, req), 0, "a confirmation nobody waits for changes nothing");
    cr_assert(ra_subs_ready(&s, req));
    cr_assert_eq(ra_subs_confirmed(&s, req, strlen(req) - 1), 0, "compared by length too");

    /* the connection ends: nothing is subscribed any more */
    ra_subs_reset(&s);
    cr_assert_not(ra_subs_ready(&s, req));
    cr_assert_eq(confirm(&s, req), 0);
    cr_assert_not(ra_subs_ready(&s, req));
}

Test(subs, unsubscribing_clears_it_and_a_channel_made_again_waits_for_every_reply)
{
    ra_subs s = {0};
    const char *req = "k-request#/dyn-1#";
    ra_subs_sent(&s, req, 1);
    cr_assert_eq(confirm(&s, req), 1);
    /* the child is deleted (UNSUBSCRIBE) and made again (SUBSCRIBE) before
     * Redis answered either: its first answer is the unsubscription */
    ra_subs_sent(&s, req, 0);
    cr_assert_not(ra_subs_ready(&s, req), "unsubscribing");
    ra_subs_sent(&s, req, 1);
    cr_assert_not(ra_subs_ready(&s, req));
    cr_assert_eq(confirm(&s, req), 0, "the UNSUBSCRIBE's reply: not ready yet");
    cr_assert_not(ra_subs_ready(&s, req));
    cr_assert_eq(confirm(&s, req), 1, "the new SUBSCRIBE's reply");
    cr_assert(ra_subs_ready(&s, req));

    /* SUBSCRIBE, then at once UNSUBSCRIBE, then SUBSCRIBE again: ready only
     * after the third reply, though the first is a "subscribe" */
    ra_subs_reset(&s);
    ra_subs_sent(&s, req, 1);
    ra_subs_sent(&s, req, 0);
    ra_subs_sent(&s, req, 1);
    cr_assert_eq(confirm(&s, req), 0);
    cr_assert_not(ra_subs_ready(&s, req), "Redis has not counted the last SUBSCRIBE yet");
    cr_assert_eq(confirm(&s, req), 0);
    cr_assert_eq(confirm(&s, req), 1);
    cr_assert(ra_subs_ready(&s, req));

    /* unsubscribed for good: the record goes */
    ra_subs_sent(&s, req, 0);
    cr_assert_eq(confirm(&s, req), 0);
    cr_assert_null(s.list);
    ra_subs_reset(&s);
}

Test(subs, channels_are_kept_apart)
{
    ra_subs s = {0};
    ra_subs_sent(&s, "k-request#/#", 1);
    ra_subs_sent(&s, "k-request#/chat#", 1);
    cr_assert_eq(confirm(&s, "k-request#/chat#"), 1);
    cr_assert(ra_subs_ready(&s, "k-request#/chat#"));
    cr_assert_not(ra_subs_ready(&s, "k-request#/#"));
    cr_assert_eq(confirm(&s, "k-request#/#"), 1);
    cr_assert(ra_subs_ready(&s, "k-request#/#"));
    ra_subs_reset(&s);
    cr_assert_null(s.list);
}
