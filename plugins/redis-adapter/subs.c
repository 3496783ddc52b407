/*
 * subs.c - the subscriber connection's confirmed channels (see subs.h).
 */
#include "subs.h"

#include <stdlib.h>
#include <string.h>

static ra_sub **find(ra_subs *s, const char *channel, size_t len)
{
    ra_sub **at = &s->list;
    while (*at && ((*at)->len != len || memcmp((*at)->channel, channel, len) != 0))
        at = &(*at)->next;
    return at;
}

static void drop(ra_sub **at)
{
    ra_sub *e = *at;
    *at = e->next;
    free(e->channel);
    free(e);
}

int ra_subs_sent(ra_subs *s, const char *channel, int subscribe)
{
    size_t len = strlen(channel);
    ra_sub **at = find(s, channel, len);
    if (!*at) {
        ra_sub *e = calloc(1, sizeof *e);
        if (!e || !(e->channel = malloc(len + 1))) {
            free(e);
            return -1;
        }
        memcpy(e->channel, channel, len + 1);
        e->len = len;
        *at = e;
    }
    (*at)->unconfirmed++;
    (*at)->subscribed = subscribe != 0;
    return 0;
}

int ra_subs_confirmed(ra_subs *s, const char *channel, size_t len)
{
    ra_sub **at = find(s, channel, len);
    ra_sub *e = *at;
    if (!e || e->unconfirmed == 0)
        return 0; /* not ours to count (a command whose record failed) */
    if (--e->unconfirmed > 0)
        return 0;
    if (!e->subscribed) {
        drop(at); /* unsubscribed, and nothing more to come */
        return 0;
    }
    return 1;
}

int ra_subs_ready(const ra_subs *s, const char *channel)
{
    size_t len = strlen(channel);
    for (const ra_sub *e = s->list; e; e = e->next)
        if (e->len == len && memcmp(e->channel, channel, len) == 0)
            return e->subscribed && e->unconfirmed == 0;
    return 0;
}

void ra_subs_reset(ra_subs *s)
{
    while (s->list)
        drop(&s->list);
}
