/*
 * test_csr_store.c - connection state recovery's store (host/socketio/csr_store.c):
 * which logged packets a restored session gets (socket.io-adapter's
 * shouldIncludePacket, in order, after the client's offset), that a
 * session is used once and expires, and that the log's bounds turn into a
 * refused restore rather than a replay with a hole.  Time is passed in;
 * session expiry is run with timers_run.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "socketio/csr_store.h"

#include <stdlib.h>
#include <string.h>

static csr_store *st;
static int released;
static const char *const PID = "pppppppppppppppppppp";
static const char *const SID = "ssssssssssssssssssss";

static void release(void *payload)
{
    released++;
    free(payload);
}

static void setup(void)
{
    st = csr_store_new();
    released = 0;
}

static void teardown(void)
{
    csr_store_free(st);
    timers_clear();
}

TestSuite(csr_store, .init = setup, .fini = teardown);

/* Log a packet with payload `tag` to rooms/except at `now`; its offset. */
static uint64_t log_at(const char *nsp, uint64_t now, const char *const *rooms, size_t n_rooms,
                       const char *const *except, size_t n_except, const char *except_id,
                       int tag, size_t bytes)
{
    int *payload = malloc(sizeof *payload);
    cr_assert_not_null(payload);
    *payload = tag;
    uint64_t offset = csr_next_offset(st);
    cr_assert(csr_log(st, nsp, offset, now, 60000, rooms, n_rooms, except, n_except, except_id,
                      payload, bytes, release));
    return offset;
}

/* A list of names and its length, as two arguments. */
#define ROOMS(...)                                                                          \
    (const char *const[]){__VA_ARGS__},                                                     \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)
#define NONE NULL, 0

static uint64_t log_to(const char *const *rooms, size_t n, int tag)
{
    return log_at("/", 1000, rooms, n, NONE, NULL, tag, 10);
}

static void save(uint64_t last_offset, const char *const *rooms, size_t n)
{
    cr_assert(csr_save(st, "/", PID, SID, rooms, n, NULL, last_offset, 1000, 5000));
}

static int restore(const char *nsp, uint64_t from, csr_restored *r)
{
    char text[21];
    csr_offset_format(from, text);
    return csr_restore(st, nsp, PID, text, 2000, r);
}

static void expect_tags(const csr_restored *r, const int *tags, size_t n)
{
    cr_assert_eq(r->n_missed, n, "missed %zu packets, want %zu", r->n_missed, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(*(int *)r->missed[i]->payload, tags[i], "packet %zu", i);
}

Test(csr_store, restores_the_session_with_the_packets_after_its_offset_that_addressed_it)
{
    json_object *data = json_object_new_object();
    json_object_object_add(data, "note", json_object_new_string("kept"));
    uint64_t seen = log_to(ROOMS("r1"), 0);
    cr_assert(csr_save(st, "/", PID, SID, ROOMS("r1", "r2"), data, seen, 1000, 5000));
    json_object_put(data);
    log_to(ROOMS("r1"), 1);                                 /* its room */
    log_to(ROOMS("r3"), -1);                                /* another room */
    log_to(NONE, 2);                                        /* everyone */
    log_at("/", 1000, ROOMS("r2", "r3"), NONE, NULL, 3, 10);/* one of its rooms among others */
    log_at("/", 1000, NONE, ROOMS("r2"), NULL, -2, 10);     /* everyone but r2 */
    log_at("/", 1000, NONE, NONE, SID, -3, 10);             /* all but it (the sender) */
    log_to(ROOMS(SID), 4);                                  /* its id room */
    log_at("/other", 1000, NONE, NONE, NULL, -4, 10);       /* another namespace */

    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    expect_tags(&r, (int[]){1, 2, 3, 4}, 4);
    cr_assert_str_eq(r.session->sid, SID);
    cr_assert_eq(r.session->n_rooms, 3, "r1, r2 and its id room");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(r.session->data, "note")),
                     "kept");
    csr_restored_free(&r);
    cr_assert_eq(csr_sessions(st), 0);
}

Test(csr_store, replays_from_the_clients_offset_so_packets_lost_in_flight_come_back)
{
    uint64_t got = log_to(ROOMS("r1"), 0);
    uint64_t lost = log_to(ROOMS("r1"), 1); /* sent, never read */
    save(lost, ROOMS("r1"));
    log_to(ROOMS("r1"), 2);
    csr_restored r;
    cr_assert_eq(restore("/", got, &r), CSR_OK);
    expect_tags(&r, (int[]){1, 2}, 2);
    csr_restored_free(&r);
}

Test(csr_store, a_session_is_restored_once)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    csr_restored_free(&r);
    cr_assert_eq(restore("/", seen, &r), CSR_ENOSESSION);
    cr_assert_null(r.session);
}

Test(csr_store, another_namespace_does_not_get_it_nor_use_it_up)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    csr_restored r;
    cr_assert_eq(restore("/other", seen, &r), CSR_ENOSESSION);
    cr_assert_eq(csr_sessions(st), 1);
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    csr_restored_free(&r);
}

Test(csr_store, refuses_an_offset_it_never_sent)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    uint64_t later = log_to(ROOMS("r9"), 1);
    const char *bad[] = {"", "0", "01", "abc", "1x", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        save(seen, ROOMS("r1"));
        csr_restored r;
        cr_assert_eq(csr_restore(st, "/", PID, bad[i], 2000, &r), CSR_EOFFSET, "'%s'", bad[i]);
    }
    save(seen, ROOMS("r1"));
    csr_restored r;
    cr_assert_eq(restore("/", later, &r), CSR_EOFFSET, "newer than anything sent to it");
    cr_assert_eq(csr_sessions(st), 0, "a failed attempt uses the session up");
}

Test(csr_store, expires_after_max_disconnection_duration_on_the_timer_heap)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1")); /* at 1000, for 5000 ms */
    csr_restored r;
    cr_assert_eq(csr_restore(st, "/", PID, "1", 6001, &r), CSR_EEXPIRED);
    save(seen, ROOMS("r1"));
    cr_assert_eq(timers_run(timer_now() + 4000), 0);
    cr_assert_eq(csr_sessions(st), 1);
    cr_assert_eq(timers_run(timer_now() + 5001), 1);
    cr_assert_eq(csr_sessions(st), 0);
}

Test(csr_store, the_same_private_id_replaces_the_session)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    save(seen, ROOMS("r2"));
    cr_assert_eq(csr_sessions(st), 1);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    cr_assert_str_eq(r.session->rooms[0], "r2");
    csr_restored_free(&r);
}

Test(csr_store, more_packets_than_the_log_keeps_is_a_gap)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    /* Its own last packet may go; one more, and what came after it has
     * gone too - even to another room: the store cannot tell. */
    for (int i = 1; i <= CSR_LOG_MAX_PACKETS + 1; i++)
        log_to(ROOMS("r9"), i);
    cr_assert_eq(csr_logged(st, "/"), CSR_LOG_MAX_PACKETS);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_EGAP);
}

Test(csr_store, up_to_the_log_bound_every_packet_is_replayed)
{
    uint64_t seen = log_to(ROOMS("r1"), -1);
    save(seen, ROOMS("r1"));
    for (int i = 0; i < CSR_LOG_MAX_PACKETS - 1; i++)
        log_to(ROOMS("r1"), i);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    cr_assert_eq(r.n_missed, CSR_LOG_MAX_PACKETS - 1);
    for (size_t i = 0; i < r.n_missed; i++)
        cr_assert_eq(*(int *)r.missed[i]->payload, (int)i);
    csr_restored_free(&r);
}

Test(csr_store, more_bytes_than_the_log_keeps_is_a_gap)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    log_at("/", 1000, ROOMS("r1"), NONE, NULL, 1, CSR_LOG_MAX_BYTES / 2);
    log_at("/", 1000, ROOMS("r1"), NONE, NULL, 2, CSR_LOG_MAX_BYTES / 2 + 1);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_EGAP);
}

Test(csr_store, an_idle_client_resumes_although_its_last_packet_aged_out)
{
    /* Its last packet is older than the log keeps; nothing after it was
     * dropped, so nothing it could have missed is unknown. */
    uint64_t seen = log_at("/", 0, ROOMS("r1"), NONE, NULL, 0, 10);
    csr_trim(st, 70000, 60000);
    cr_assert_eq(csr_logged(st, "/"), 0);
    cr_assert(csr_save(st, "/", PID, SID, ROOMS("r1"), NULL, seen, 70000, 5000));
    log_at("/", 71000, ROOMS("r1"), NONE, NULL, 1, 10);
    csr_restored r;
    char text[21];
    csr_offset_format(seen, text);
    cr_assert_eq(csr_restore(st, "/", PID, text, 72000, &r), CSR_OK);
    expect_tags(&r, (int[]){1}, 1);
    csr_restored_free(&r);
}

Test(csr_store, but_not_when_packets_after_it_were_dropped)
{
    uint64_t got = log_at("/", 0, ROOMS("r1"), NONE, NULL, 0, 10);
    uint64_t lost = log_at("/", 0, ROOMS("r1"), NONE, NULL, 1, 10);
    csr_trim(st, 70000, 60000);
    cr_assert(csr_save(st, "/", PID, SID, ROOMS("r1"), NULL, lost, 70000, 5000));
    csr_restored r;
    char text[21];
    csr_offset_format(got, text);
    cr_assert_eq(csr_restore(st, "/", PID, text, 71000, &r), CSR_EGAP);
}

Test(csr_store, payloads_are_released_once_when_nothing_holds_them)
{
    uint64_t seen = log_to(ROOMS("r1"), 0);
    save(seen, ROOMS("r1"));
    log_to(ROOMS("r1"), 1);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_OK);
    csr_trim(st, 1000000, 1); /* the log lets go; the restore still holds one */
    cr_assert_eq(released, 1);
    cr_assert_eq(*(int *)r.missed[0]->payload, 1);
    csr_restored_free(&r);
    cr_assert_eq(released, 2);
    log_to(ROOMS("r1"), 2);
    csr_store_free(st);
    st = NULL;
    cr_assert_eq(released, 3);
}

Test(csr_store, offsets_are_decimal_and_parse_strictly)
{
    char text[21];
    csr_offset_format(UINT64_MAX, text);
    cr_assert_str_eq(text, "18446744073709551615");
    cr_assert_eq(csr_offset_parse(text), UINT64_MAX);
    cr_assert_eq(csr_offset_parse("18446744073709551616"), 0, "overflow");
    cr_assert_eq(csr_offset_parse("42"), 42);
    cr_assert_eq(csr_offset_parse("-1"), 0);
    cr_assert_eq(csr_offset_parse(NULL), 0);
}

/* Namespaces that come and go (dynamic ones) leave nothing behind. */
Test(csr_store, a_log_that_aged_out_and_has_no_sessions_is_released)
{
    for (int i = 0; i < 100; i++) {
        char nsp[32];
        snprintf(nsp, sizeof nsp, "/tenant-%d", i);
        log_at(nsp, 0, NONE, NONE, NULL, i, 1000);
    }
    cr_assert_eq(csr_namespaces(st), 100);
    cr_assert_eq(csr_bytes(st), 100 * 1000);
    csr_trim(st, 70000, 60000);
    cr_assert_eq(csr_namespaces(st), 0, "nothing left behind");
    cr_assert_eq(csr_bytes(st), 0);
    cr_assert_eq(released, 100);
}

Test(csr_store, a_kept_session_keeps_its_namespace_entry_until_it_goes)
{
    uint64_t seen = log_at("/", 0, ROOMS("r1"), NONE, NULL, 0, 10);
    cr_assert(csr_save(st, "/", PID, SID, ROOMS("r1"), NULL, seen, 100, 5000));
    csr_trim(st, 70000, 60000);
    cr_assert_eq(csr_namespaces(st), 1);
    csr_restored r;
    char text[21];
    csr_offset_format(seen, text);
    cr_assert_eq(csr_restore(st, "/", PID, text, 71000, &r), CSR_EEXPIRED);
    cr_assert_eq(csr_namespaces(st), 0, "its last session gone, the entry goes");
}

Test(csr_store, all_logs_together_are_bounded_and_what_does_not_fit_is_a_gap)
{
    size_t big = CSR_LOG_MAX_BYTES - 1;
    int n = (int)(CSR_LOG_MAX_TOTAL_BYTES / big);
    for (int i = 0; i < n; i++) {
        char nsp[32];
        snprintf(nsp, sizeof nsp, "/ns-%d", i);
        log_at(nsp, 1000, NONE, NONE, NULL, i, big);
    }
    cr_assert_leq(csr_bytes(st), CSR_LOG_MAX_TOTAL_BYTES);
    uint64_t seen = log_to(ROOMS("r1"), 100);
    save(seen, ROOMS("r1"));
    log_at("/", 1000, ROOMS("r1"), NONE, NULL, 101, big); /* does not fit: not kept */
    cr_assert_leq(csr_bytes(st), CSR_LOG_MAX_TOTAL_BYTES);
    csr_restored r;
    cr_assert_eq(restore("/", seen, &r), CSR_EGAP, "a client that missed it starts afresh");
}
