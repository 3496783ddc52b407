/*
 * admin_store.c - the Admin UI's session ids and aggregated events (see
 * admin_store.h).
 *
 * Both are small and linear on purpose.  Sessions: a login makes one, a
 * reconnecting UI presents it; a few hundred at most are alive, and the
 * store is bounded so that logins cannot grow it without end (Node's
 * InMemoryStore keeps every id forever).  Back-offs: one entry per
 * address whose logins failed lately, bounded the same way (a scan of a
 * thousand entries per login attempt costs microseconds).  Events: per flush (2 s) there
 * are a handful of (second, type, subType) keys - six types, and the
 * disconnection reasons Engine.IO has.
 */
#include "admin_store.h"

#include "base/array.h"
#include "base/random.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void admin_sessions_init(admin_sessions *s, size_t max, uint64_t ttl)
{
    *s = (admin_sessions){.max = max ? max : 1, .ttl = ttl};
}

void admin_sessions_free(admin_sessions *s)
{
    free(s->list);
    *s = (admin_sessions){0};
}

static void drop_expired(admin_sessions *s, uint64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->list[i].expires > now)
            s->list[kept++] = s->list[i];
    s->n = kept;
}

bool admin_sessions_new(admin_sessions *s, uint64_t now, char *out)
{
    unsigned char raw[ADMIN_SESSION_ID_LEN / 2];
    if (!random_bytes(raw, sizeof raw))
        return false;
    if (!s->list && !(s->list = calloc(s->max, sizeof *s->list)))
        return false;
    drop_expired(s, now);
    if (s->n == s->max) { /* the oldest goes: sessions are in creation order */
        memmove(s->list, s->list + 1, (s->n - 1) * sizeof *s->list);
        s->n--;
    }
    admin_session *e = &s->list[s->n++];
    sodium_bin2hex(e->id, sizeof e->id, raw, sizeof raw);
    e->expires = now + s->ttl;
    memcpy(out, e->id, sizeof e->id);
    return true;
}

bool admin_sessions_valid(admin_sessions *s, const char *id, uint64_t now)
{
    drop_expired(s, now);
    if (!id || strlen(id) != ADMIN_SESSION_ID_LEN)
        return false;
    bool found = false;
    for (size_t i = 0; i < s->n; i++) /* every one compared, in constant time */
        found |= sodium_memcmp(s->list[i].id, id, ADMIN_SESSION_ID_LEN) == 0;
    return found;
}

void admin_throttle_init(admin_throttle *t, size_t max, uint64_t first, uint64_t longest)
{
    *t = (admin_throttle){.max = max ? max : 1, .first = first, .longest = longest};
}

void admin_throttle_free(admin_throttle *t)
{
    free(t->list);
    *t = (admin_throttle){0};
}

/* Entries quiet for `longest` past their back-off go. */
static void forget_quiet(admin_throttle *t, uint64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->n; i++)
        if (now < t->list[i].until + t->longest)
            t->list[kept++] = t->list[i];
    t->n = kept;
}

static admin_backoff *find_address(admin_throttle *t, const char *address)
{
    for (size_t i = 0; address && i < t->n; i++)
        if (strcmp(t->list[i].address, address) == 0)
            return &t->list[i];
    return NULL;
}

uint64_t admin_throttle_wait(admin_throttle *t, const char *address, uint64_t now)
{
    forget_quiet(t, now);
    admin_backoff *b = find_address(t, address);
    return b && b->until > now ? b->until - now : 0;
}

/* A new entry for address (which has none), room made when full. */
static admin_backoff *add_address(admin_throttle *t, const char *address)
{
    if (!t->list && !(t->list = calloc(t->max, sizeof *t->list)))
        return NULL;
    if (t->n == t->max) {
        size_t soonest = 0;
        for (size_t i = 1; i < t->n; i++)
            if (t->list[i].until < t->list[soonest].until)
                soonest = i;
        t->list[soonest] = t->list[--t->n];
    }
    admin_backoff *b = &t->list[t->n++];
    *b = (admin_backoff){0};
    snprintf(b->address, sizeof b->address, "%s", address);
    return b;
}

void admin_throttle_failed(admin_throttle *t, const char *address, uint64_t now)
{
    if (!address)
        return;
    forget_quiet(t, now);
    admin_backoff *b = find_address(t, address);
    if (!b && !(b = add_address(t, address)))
        return;
    uint64_t wait = t->first;
    for (unsigned i = 0; i < b->failures && wait < t->longest; i++)
        wait *= 2;
    b->failures++;
    b->until = now + (wait < t->longest ? wait : t->longest);
}

void admin_throttle_passed(admin_throttle *t, const char *address)
{
    admin_backoff *b = find_address(t, address);
    if (b)
        *b = t->list[--t->n];
}

static bool same_sub(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

void admin_events_push(admin_events *b, uint64_t now_ms, const char *type, const char *sub_type,
                       uint64_t count)
{
    uint64_t second = now_ms - now_ms % 1000;
    for (size_t i = 0; i < b->n; i++) {
        admin_event *e = &b->list[i];
        if (e->timestamp == second && strcmp(e->type, type) == 0 && same_sub(e->sub_type, sub_type)) {
            e->count += count;
            return;
        }
    }
    char *sub = sub_type ? strdup(sub_type) : NULL;
    if ((sub_type && !sub) || !ARRAY_RESERVE(b->list, b->n + 1, b->cap, 16)) {
        free(sub);
        return;
    }
    b->list[b->n++] = (admin_event){second, type, sub, count};
}

static bool add(json_object *o, const char *key, json_object *v)
{
    if (v && json_object_object_add(o, key, v) == 0)
        return true;
    json_object_put(v);
    return false;
}

json_object *admin_events_take(admin_events *b)
{
    json_object *list = json_object_new_array();
    for (size_t i = 0; list && i < b->n; i++) {
        const admin_event *e = &b->list[i];
        json_object *o = json_object_new_object();
        bool ok = o && add(o, "timestamp", json_object_new_int64((int64_t)e->timestamp)) &&
                  add(o, "type", json_object_new_string(e->type)) &&
                  (!e->sub_type || add(o, "subType", json_object_new_string(e->sub_type))) &&
                  add(o, "count", json_object_new_int64((int64_t)e->count)) &&
                  json_object_array_add(list, o) == 0;
        if (!ok) {
            json_object_put(o);
            json_object_put(list);
            list = NULL;
        }
    }
    admin_events_clear(b);
    return list;
}

void admin_events_clear(admin_events *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->list[i].sub_type);
    b->n = 0;
}

void admin_events_free(admin_events *b)
{
    admin_events_clear(b);
    free(b->list);
    *b = (admin_events){0};
}
