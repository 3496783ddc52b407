/*
 * cidr.h - client addresses and CIDR blocks, for security.allow: an
 * address is parsed once into 16 bytes, an IPv4 address as its
 * IPv4-mapped IPv6 form (::ffff:a.b.c.d), so a peer that a dual-stack
 * socket reports as ::ffff:10.0.0.1 is 10.0.0.1 and one comparison serves
 * both families.  An IPv4 block a.b.c.d/n is the mapped block of prefix
 * 96 + n: 0.0.0.0/0 holds every IPv4 address and no other; ::/0 holds all.
 *
 * Pure functions over libc's inet_pton: nothing to allocate, nothing kept.
 */
#ifndef PIO_CIDR_H
#define PIO_CIDR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct net_addr {
    unsigned char b[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
} net_addr;

typedef struct cidr {
    net_addr net;        /* no bit set past the prefix */
    unsigned prefix;     /* 0-128, in the 16-byte form */
} cidr;

/* "a.b.c.d" or an IPv6 address in any form inet_pton reads (no zone id,
 * no brackets).  False when it is neither. */
bool net_addr_parse(const char *s, net_addr *out);

/* "a.b.c.d/n" (n 0-32), an IPv6 "x::y/n" (n 0-128), or an address alone
 * (the one address).  False with what is wrong written in `why`, for a
 * message ("the prefix is more than 32"; a block with bits set past its
 * prefix, 10.0.0.1/8, is refused with the block meant: 10.0.0.0/8). */
bool cidr_parse(const char *s, cidr *out, char *why, size_t why_len);

/* Whether a is in the block. */
bool cidr_match(const cidr *c, const net_addr *a);

#endif
