/*
 * test_limits.c - the abuse limits of `security:`: CIDR blocks
 * (host/base/cidr.c) and the token bucket (host/base/token_bucket.c) with
 * a chosen clock.
 */
#include "base/cidr.h"
#include "base/token_bucket.h"

#include <criterion/criterion.h>
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
