/*
 * test_limits.c - the abuse limits of `security:`: CIDR blocks
 * (host/base/cidr.c), the token bucket (host/base/token_bucket.c) with a
 * chosen clock, and what host/engineio/limits.c decides and counts for
 * handshakes and events.
 */
#include "base/cidr.h"
#include "base/timer.h"
#include "base/token_bucket.h"
#include "config/config.h"
#include "engineio/limits.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

/* ---- cidr ----------------------------------------------------------------- */

static cidr block(const char *s)
{
    cidr c;
    char why[200];
    cr_assert(cidr_parse(s, &c, why, sizeof why), "'%s' refused: %s", s, why);
    return c;
}

static bool in(const char *blk, const char *address)
{
    cidr c = block(blk);
    net_addr a;
    cr_assert(net_addr_parse(address, &a), "'%s' is an address", address);
    return cidr_match(&c, &a);
}

/* The reason cidr_parse gives for refusing s. */
static const char *refused(const char *s)
{
    static char why[200];
    cidr c;
    cr_assert_not(cidr_parse(s, &c, why, sizeof why), "'%s' accepted", s);
    return why;
}

Test(cidr, an_ipv4_block_holds_its_addresses_and_no_other)
{
    cr_assert(in("10.0.0.0/8", "10.0.0.1"));
    cr_assert(in("10.0.0.0/8", "10.255.255.255"));
    cr_assert_not(in("10.0.0.0/8", "11.0.0.0"));
    cr_assert_not(in("10.0.0.0/8", "9.255.255.255"));
    cr_assert(in("192.168.1.128/25", "192.168.1.200"));
    cr_assert_not(in("192.168.1.128/25", "192.168.1.127"));
}

Test(cidr, a_slash_32_or_a_bare_address_is_one_address)
{
    cr_assert(in("127.0.0.1/32", "127.0.0.1"));
    cr_assert_not(in("127.0.0.1/32", "127.0.0.2"));
    cr_assert(in("127.0.0.1", "127.0.0.1"));
    cr_assert_not(in("127.0.0.1", "127.0.0.2"));
}

Test(cidr, ipv4_slash_0_holds_every_ipv4_address_and_no_ipv6_one)
{
    cr_assert(in("0.0.0.0/0", "1.2.3.4"));
    cr_assert(in("0.0.0.0/0", "255.255.255.255"));
    cr_assert_not(in("0.0.0.0/0", "::1"));
    cr_assert_not(in("0.0.0.0/0", "2001:db8::1"));
}

Test(cidr, ipv6_slash_0_holds_every_address_of_both_families)
{
    cr_assert(in("::/0", "::1"));
    cr_assert(in("::/0", "2001:db8::1"));
    cr_assert(in("::/0", "10.0.0.1"));
}

Test(cidr, ipv6_blocks_and_slash_128)
{
    cr_assert(in("2001:db8::/32", "2001:db8:ffff::1"));
    cr_assert_not(in("2001:db8::/32", "2001:db9::1"));
    cr_assert(in("::1/128", "::1"));
    cr_assert(in("::1", "0:0:0:0:0:0:0:1"));
    cr_assert_not(in("::1/128", "::2"));
    cr_assert(in("fe80::/10", "febf::1"));
    cr_assert_not(in("fe80::/10", "fec0::1"));
}

Test(cidr, a_mapped_ipv4_address_is_the_ipv4_address)
{
    cr_assert(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    cr_assert(in("127.0.0.1", "::ffff:127.0.0.1"));
    cr_assert(in("::ffff:10.0.0.0/104", "10.9.9.9"));
    cr_assert(in("::ffff:0:0/96", "8.8.8.8"));
    cr_assert_not(in("10.0.0.0/8", "::10.1.2.3"), "an IPv4-compatible address is not mapped");
}

Test(cidr, refuses_what_is_not_an_address)
{
    cr_assert(strstr(refused(""), "is not an IPv4 or IPv6 address"));
    cr_assert(strstr(refused("localhost"), "'localhost' is not an IPv4 or IPv6 address"));
    cr_assert(strstr(refused("10.1"), "is not an IPv4"), "inet_pton's dotted quad only");
    cr_assert(strstr(refused("010.0.0.1"), "is not an IPv4"), "no octal");
    cr_assert(strstr(refused("256.0.0.1/8"), "'256.0.0.1' is not"));
    cr_assert(strstr(refused("1:2:3:4:5:6:7:8:9"), "is not an IPv4 or IPv6"));
    cr_assert(strstr(refused("fe80::1%eth0"), "is not an IPv4 or IPv6"), "no zone id");
    cr_assert(strstr(refused("[::1]"), "is not an IPv4 or IPv6"));
    char longer[300];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cr_assert(strstr(refused(longer), "is not an IPv4 or IPv6"));
}

Test(cidr, refuses_a_prefix_out_of_range_or_not_a_number)
{
    cr_assert_str_eq(refused("10.0.0.0/33"), "the prefix '33' is not a number from 0 to 32");
    cr_assert_str_eq(refused("::/129"), "the prefix '129' is not a number from 0 to 128");
    cr_assert_str_eq(refused("10.0.0.0/-1"), "the prefix '-1' is not a number from 0 to 32");
    cr_assert_str_eq(refused("10.0.0.0/"), "the prefix '' is not a number from 0 to 32");
    cr_assert_str_eq(refused("10.0.0.0/8x"), "the prefix '8x' is not a number from 0 to 32");
    cr_assert_str_eq(refused("10.0.0.0/ 8"), "the prefix ' 8' is not a number from 0 to 32");
    cr_assert_str_eq(refused("10.0.0.0/8/8"), "the prefix '8/8' is not a number from 0 to 32");
    cr_assert_str_eq(refused("::/99999999999"),
                     "the prefix '99999999' is not a number from 0 to 128");
}

Test(cidr, refuses_bits_past_the_prefix_naming_the_block_meant)
{
    cr_assert_str_eq(refused("10.0.0.1/8"), "10.0.0.1/8 has bits set past its prefix: 10.0.0.0/8?");
    cr_assert_str_eq(refused("1.2.3.4/0"), "1.2.3.4/0 has bits set past its prefix: 0.0.0.0/0?");
    cr_assert_str_eq(refused("2001:db8::1/32"),
                     "2001:db8::1/32 has bits set past its prefix: 2001:db8::/32?");
    cr_assert(in("10.0.0.0/8", "10.0.0.0"), "the network address itself is in");
}

Test(cidr, net_addr_parse_refuses_garbage)
{
    net_addr a;
    cr_assert_not(net_addr_parse("", &a));
    cr_assert_not(net_addr_parse("unknown", &a));
    cr_assert_not(net_addr_parse("10.0.0.0/8", &a), "a block is not an address");
}

/* ---- token bucket ------------------------------------------------------------ */

Test(token_bucket, a_new_bucket_gives_its_burst_then_refuses)
{
    token_bucket b = {0};
    for (int i = 0; i < 5; i++)
        cr_assert(token_bucket_take(&b, 10, 5, 1000), "take %d", i);
    cr_assert_not(token_bucket_take(&b, 10, 5, 1000));
    cr_assert_not(token_bucket_take(&b, 10, 5, 1000));
}

Test(token_bucket, refills_at_the_rate)
{
    token_bucket b = {0};
    for (int i = 0; i < 5; i++)
        token_bucket_take(&b, 10, 5, 1000);
    cr_assert_not(token_bucket_take(&b, 10, 5, 1099), "0.99 of a token after 99 ms at 10/s");
    cr_assert(token_bucket_take(&b, 10, 5, 1100), "one token after 100 ms");
    cr_assert_not(token_bucket_take(&b, 10, 5, 1100));
    cr_assert(token_bucket_take(&b, 10, 5, 1300));
    cr_assert(token_bucket_take(&b, 10, 5, 1300), "two tokens after 200 ms");
    cr_assert_not(token_bucket_take(&b, 10, 5, 1300));
}

Test(token_bucket, never_holds_more_than_its_burst)
{
    token_bucket b = {0};
    cr_assert(token_bucket_take(&b, 100, 3, 1000));
    int n = 0;
    while (token_bucket_take(&b, 100, 3, 1000 + 3600000))
        n++;
    cr_assert_eq(n, 3, "an hour idle fills it to the burst, no more");
}

Test(token_bucket, a_rate_below_one_a_second)
{
    token_bucket b = {0};
    cr_assert(token_bucket_take(&b, 0.5, 1, 1000));
    cr_assert_not(token_bucket_take(&b, 0.5, 1, 2999));
    cr_assert(token_bucket_take(&b, 0.5, 1, 3000));
}

Test(token_bucket, a_sustained_rate_passes_exactly)
{
    token_bucket b = {0};
    uint64_t now = 1000;
    int passed = 0;
    for (int i = 0; i < 1000; i++, now += 20) /* 50/s for 20 s at a 50/s limit */
        passed += token_bucket_take(&b, 50, 1, now);
    cr_assert_eq(passed, 1000);
    passed = 0;
    for (int i = 0; i < 1000; i++, now += 10) /* 100/s for 10 s at 50/s */
        passed += token_bucket_take(&b, 50, 1, now);
    cr_assert(passed >= 499 && passed <= 501, "%d passed", passed);
}

Test(token_bucket, a_lowered_burst_applies_at_once_and_a_clock_going_back_adds_nothing)
{
    token_bucket b = {0};
    cr_assert(token_bucket_take(&b, 10, 100, 5000)); /* 99 left */
    cr_assert(token_bucket_take(&b, 10, 2, 5000));   /* capped to 2, one taken */
    cr_assert(token_bucket_take(&b, 10, 2, 5000));
    cr_assert_not(token_bucket_take(&b, 10, 2, 5000));
    cr_assert_not(token_bucket_take(&b, 10, 2, 4000), "an earlier time refills nothing");
    cr_assert(token_bucket_take(&b, 10, 2, 5100));
}

/* ---- limits.c: sessions per address, the allow-list, events ---------------- */

static config_security sec;
static cidr blocks[4];

static void reset(void)
{
    memset(&sec, 0, sizeof sec);
    limits_set_config(&sec);
}

static void done(void)
{
    limits_set_config(NULL);
    timers_clear();
}

TestSuite(limits, .init = reset, .fini = done);

static void allow(const char *a, const char *b)
{
    blocks[0] = block(a);
    sec.n_allow = 1;
    if (b) {
        blocks[1] = block(b);
        sec.n_allow = 2;
    }
    sec.allow = blocks;
    sec.has_allow = true;
}

Test(limits, admits_everyone_with_no_limit_set)
{
    for (int i = 0; i < 100; i++)
        limits_session_began("10.0.0.1");
    cr_assert_eq(limits_admit("10.0.0.1"), LIMITS_ADMIT);
    cr_assert_eq(limits_admit("not an address"), LIMITS_ADMIT);
    limits_set_config(NULL);
    cr_assert_eq(limits_admit("10.0.0.1"), LIMITS_ADMIT);
    for (int i = 0; i < 100; i++)
        limits_session_ended("10.0.0.1");
}

Test(limits, the_allow_list_admits_its_blocks_only_and_counts_the_others)
{
    allow("127.0.0.1", "fd00::/8");
    limits_stats before = limits_get_stats();
    cr_assert_eq(limits_admit("127.0.0.1"), LIMITS_ADMIT);
    cr_assert_eq(limits_admit("::ffff:127.0.0.1"), LIMITS_ADMIT);
    cr_assert_eq(limits_admit("fd12::5"), LIMITS_ADMIT);
    cr_assert_eq(limits_admit("127.0.0.2"), LIMITS_NOT_ALLOWED);
    cr_assert_eq(limits_admit("::1"), LIMITS_NOT_ALLOWED);
    cr_assert_eq(limits_admit(""), LIMITS_NOT_ALLOWED, "an unknown address is in no block");
    cr_assert_eq(limits_get_stats().not_allowed - before.not_allowed, 3);
    cr_assert_eq(limits_get_stats().too_many, before.too_many);
}

Test(limits, max_connections_per_address_counts_each_address_apart)
{
    sec.max_connections_per_address = 2;
    limits_stats before = limits_get_stats();
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(limits_admit("10.0.0.1"), LIMITS_ADMIT);
        limits_session_began("10.0.0.1");
    }
    cr_assert_eq(limits_sessions_from("10.0.0.1"), 2);
    cr_assert_eq(limits_admit("10.0.0.1"), LIMITS_TOO_MANY);
    cr_assert_eq(limits_admit("10.0.0.2"), LIMITS_ADMIT, "another address has its own count");
    cr_assert_eq(limits_get_stats().too_many - before.too_many, 1);
    cr_assert_eq(limits_get_stats().addresses, 1);
    limits_session_ended("10.0.0.1");
    cr_assert_eq(limits_admit("10.0.0.1"), LIMITS_ADMIT, "one ended: room for one");
    limits_session_ended("10.0.0.1");
    cr_assert_eq(limits_sessions_from("10.0.0.1"), 0);
    cr_assert_eq(limits_get_stats().addresses, 0, "an address with no session is forgotten");
    limits_session_ended("10.0.0.1"); /* one too many: ignored */
    cr_assert_eq(limits_sessions_from("10.0.0.1"), 0);
}

Test(limits, a_limit_set_later_sees_the_sessions_already_open)
{
    for (int i = 0; i < 3; i++)
        limits_session_began("::1");
    cr_assert_eq(limits_admit("::1"), LIMITS_ADMIT);
    sec.max_connections_per_address = 3; /* as a reload would */
    cr_assert_eq(limits_admit("::1"), LIMITS_TOO_MANY);
    for (int i = 0; i < 3; i++)
        limits_session_ended("::1");
    cr_assert_eq(limits_admit("::1"), LIMITS_ADMIT);
}

Test(limits, events_pass_with_no_rate_limit)
{
    limits_events e = {0};
    for (int i = 0; i < 10000; i++)
        cr_assert_eq(limits_event(&e, "127.0.0.1", "s1"), LIMITS_PASS);
}

Test(limits, events_over_the_rate_are_refused_and_counted)
{
    sec.events_per_second = 0.001; /* no refill within the test */
    sec.burst = 3;
    limits_events e = {0};
    limits_stats before = limits_get_stats();
    for (int i = 0; i < 3; i++)
        cr_assert_eq(limits_event(&e, "127.0.0.1", "s1"), LIMITS_PASS);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(limits_event(&e, "127.0.0.1", "s1"), LIMITS_REFUSE);
    cr_assert_eq(limits_get_stats().events_refused - before.events_refused, 5);
    cr_assert_eq(limits_get_stats().disconnected, before.disconnected, "no disconnectAfter set");
    limits_events other = {0};
    cr_assert_eq(limits_event(&other, "127.0.0.1", "s2"), LIMITS_PASS, "each connection its own bucket");
    sec.events_per_second = 0; /* a reload that lifts it */
    cr_assert_eq(limits_event(&e, "127.0.0.1", "s1"), LIMITS_PASS);
}

Test(limits, disconnect_after_counts_refusals_in_a_row)
{
    sec.events_per_second = 0.001;
    sec.burst = 1;
    sec.disconnect_after = 3;
    limits_events e = {0};
    limits_stats before = limits_get_stats();
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_PASS);
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_REFUSE);
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_REFUSE);
    /* A token (as if time had passed) breaks the run. */
    e.bucket.tokens = 1;
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_PASS);
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_REFUSE);
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_REFUSE);
    cr_assert_eq(limits_event(&e, "10.0.0.1", "s1"), LIMITS_DISCONNECT);
    cr_assert_eq(limits_get_stats().disconnected - before.disconnected, 1);
    cr_assert_eq(limits_get_stats().events_refused - before.events_refused, 5);
}

/* Each kind of refusal logs its first in full, then only a summary every
 * 10 s: run the summary timer with a chosen clock. */
Test(limits, refusals_are_logged_first_then_summed_up, .init = cr_redirect_stderr)
{
    reset();
    allow("10.0.0.0/8", NULL);
    for (int i = 0; i < 1000; i++)
        limits_admit("192.0.2.7");
    timers_run(timer_now() + 10000);
    timers_run(timer_now() + 20000); /* a quiet interval: no line */
    limits_admit("192.0.2.8");
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    char line[512], all[4096] = "";
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        strncat(all, line, sizeof all - strlen(all) - 1);
        lines++;
    }
    cr_assert_eq(lines, 3, "got:\n%s", all);
    cr_assert(strstr(all, "refused a new session from 192.0.2.7: not in security.allow ("), "%s", all);
    cr_assert(strstr(all, "999 more new sessions refused (not in security.allow) in the last 10 s, "
                          "the last from 192.0.2.7 ("),
              "%s", all);
    cr_assert(strstr(all, "refused a new session from 192.0.2.8: not in security.allow"), "%s", all);
}
