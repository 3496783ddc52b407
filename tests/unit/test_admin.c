/*
 * test_admin.c - the Admin UI's pieces that need no server: bcrypt checks
 * against known hashes (base/bcrypt.c), the session store's expiry and
 * bound, and the aggregation of server_stats' events (web/admin_store.c).
 */
#include "base/bcrypt.h"
#include "base/random.h"
#include "web/admin_store.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* OpenBSD's test vector, and hashes made by bcryptjs (the Node package's). */
#define U_STAR_U "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
#define PLUGIO_ADMIN "$2a$04$jKZFrXIMXwLZ4rXEPBIpp.at2.OvMjK4kHwjB9HoG9lG6NJCH1bgC"
#define EMPTY "$2a$04$rcy.Q/lkbiyV9qyCtKl9ZOOoJnuk4rxvDePpNIdr.rFGg80RGJw0S"

Test(bcrypt, matches_known_hashes)
{
    cr_assert(bcrypt_check("U*U", U_STAR_U));
    cr_assert(bcrypt_check("plugio-admin", PLUGIO_ADMIN));
    cr_assert(bcrypt_check("", EMPTY));
}

Test(bcrypt, refuses_other_passwords)
{
    cr_assert_not(bcrypt_check("U*V", U_STAR_U));
    cr_assert_not(bcrypt_check("plugio-admin ", PLUGIO_ADMIN));
    cr_assert_not(bcrypt_check("x", EMPTY));
    cr_assert_not(bcrypt_check(NULL, EMPTY));
}

/* $2b$ and $2y$ are the same algorithm as $2a$ for such passwords. */
Test(bcrypt, knows_2b_and_2y)
{
    char h[] = PLUGIO_ADMIN;
    h[2] = 'b';
    cr_assert(bcrypt_check("plugio-admin", h));
    h[2] = 'y';
    cr_assert(bcrypt_check("plugio-admin", h));
    cr_assert_not(bcrypt_check("nope", h));
}

Test(bcrypt, checks_the_shape_of_a_hash)
{
    cr_assert(bcrypt_hash_ok(U_STAR_U));
    cr_assert_not(bcrypt_hash_ok(NULL));
    cr_assert_not(bcrypt_hash_ok(""));
    cr_assert_not(bcrypt_hash_ok("secret"));
    cr_assert_not(bcrypt_hash_ok("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    cr_assert_not(bcrypt_hash_ok("$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    cr_assert_not(bcrypt_hash_ok("$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
    cr_assert_not(bcrypt_hash_ok("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe"));
    cr_assert_not(bcrypt_hash_ok("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!"));
    cr_assert_not(bcrypt_hash_ok("$1$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWx"));
    /* A hash that is not bcrypt's matches nothing, not even what crypt
     * would make of it. */
    cr_assert_not(bcrypt_check("x", "$1$abc$abcdefghijklmnopqrstuv"));
}

/* ---- sessions ------------------------------------------------------------ */

static admin_sessions store;

static void free_store(void)
{
    admin_sessions_free(&store);
    random_set_source(NULL);
}

TestSuite(admin_sessions, .fini = free_store);

Test(admin_sessions, a_new_session_is_valid_until_it_expires)
{
    admin_sessions_init(&store, 8, 1000);
    char id[ADMIN_SESSION_ID_LEN + 1];
    cr_assert(admin_sessions_new(&store, 5000, id));
    cr_assert_eq(strlen(id), 16);
    cr_assert_eq(strspn(id, "0123456789abcdef"), 16, "hex, as randomId(): %s", id);
    cr_assert(admin_sessions_valid(&store, id, 5000));
    cr_assert(admin_sessions_valid(&store, id, 5999));
    cr_assert_not(admin_sessions_valid(&store, id, 6000));
    cr_assert_eq(store.n, 0, "the expired session is dropped");
}

Test(admin_sessions, unknown_ids_are_refused)
{
    admin_sessions_init(&store, 8, 1000);
    char id[ADMIN_SESSION_ID_LEN + 1], other[ADMIN_SESSION_ID_LEN + 1];
    cr_assert(admin_sessions_new(&store, 0, id));
    memcpy(other, id, sizeof other);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    cr_assert_not(admin_sessions_valid(&store, other, 0));
    cr_assert_not(admin_sessions_valid(&store, NULL, 0));
    cr_assert_not(admin_sessions_valid(&store, "", 0));
    char longer[ADMIN_SESSION_ID_LEN + 2];
    snprintf(longer, sizeof longer, "%sx", id);
    cr_assert_not(admin_sessions_valid(&store, longer, 0));
    cr_assert(admin_sessions_valid(&store, id, 0));
}

Test(admin_sessions, ids_differ)
{
    admin_sessions_init(&store, 8, 1000);
    char a[ADMIN_SESSION_ID_LEN + 1], b[ADMIN_SESSION_ID_LEN + 1];
    cr_assert(admin_sessions_new(&store, 0, a));
    cr_assert(admin_sessions_new(&store, 0, b));
    cr_assert_str_neq(a, b);
}

Test(admin_sessions, a_full_store_forgets_the_oldest)
{
    admin_sessions_init(&store, 3, 10000);
    char ids[4][ADMIN_SESSION_ID_LEN + 1];
    for (int i = 0; i < 4; i++)
        cr_assert(admin_sessions_new(&store, (uint64_t)i, ids[i]));
    cr_assert_eq(store.n, 3);
    cr_assert_not(admin_sessions_valid(&store, ids[0], 10));
    for (int i = 1; i < 4; i++)
        cr_assert(admin_sessions_valid(&store, ids[i], 10));
}

Test(admin_sessions, a_full_store_drops_the_expired_first)
{
    admin_sessions_init(&store, 2, 100);
    char a[ADMIN_SESSION_ID_LEN + 1], b[ADMIN_SESSION_ID_LEN + 1], c[ADMIN_SESSION_ID_LEN + 1];
    cr_assert(admin_sessions_new(&store, 0, a));
    cr_assert(admin_sessions_new(&store, 150, b)); /* a has expired meanwhile */
    cr_assert(admin_sessions_new(&store, 160, c));
    cr_assert_eq(store.n, 2);
    cr_assert(admin_sessions_valid(&store, b, 160));
    cr_assert(admin_sessions_valid(&store, c, 160));
}

static ssize_t refuses(void *buf, size_t n, unsigned flags)
{
    (void)buf, (void)n, (void)flags;
    errno = ENOSYS;
    return -1;
}

Test(admin_sessions, no_session_without_random_bytes)
{
    admin_sessions_init(&store, 2, 100);
    random_set_source(refuses);
    char id[ADMIN_SESSION_ID_LEN + 1];
    cr_assert_not(admin_sessions_new(&store, 0, id));
    cr_assert_eq(store.n, 0);
}

/* ---- aggregated events ---------------------------------------------------- */

static admin_events events;

static void free_events(void) { admin_events_free(&events); }

TestSuite(admin_events, .fini = free_events);

static const char *take_text(void)
{
    static char text[2048];
    json_object *j = admin_events_take(&events);
    cr_assert_not_null(j);
    snprintf(text, sizeof text, "%s", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    return text;
}

Test(admin_events, counts_add_up_per_second_type_and_subtype)
{
    admin_events_push(&events, 1000, "packetsIn", NULL, 1);
    admin_events_push(&events, 1999, "packetsIn", NULL, 1);
    admin_events_push(&events, 1500, "bytesIn", NULL, 40);
    admin_events_push(&events, 1500, "bytesIn", NULL, 2);
    admin_events_push(&events, 2000, "packetsIn", NULL, 1);
    admin_events_push(&events, 2001, "rawDisconnection", "transport close", 1);
    admin_events_push(&events, 2002, "rawDisconnection", "ping timeout", 1);
    admin_events_push(&events, 2003, "rawDisconnection", "transport close", 1);
    cr_assert_str_eq(take_text(),
                     "[{\"timestamp\":1000,\"type\":\"packetsIn\",\"count\":2},"
                     "{\"timestamp\":1000,\"type\":\"bytesIn\",\"count\":42},"
                     "{\"timestamp\":2000,\"type\":\"packetsIn\",\"count\":1},"
                     "{\"timestamp\":2000,\"type\":\"rawDisconnection\",\"subType\":\"transport "
                     "close\",\"count\":2},"
                     "{\"timestamp\":2000,\"type\":\"rawDisconnection\",\"subType\":\"ping "
                     "timeout\",\"count\":1}]");
}

Test(admin_events, taking_empties_the_buffer)
{
    admin_events_push(&events, 1796094581123, "rawConnection", NULL, 1);
    cr_assert_str_eq(take_text(), "[{\"timestamp\":1796094581000,\"type\":\"rawConnection\",\"count\":1}]");
    cr_assert_str_eq(take_text(), "[]");
    admin_events_push(&events, 1796094581123, "rawConnection", NULL, 1);
    cr_assert_str_eq(take_text(), "[{\"timestamp\":1796094581000,\"type\":\"rawConnection\",\"count\":1}]");
}

/* What server_stats does with nobody to tell: forget, build nothing. */
Test(admin_events, clearing_forgets_without_building)
{
    admin_events_push(&events, 1000, "packetsIn", NULL, 1);
    admin_events_push(&events, 1000, "rawDisconnection", "transport close", 1);
    admin_events_clear(&events);
    cr_assert_eq(events.n, 0);
    cr_assert_str_eq(take_text(), "[]");
    admin_events_push(&events, 3000, "packetsIn", NULL, 1);
    cr_assert_str_eq(take_text(), "[{\"timestamp\":3000,\"type\":\"packetsIn\",\"count\":1}]");
}

/* ---- the back-off of failed logins ------------------------------------ */

static admin_throttle throttle;

static void free_throttle(void) { admin_throttle_free(&throttle); }

TestSuite(admin_throttle, .fini = free_throttle);

Test(admin_throttle, an_address_waits_after_a_failure_doubling_up_to_the_cap)
{
    admin_throttle_init(&throttle, 8, 1000, 60000);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", 0), 0);
    admin_throttle_failed(&throttle, "10.0.0.1", 0);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", 0), 1000);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", 999), 1);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", 1000), 0);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.2", 0), 0, "only that address");
    uint64_t now = 1000, expect[] = {2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        admin_throttle_failed(&throttle, "10.0.0.1", now);
        cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", now), expect[i], "failure %zu", i + 2);
        now += expect[i];
    }
}

Test(admin_throttle, a_success_forgets_the_address)
{
    admin_throttle_init(&throttle, 8, 1000, 60000);
    admin_throttle_failed(&throttle, "::1", 0);
    admin_throttle_failed(&throttle, "::1", 1000);
    admin_throttle_passed(&throttle, "::1");
    cr_assert_eq(admin_throttle_wait(&throttle, "::1", 3000), 0);
    admin_throttle_failed(&throttle, "::1", 3000);
    cr_assert_eq(admin_throttle_wait(&throttle, "::1", 3000), 1000, "starts over at the first back-off");
}

Test(admin_throttle, a_quiet_address_is_forgotten)
{
    admin_throttle_init(&throttle, 8, 1000, 60000);
    admin_throttle_failed(&throttle, "10.0.0.1", 0);
    admin_throttle_failed(&throttle, "10.0.0.1", 1000); /* waits until 3000 */
    cr_assert_eq(throttle.n, 1);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.2", 62999), 0);
    cr_assert_eq(throttle.n, 1, "kept until quiet for the longest back-off");
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.2", 63000), 0);
    cr_assert_eq(throttle.n, 0);
    admin_throttle_failed(&throttle, "10.0.0.1", 63000);
    cr_assert_eq(admin_throttle_wait(&throttle, "10.0.0.1", 63000), 1000);
}

Test(admin_throttle, a_full_table_stays_bounded_and_drops_the_soonest_ending)
{
    admin_throttle_init(&throttle, 3, 1000, 60000);
    admin_throttle_failed(&throttle, "a", 0);     /* until 1000 */
    admin_throttle_failed(&throttle, "b", 0);
    admin_throttle_failed(&throttle, "b", 0);     /* until 2000 */
    admin_throttle_failed(&throttle, "c", 500);   /* until 1500 */
    admin_throttle_failed(&throttle, "d", 600);   /* a goes */
    cr_assert_eq(throttle.n, 3);
    cr_assert_eq(admin_throttle_wait(&throttle, "a", 600), 0);
    cr_assert_eq(admin_throttle_wait(&throttle, "b", 600), 1400);
    cr_assert_eq(admin_throttle_wait(&throttle, "c", 600), 900);
    cr_assert_eq(admin_throttle_wait(&throttle, "d", 600), 1000);
    admin_throttle_failed(&throttle, NULL, 600);  /* no address: nothing */
    cr_assert_eq(throttle.n, 3);
}
