/*
 * eio_session: the Engine.IO state machine, driven through its two tables
 * with no network: a fake transport below records what a session asks of
 * its connections (handles that are never looked into), a fake upper
 * layer records what it hears, and timers_run() decides when time passes.
 */
#include <criterion/criterion.h>

#include "base/random.h"
#include "base/timer.h"
#include "config/config.h"
#include "engineio/eio_session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake transport ------------------------------------------------- */

/* Handles: addresses of these, never dereferenced by the session. */
static char get1, get2, post1, ws1, probe1;
#define H(x) ((struct lws *)&(x))

enum { WRITABLE, RESUME, CLOSE, CLOSE_FLUSH, KILL, N_CALLS };
static int calls[N_CALLS];
static struct lws *last_handle[N_CALLS];
static bool choked;

static void note(int what, struct lws *t)
{
    calls[what]++;
    last_handle[what] = t;
}
static void t_writable(struct lws *t) { note(WRITABLE, t); }
static void t_resume(struct lws *t) { note(RESUME, t); }
static bool t_choked(struct lws *t) { (void)t; return choked; }
static void t_close(struct lws *t, bool flush) { note(flush ? CLOSE_FLUSH : CLOSE, t); }
static void t_kill(struct lws *t) { note(KILL, t); }
static const eio_transport_ops fake_transport = {t_writable, t_resume, t_choked, t_close, t_kill};

/* ---- the fake upper layer ----------------------------------------------- */

static int opened, freed;
static char closed_reason[64];
static char heard[256];
static size_t heard_len;
static bool heard_binary;
static int n_heard;
static char upper_state; /* what open stores */

static bool u_open(eio_session *s, void **upper)
{
    (void)s;
    *upper = &upper_state;
    opened++;
    return true;
}
static bool u_message(void *upper, const void *data, size_t len, bool binary)
{
    cr_assert_eq(upper, &upper_state);
    n_heard++;
    heard_len = len < sizeof heard ? len : sizeof heard - 1;
    memcpy(heard, data, heard_len);
    heard[heard_len] = '\0';
    heard_binary = binary;
    return true;
}
static void u_close(void *upper, const char *reason)
{
    cr_assert_eq(upper, &upper_state);
    snprintf(closed_reason, sizeof closed_reason, "%s", reason);
}
static void u_free(void *upper)
{
    cr_assert_eq(upper, &upper_state);
    freed++;
}
static const eio_events fake_upper = {u_open, u_message, u_close, u_free, NULL};

/* ---- set-up --------------------------------------------------------------- */

static config *cfg;

static void setup(void)
{
    /* Timers restart from the real clock while a test's timers_run(now)
     * looks ahead: a ping timeout longer than the interval keeps each
     * step apart. */
    static const char yaml[] = "socket:\n  serverOptions: {pingInterval: 1000, pingTimeout: 5000, "
                               "upgradeTimeout: 300}\n";
    diag_list diags = {0};
    cfg = config_load_string(yaml, sizeof yaml - 1, "test.yaml", ".", &diags);
    cr_assert_not_null(cfg);
    diag_free(&diags);
    eio_set_options(&cfg->opts);
    eio_set_events(&fake_upper);
    eio_set_transport(&fake_transport);
    memset(calls, 0, sizeof calls);
    memset(last_handle, 0, sizeof last_handle);
    choked = false;
    opened = freed = n_heard = 0;
    closed_reason[0] = '\0';
}

static void teardown(void)
{
    timers_clear();
    eio_sessions_flush_due(NULL);
    config_free(cfg);
}

TestSuite(eio_session, .init = setup, .fini = teardown);

/* A session as http.c makes one: query and header pairs, then taken. */
static eio_session *open_session(eio_transport t, int protocol)
{
    buf pairs = BUF_INIT;
    static const char q[] = "EIO\0" "4\0" "transport\0" "polling\0" "host\0" "example\0";
    buf_append(&pairs, q, sizeof q - 1);
    eio_session *s = eio_session_create(t, &pairs, 2, 1, "10.0.0.7", protocol);
    cr_assert_not_null(s);
    eio_session_ref(s); /* the test's own, as a transport holds one */
    return s;
}

/* The payload a poll would get now. */
static char *drain(eio_session *s, struct lws *get)
{
    buf b = BUF_INIT;
    eio_session_drain_payload(s, get, &b);
    buf_append(&b, "", 1);
    return b.data;
}

/* A polling session past its handshake, holding the GET `get`. */
static eio_session *holding_poll(struct lws *get)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    cr_assert_eq(eio_session_poll(s, get), EIO_POLL_HELD);
    return s;
}

/* A session that began on the WebSocket ws1 (protocol 4, or 3). */
static eio_session *on_websocket(int protocol)
{
    eio_session *s = open_session(EIO_WEBSOCKET, protocol);
    eio_session_attach_ws(s, H(ws1));
    return s;
}

/* ---- tests ----------------------------------------------------------------- */

Test(eio_session, a_polling_handshake_answers_with_the_open_packet)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    cr_assert_eq(opened, 1);
    cr_assert_str_eq(eio_session_address(s), "10.0.0.7");
    cr_assert_str_eq(eio_session_header(s, "Host"), "example");
    cr_assert_eq(eio_session_find(eio_session_sid(s), strlen(eio_session_sid(s))), s);
    char *p = drain(s, NULL);
    char expect[128];
    snprintf(expect, sizeof expect,
             "0{\"sid\":\"%s\",\"upgrades\":[\"websocket\"],\"pingInterval\":1000,"
             "\"pingTimeout\":5000,\"maxPayload\":1000000}",
             eio_session_sid(s));
    cr_assert_str_eq(p, expect);
    free(p);
    eio_session_end(s, "forced close");
    cr_assert_str_eq(closed_reason, "forced close");
    /* Ended from above between two GETs: its next one is waited for, and
     * gets the close packet (engine.io's "transport close" for the client). */
    cr_assert_eq(eio_session_find(eio_session_sid(s), EIO_SID_LEN), s);
    cr_assert_eq(eio_session_poll(s, H(get1)), EIO_POLL_ANSWER);
    p = drain(s, H(get1));
    cr_assert_str_eq(p, "1");
    free(p);
    cr_assert_null(eio_session_find(eio_session_sid(s), EIO_SID_LEN), "then forgotten");
    cr_assert_eq(freed, 0, "not freed while a transport holds it");
    eio_session_unref(s);
    cr_assert_eq(freed, 1);
}

/* At shutdown nothing waits for a last poll (else the session would
 * outlive the server's loop).  (Criterion runs each test in its own
 * process, so refusing here touches no other test.) */
Test(eio_session, shutting_down_forgets_the_sessions_that_wait_for_a_last_poll)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    eio_session_end(s, "forced close");
    cr_assert_eq(eio_session_find(eio_session_sid(s), EIO_SID_LEN), s);
    eio_sessions_refuse();
    cr_assert_null(eio_session_find(eio_session_sid(s), EIO_SID_LEN));
    eio_session_unref(s);
    cr_assert_eq(freed, 1);
    cr_assert_eq(eio_sessions_alive(), 0);
}

Test(eio_session, a_polling_session_ended_from_above_waits_for_its_last_poll_a_ping_timeout_at_most)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    eio_session_end(s, "forced close");
    cr_assert_eq(eio_session_find(eio_session_sid(s), EIO_SID_LEN), s);
    timers_run(timer_now() + 5000 + 100);
    cr_assert_null(eio_session_find(eio_session_sid(s), EIO_SID_LEN), "no GET came: forgotten");
    eio_session_unref(s);
    cr_assert_eq(freed, 1);

    /* A session whose held GET went away is not waited for, nor one
     * Engine.IO closes itself (a malformed payload). */
    s = holding_poll(H(get1));
    eio_session_transport_gone(s, H(get1));
    cr_assert_null(eio_session_find(eio_session_sid(s), EIO_SID_LEN));
    eio_session_unref(s);
    s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    eio_session_post_begin(s, H(post1));
    eio_session_post_end(s, H(post1), "x", 1, false);
    cr_assert_str_eq(closed_reason, "parse error");
    cr_assert_null(eio_session_find(eio_session_sid(s), EIO_SID_LEN));
    eio_session_unref(s);
}

Test(eio_session, a_poll_is_held_until_there_is_output_then_answered)
{
    eio_session *s = holding_poll(H(get1));
    cr_assert_eq(calls[RESUME], 0);
    eio_session_send(s, EIO_MESSAGE, "hi", 2);
    cr_assert_eq(calls[RESUME], 1, "the held GET is woken");
    cr_assert_eq(last_handle[RESUME], H(get1));
    char *p = drain(s, H(get1));
    cr_assert_str_eq(p, "4hi");
    free(p);
    /* Released: the next GET is held again, not an overlap. */
    cr_assert_eq(eio_session_poll(s, H(get2)), EIO_POLL_HELD);
    /* Output waiting: answered at once. */
    free(drain(s, H(get2)));
    eio_session_send(s, EIO_MESSAGE, "a", 1);
    cr_assert_eq(eio_session_poll(s, H(get1)), EIO_POLL_ANSWER);
    free(drain(s, H(get1)));
    eio_session_close(s, "forced close");
    eio_session_unref(s);
}

Test(eio_session, a_second_held_poll_closes_the_session)
{
    eio_session *s = holding_poll(H(get1));
    cr_assert_eq(eio_session_poll(s, H(get2)), EIO_POLL_OVERLAP);
    cr_assert(eio_session_is_closed(s));
    cr_assert_str_eq(closed_reason, "transport error");
    /* The held GET gets the close packet. */
    char *p = drain(s, H(get1));
    cr_assert_str_eq(p, "1");
    free(p);
    eio_session_unref(s);
}

Test(eio_session, a_post_delivers_each_message_and_an_overlapping_post_closes)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    cr_assert_not(eio_session_post_overlaps(s));
    eio_session_post_begin(s, H(post1));
    cr_assert(eio_session_post_overlaps(s));
    cr_assert(eio_session_is_closed(s));
    cr_assert_str_eq(closed_reason, "transport error");
    eio_session_unref(s);

    closed_reason[0] = '\0';
    s = open_session(EIO_POLLING, 4);
    free(drain(s, NULL));
    eio_session_post_begin(s, H(post1));
    static const char body[] = "4one\x1e" "4two";
    eio_session_post_end(s, H(post1), body, sizeof body - 1, false);
    cr_assert_eq(n_heard, 2);
    cr_assert_str_eq(heard, "two");
    cr_assert_not(eio_session_post_overlaps(s), "the POST is over");
    /* A malformed payload closes the session. */
    eio_session_post_begin(s, H(post1));
    eio_session_post_end(s, H(post1), "x", 1, false);
    cr_assert_str_eq(closed_reason, "parse error");
    eio_session_unref(s);
}

Test(eio_session, the_heartbeat_pings_and_a_missing_pong_closes)
{
    eio_session *s = on_websocket(4);
    cr_assert(eio_session_is_ws(s, H(ws1)));
    eio_msg_unref(eio_session_next_frame(s)); /* the open packet */
    uint64_t t0 = timer_now();
    timers_run(t0 + 1000 + 5);
    const eio_msg *ping = eio_session_peek_frame(s);
    cr_assert_not_null(ping);
    cr_assert_eq(ping->data[0], '2');
    eio_msg_unref(eio_session_next_frame(s));
    /* A pong in time: the next ping an interval later. */
    cr_assert(eio_session_receive_text(s, H(ws1), "3", 1));
    timers_run(t0 + 1000 + 5);
    ping = eio_session_peek_frame(s);
    cr_assert(ping && ping->data[0] == '2', "the second ping");
    eio_msg_unref(eio_session_next_frame(s));
    timers_run(t0 + 4000);
    cr_assert_not(eio_session_is_closed(s), "within the ping timeout");
    /* No pong this time: closed at the ping timeout. */
    timers_run(t0 + 5000 + 100);
    cr_assert(eio_session_is_closed(s));
    cr_assert_str_eq(closed_reason, "ping timeout");
    cr_assert_eq(last_handle[CLOSE], H(ws1), "the WebSocket is closed, nothing left to write");
    eio_session_unref(s);
}

Test(eio_session, a_pong_nobody_asked_for_does_not_move_the_heartbeat)
{
    eio_session *s = on_websocket(4);
    uint64_t t0 = timer_now();
    cr_assert(eio_session_receive_text(s, H(ws1), "3", 1));
    timers_run(t0 + 1000 + 5);  /* the ping */
    cr_assert_not(eio_session_is_closed(s));
    timers_run(t0 + 5000 + 100); /* its timeout */
    cr_assert_str_eq(closed_reason, "ping timeout");
    eio_session_unref(s);
}

/* The turn's-end writer: records the WebSocket it is handed. */
static struct lws *flushed_ws;
static void write_one(eio_session *e, struct lws *ws)
{
    (void)e;
    flushed_ws = ws;
}

Test(eio_session, a_probe_upgrades_the_session_to_its_websocket)
{
    eio_session *s = holding_poll(H(get1));
    cr_assert(eio_session_probe_begin(s, H(probe1), false));
    cr_assert_not(eio_session_probe_begin(s, H(ws1), false), "one probe at a time");
    cr_assert(eio_session_is_probe(s, H(probe1)));
    cr_assert(eio_session_receive_text(s, H(probe1), "2probe", 6));
    cr_assert_eq(last_handle[WRITABLE], H(probe1));
    cr_assert(eio_session_take_probe_reply(s));
    cr_assert_not(eio_session_take_probe_reply(s), "taken once");
    cr_assert_eq(last_handle[RESUME], H(get1), "the held GET is released");
    char *p = drain(s, H(get1));
    cr_assert_str_eq(p, "6", "with a noop");
    free(p);
    cr_assert_eq(eio_session_poll(s, H(get2)), EIO_POLL_ANSWER, "polls are answered while upgrading");
    free(drain(s, H(get2)));
    cr_assert(eio_session_receive_text(s, H(probe1), "5", 1));
    cr_assert_eq(eio_session_transport(s), EIO_WEBSOCKET);
    cr_assert(eio_session_is_ws(s, H(probe1)));
    cr_assert_not(eio_session_is_probe(s, H(probe1)));
    /* Output now goes to the WebSocket, at the turn's end. */
    eio_session_send(s, EIO_MESSAGE, "x", 1);
    flushed_ws = NULL;
    eio_sessions_flush_due(write_one);
    cr_assert_eq(flushed_ws, H(probe1));
    eio_session_close(s, "forced close");
    cr_assert_eq(last_handle[CLOSE_FLUSH], H(probe1), "closed after what is queued");
    eio_session_unref(s);
}

Test(eio_session, each_websocket_with_output_is_written_once_at_the_turns_end)
{
    eio_session *s = on_websocket(4);
    flushed_ws = NULL;
    eio_sessions_flush_due(write_one);
    cr_assert_eq(flushed_ws, NULL, "the open packet was queued before the WebSocket was attached");
    eio_session_send(s, EIO_MESSAGE, "a", 1);
    eio_session_send(s, EIO_MESSAGE, "b", 1);
    eio_sessions_flush_due(write_one);
    cr_assert_eq(flushed_ws, H(ws1));
    flushed_ws = NULL;
    eio_sessions_flush_due(write_one);
    cr_assert_eq(flushed_ws, NULL, "listed once, then forgotten");
    eio_session_close(s, "forced close");
    eio_session_unref(s);
}

Test(eio_session, a_probe_that_does_not_finish_in_time_is_dropped)
{
    eio_session *s = open_session(EIO_POLLING, 4);
    cr_assert(eio_session_probe_begin(s, H(probe1), false));
    timers_run(timer_now() + 300 + 5);
    cr_assert_eq(last_handle[KILL], H(probe1));
    cr_assert_not(eio_session_is_probe(s, H(probe1)));
    cr_assert_eq(eio_session_transport(s), EIO_POLLING);
    cr_assert_not(eio_session_is_closed(s), "the session goes on polling");
    eio_session_close(s, "forced close");
    eio_session_unref(s);
}

Test(eio_session, a_volatile_packet_goes_only_to_a_transport_that_can_take_it)
{
    eio_session *s = on_websocket(4);
    eio_msg_unref(eio_session_next_frame(s)); /* the open packet */
    cr_assert(eio_session_can_take_now(s));
    choked = true;
    cr_assert_not(eio_session_can_take_now(s));
    choked = false;
    eio_session_send(s, EIO_MESSAGE, "a", 1);
    cr_assert_not(eio_session_can_take_now(s), "output is waiting");
    eio_session_close(s, "forced close");
    cr_assert_not(eio_session_can_take_now(s));
    eio_session_unref(s);
}

Test(eio_session, the_queue_grows_past_its_inline_slots_and_returns_to_them)
{
    eio_session *s = on_websocket(4);
    char text[8];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(text, sizeof text, "%d", i);
        eio_session_send(s, EIO_MESSAGE, text, (size_t)n);
    }
    eio_msg_unref(eio_session_next_frame(s)); /* the open packet */
    for (int i = 0; i < 100; i++) {
        eio_msg *m = eio_session_next_frame(s);
        cr_assert_not_null(m);
        snprintf(text, sizeof text, "4%d", i);
        cr_assert_eq(m->len, strlen(text));
        cr_assert(memcmp(m->data, text, m->len) == 0, "in order");
        eio_msg_unref(m);
    }
    cr_assert(eio_session_idle(s));
    eio_session_send(s, EIO_MESSAGE, "again", 5);
    cr_assert_not(eio_session_idle(s));
    eio_session_close(s, "forced close");
    eio_session_unref(s); /* LeakSanitizer checks the ring went */
}

Test(eio_session, a_client_that_does_not_read_is_closed_past_the_queue_bound)
{
    eio_session *s = on_websocket(4);
    eio_msg *big = eio_msg_new(false, 1u << 20);
    memset(big->data, '4', big->len);
    for (int i = 0; i < 70 && !eio_session_is_closed(s); i++)
        eio_session_send_msg(s, big);
    eio_msg_unref(big);
    cr_assert(eio_session_is_closed(s));
    cr_assert_str_eq(closed_reason, "transport error");
    eio_session_unref(s);
}

Test(eio_session, a_malformed_packet_closes_the_session)
{
    eio_session *s = on_websocket(4);
    cr_assert_not(eio_session_receive_text(s, H(ws1), "9zz", 3));
    cr_assert_str_eq(closed_reason, "parse error");
    cr_assert_not(eio_session_receive_text(s, H(ws1), "4late", 5), "nothing after a close");
    cr_assert_eq(n_heard, 0);
    eio_session_unref(s);
}

Test(eio_session, protocol_3_clients_ping_and_the_server_answers)
{
    eio_session *s = on_websocket(3);
    eio_msg_unref(eio_session_next_frame(s)); /* the open packet */
    cr_assert(eio_session_receive_text(s, H(ws1), "2", 1));
    const eio_msg *pong = eio_session_peek_frame(s);
    cr_assert_not_null(pong);
    cr_assert_eq(pong->data[0], '3');
    cr_assert_not(eio_session_receive_text(s, H(ws1), "3", 1), "a pong from the client is wrong");
    cr_assert_str_eq(closed_reason, "transport error");
    eio_session_unref(s);
}

Test(eio_session, a_transport_that_goes_away_closes_its_session)
{
    eio_session *s = holding_poll(H(get1));
    eio_session_transport_gone(s, H(get1));
    cr_assert_str_eq(closed_reason, "transport error");
    eio_session_unref(s);

    s = on_websocket(4);
    eio_session_transport_gone(s, H(ws1));
    cr_assert_str_eq(closed_reason, "transport close");
    eio_session_unref(s);
}

static ssize_t no_randomness(void *out, size_t n, unsigned flags)
{
    (void)out, (void)n, (void)flags;
    errno = ENOSYS;
    return -1;
}

/* Without the kernel's random bytes there is no unguessable sid: the
 * handshake is refused, nothing is opened above and nothing is kept. */
Test(eio_session, a_handshake_is_refused_when_no_random_sid_can_be_drawn)
{
    random_set_source(no_randomness);
    buf pairs = BUF_INIT;
    static const char q[] = "EIO\0" "4\0" "transport\0" "polling\0";
    buf_append(&pairs, q, sizeof q - 1);
    cr_assert_null(eio_session_create(EIO_POLLING, &pairs, 2, 0, "10.0.0.7", 4));
    cr_assert_eq(opened, 0);
    cr_assert_eq(eio_sessions_alive(), 0);
    char id[8];
    cr_assert_not(eio_random_chars(id, sizeof id));
    for (unsigned i = 0; i < sizeof id; i++)
        cr_assert_eq(id[i], '\0', "nothing guessable is left in the id");

    random_set_source(NULL); /* the kernel answers again: so does the server */
    eio_session *s = open_session(EIO_POLLING, 4);
    cr_assert_eq(opened, 1);
    cr_assert_eq(strlen(eio_session_sid(s)), EIO_SID_LEN);
    eio_session_close(s, "forced close");
    eio_session_unref(s);
}
