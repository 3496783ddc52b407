/*
 * subs.h - which channels Redis has confirmed this server's subscription
 * to, on the subscriber connection.
 *
 * A request to the other servers counts them with PUBSUB NUMSUB on the
 * request channel and subtracts this server: right only once Redis counts
 * this server, that is once its SUBSCRIBE was confirmed (["subscribe",
 * channel, count] on the subscriber connection; the NUMSUB goes out on the
 * other connection, in no order with it).  So the adapter records each
 * SUBSCRIBE and UNSUBSCRIBE it sends for a channel, and each confirmation
 * Redis sends back; a channel is ready when every command sent for it was
 * confirmed and the last one subscribed.  Redis answers a connection's
 * commands in order, so this holds across a namespace deleted and created
 * again before the confirmations came (UNSUBSCRIBE, then SUBSCRIBE, of the
 * same channel: ready only after both).
 *
 * Pure, and a list: a server has few namespaces.
 */
#ifndef RA_SUBS_H
#define RA_SUBS_H

#include <stddef.h>

typedef struct ra_sub {
    char *channel;      /* malloc'ed */
    size_t len;
    unsigned unconfirmed; /* commands sent for it whose confirmation is to come */
    int subscribed;       /* the last command sent was SUBSCRIBE */
    struct ra_sub *next;
} ra_sub;

typedef struct ra_subs {
    ra_sub *list;
} ra_subs;

/* A SUBSCRIBE (subscribe non-zero) or UNSUBSCRIBE of channel was sent: 0,
 * or -1 when out of memory (the channel then never reads as ready). */
int ra_subs_sent(ra_subs *s, const char *channel, int subscribe);
/* Redis confirmed a (un)subscription of channel (its bytes as they came):
 * 1 when that made the channel ready, 0 otherwise (a channel not
 * recorded, one still waiting, or an unsubscription). */
int ra_subs_confirmed(ra_subs *s, const char *channel, size_t len);
/* Is channel subscribed, with nothing about it still unconfirmed? */
int ra_subs_ready(const ra_subs *s, const char *channel);
/* The connection ended: nothing is subscribed, nothing is to come. */
void ra_subs_reset(ra_subs *s);

#endif
