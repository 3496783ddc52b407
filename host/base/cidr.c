/*
 * cidr.c - client addresses and CIDR blocks (see cidr.h).
 *
 * inet_pton does the reading: it takes only the dotted quad for IPv4 (no
 * "10.1", no octal "010.0.0.1"), and every IPv6 form.  What is left here
 * is the prefix, written as decimal digits only, and the rule that a block
 * has no bit set past it: "10.0.0.1/8" is most likely a typing mistake for
 * a host or for 10.0.0.0/8, and an allow-list that silently widened or
 * narrowed it would be worse than an error naming the block meant.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define ADDR_TEXT_MAX 64 /* longer than any address inet_pton reads */

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* The family of s, read into out: 4, 6, or 0 when it is no address. */
static int parse_family(const char *s, net_addr *out)
{
    if (strchr(s, ':'))
        return inet_pton(AF_INET6, s, out->b) == 1 ? 6 : 0;
    memcpy(out->b, v4_mapped, sizeof v4_mapped);
    return inet_pton(AF_INET, s, out->b + 12) == 1 ? 4 : 0;
}

bool net_addr_parse(const char *s, net_addr *out)
{
    return strlen(s) < ADDR_TEXT_MAX && parse_family(s, out) != 0;
}

/* Decimal digits only, at most `max`; -1 otherwise. */
static int parse_prefix(const char *s, int max)
{
    int n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (*s - '0');
        if (n > max)
            return -1;
    }
    return n;
}

/* The bits of a past the first `prefix`, cleared. */
static net_addr masked(const net_addr *a, unsigned prefix)
{
    net_addr m = *a;
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * i : 0;
        m.b[i] &= (unsigned char)(0xff00u >> keep);
    }
    return m;
}

bool cidr_parse(const char *s, cidr *out, char *why, size_t why_len)
{
    char text[ADDR_TEXT_MAX];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    int family = 0;
    if (alen < sizeof text) {
        memcpy(text, s, alen);
        text[alen] = '\0';
        family = parse_family(text, &out->net);
    }
    if (!family) {
        int shown = alen > 64 ? 64 : (int)alen;
        snprintf(why, why_len, "'%.*s' is not an IPv4 or IPv6 address", shown, s);
        return false;
    }
    int max = family == 4 ? 32 : 128;
    int prefix = slash ? parse_prefix(slash + 1, max) : max;
    if (prefix < 0) {
        snprintf(why, why_len, "the prefix '%.8s' is not a number from 0 to %d", slash + 1, max);
        return false;
    }
    out->prefix = (unsigned)(family == 4 ? 96 + prefix : prefix);
    net_addr net = masked(&out->net, out->prefix);
    if (memcmp(&net, &out->net, sizeof net) != 0) {
        char meant[INET6_ADDRSTRLEN];
        inet_ntop(family == 4 ? AF_INET : AF_INET6, family == 4 ? net.b + 12 : net.b, meant,
                  sizeof meant);
        snprintf(why, why_len, "%s has bits set past its prefix: %s/%d?", s, meant, prefix);
        return false;
    }
    return true;
}

bool cidr_match(const cidr *c, const net_addr *a)
{
    net_addr m = masked(a, c->prefix);
    return memcmp(&m, &c->net, sizeof m) == 0;
}
