/*
 * csr_store.c - connection state recovery's sessions and packet log (see
 * csr_store.h).
 *
 * The log of a namespace is a ring of packet pointers, allocated at its
 * first packet with room for CSR_LOG_MAX_PACKETS; offsets in it increase,
 * so the packets after an offset are a suffix.  `dropped` remembers the
 * newest offset the log has let go, which is all it takes to know
 * whether a suffix is complete.  The ring's slots exist only while it
 * holds packets, and a namespace's entry (with `dropped`) only while it
 * holds packets or a kept session of the namespace may need `dropped`:
 * namespaces that come and go (dynamic ones) leave nothing behind (but
 * their newest `dropped`, one number for them all, which errs towards a
 * fresh session rather than an incomplete replay).  All
 * logs together hold at most CSR_LOG_MAX_TOTAL_BYTES; a packet past it is
 * not kept, and counts as dropped.
 *
 * Sessions are one map by private id (ids are random and 20 characters,
 * so namespaces cannot collide; each session names its namespace).
 */
#include "csr_store.h"

#include "base/array.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct csr_log_ring {
    char *nsp;                /* owned; the map key */
    csr_packet **ring;        /* CSR_LOG_MAX_PACKETS slots, or NULL */
    size_t head, len;
    size_t bytes;
    uint64_t dropped;         /* the newest offset let go, or 0 */
    size_t n_sessions;        /* kept sessions of this namespace */
} csr_log_ring;

struct csr_store {
    strmap logs;              /* nsp -> csr_log_ring */
    strmap sessions;          /* pid -> csr_session */
    uint64_t last_offset;
    size_t bytes;             /* in every log */
    uint64_t released_dropped; /* the newest `dropped` of entries released:
                                  every namespace's floor from then on */
};

/* ---- names ------------------------------------------------------------- */

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Copies names[0..n) and, when `extra` is not NULL and not among them,
 * extra.  NULL (with *out_n 0) when there is nothing to copy or memory ran
 * out (then *oom). */
static char **copy_names(const char *const *names, size_t n, const char *extra, size_t *out_n,
                         bool *oom)
{
    *out_n = 0;
    for (size_t i = 0; extra && i < n; i++)
        if (names[i] && strcmp(names[i], extra) == 0)
            extra = NULL;
    size_t total = n + (extra ? 1 : 0);
    if (total == 0)
        return NULL;
    char **copy = calloc(total, sizeof *copy);
    if (!copy) {
        *oom = true;
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        if (!(copy[k++] = strdup(names[i])))
            goto oom;
    }
    if (extra && !(copy[k++] = strdup(extra)))
        goto oom;
    *out_n = k;
    return copy;
oom:
    free_names(copy, k);
    *oom = true;
    return NULL;
}

static bool has_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* ---- offsets ------------------------------------------------------------ */

uint64_t csr_next_offset(csr_store *st) { return ++st->last_offset; }

void csr_offset_format(uint64_t offset, char buf[21])
{
    snprintf(buf, 21, "%" PRIu64, offset);
}

uint64_t csr_offset_parse(const char *s)
{
    if (!s || !*s || strlen(s) > 20 || (s[0] == '0'))
        return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

/* ---- packets and the log ---------------------------------------------- */

void csr_packet_unref(csr_packet *p)
{
    if (!p || --p->refs > 0)
        return;
    if (p->release)
        p->release(p->payload);
    free_names(p->rooms, p->n_rooms);
    free_names(p->except, p->n_except);
    free(p);
}

static csr_log_ring *log_get(csr_store *st, const char *nsp, bool create)
{
    csr_log_ring *l = strmap_get(&st->logs, nsp);
    if (l || !create)
        return l;
    if (!(l = calloc(1, sizeof *l)) || !(l->nsp = strdup(nsp)) ||
        !strmap_put(&st->logs, l->nsp, l)) {
        if (l)
            free(l->nsp);
        free(l);
        return NULL;
    }
    return l;
}

/* Its slots go with its last packet; the entry with its last session. */
static void log_release(csr_store *st, csr_log_ring *l)
{
    if (l->len)
        return;
    free(l->ring);
    l->ring = NULL;
    l->head = 0;
    if (l->n_sessions)
        return;
    if (l->dropped > st->released_dropped)
        st->released_dropped = l->dropped;
    strmap_del(&st->logs, l->nsp);
    free(l->nsp);
    free(l);
}

static csr_packet *log_at(const csr_log_ring *l, size_t i)
{
    return l->ring[(l->head + i) % CSR_LOG_MAX_PACKETS];
}

static void log_drop_oldest(csr_store *st, csr_log_ring *l)
{
    csr_packet *p = log_at(l, 0);
    l->ring[l->head] = NULL;
    l->head = (l->head + 1) % CSR_LOG_MAX_PACKETS;
    l->len--;
    l->bytes -= p->bytes;
    st->bytes -= p->bytes;
    l->dropped = p->offset;
    csr_packet_unref(p);
}

static void log_trim(csr_store *st, csr_log_ring *l, uint64_t now, uint64_t max_age_ms)
{
    while (l->len && (l->len > CSR_LOG_MAX_PACKETS || l->bytes > CSR_LOG_MAX_BYTES ||
                      log_at(l, 0)->at + max_age_ms < now))
        log_drop_oldest(st, l);
}

bool csr_log(csr_store *st, const char *nsp, uint64_t offset, uint64_t now, uint64_t max_age_ms,
             const char *const *rooms, size_t n_rooms, const char *const *except, size_t n_except,
             const char *except_id, void *payload, size_t bytes, void (*release)(void *))
{
    csr_log_ring *l = log_get(st, nsp, true);
    if (l && !l->ring && !(l->ring = calloc(CSR_LOG_MAX_PACKETS, sizeof *l->ring)))
        l = NULL;
    csr_packet *p = l ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        if (l)
            log_release(st, l);
        if (release)
            release(payload);
        return false;
    }
    *p = (csr_packet){.refs = 1, .offset = offset, .at = now, .bytes = bytes,
                      .payload = payload, .release = release};
    bool oom = false;
    p->rooms = copy_names(rooms, n_rooms, NULL, &p->n_rooms, &oom);
    p->except = copy_names(except, n_except, except_id, &p->n_except, &oom);
    if (oom) {
        csr_packet_unref(p);
        log_release(st, l);
        return false;
    }
    /* The store-wide bound: this log's oldest make room first; what still
     * does not fit is not kept (a session that missed it starts afresh). */
    while (l->len && st->bytes + bytes > CSR_LOG_MAX_TOTAL_BYTES)
        log_drop_oldest(st, l);
    if (st->bytes + bytes > CSR_LOG_MAX_TOTAL_BYTES) {
        l->dropped = offset;
        csr_packet_unref(p);
        log_release(st, l);
        return true;
    }
    if (l->len == CSR_LOG_MAX_PACKETS)
        log_drop_oldest(st, l);
    l->ring[(l->head + l->len) % CSR_LOG_MAX_PACKETS] = p;
    l->len++;
    l->bytes += bytes;
    st->bytes += bytes;
    log_trim(st, l, now, max_age_ms);
    log_release(st, l);
    return true;
}

void csr_trim(csr_store *st, uint64_t now, uint64_t max_age_ms)
{
    /* Released after the walk: releasing deletes from the map. */
    size_t i = 0, n = 0, cap = 0;
    csr_log_ring **idle = NULL;
    void *v;
    while (strmap_next(&st->logs, &i, NULL, &v)) {
        csr_log_ring *l = v;
        log_trim(st, l, now, max_age_ms);
        if (l->len)
            continue;
        if (!ARRAY_RESERVE(idle, n + 1, cap, 16))
            break;
        idle[n++] = l;
    }
    for (size_t k = 0; k < n; k++)
        log_release(st, idle[k]);
    free(idle);
}

size_t csr_bytes(const csr_store *st) { return st->bytes; }

size_t csr_namespaces(const csr_store *st) { return st->logs.count; }

size_t csr_logged(const csr_store *st, const char *nsp)
{
    const csr_log_ring *l = strmap_get(&st->logs, nsp);
    return l ? l->len : 0;
}

/* socket.io-adapter's shouldIncludePacket: addressed to one of the
 * session's rooms (or to everyone), and none of them excluded. */
static bool addressed(const csr_session *s, const csr_packet *p)
{
    bool included = p->n_rooms == 0;
    for (size_t i = 0; i < s->n_rooms; i++) {
        if (has_name(p->except, p->n_except, s->rooms[i]))
            return false;
        if (!included && has_name(p->rooms, p->n_rooms, s->rooms[i]))
            included = true;
    }
    return included;
}

/* ---- sessions ----------------------------------------------------------- */

static void session_free(csr_session *s)
{
    if (!s)
        return;
    timer_stop(&s->expiry);
    free_names(s->rooms, s->n_rooms);
    json_object_put(s->data);
    free(s->nsp);
    free(s);
}

/* Out of the store (its timer stopped); the caller owns it.  Its
 * namespace's log entry is released by the caller, once it no longer
 * needs `dropped`. */
static csr_session *session_take(csr_store *st, csr_session *s)
{
    strmap_del(&st->sessions, s->pid);
    timer_stop(&s->expiry);
    s->store = NULL;
    csr_log_ring *l = strmap_get(&st->logs, s->nsp);
    if (l && l->n_sessions)
        l->n_sessions--;
    return s;
}

static void release_log_of(csr_store *st, const char *nsp)
{
    csr_log_ring *l = strmap_get(&st->logs, nsp);
    if (l)
        log_release(st, l);
}

static void session_expired(timer *t)
{
    csr_session *s = (csr_session *)((char *)t - offsetof(csr_session, expiry));
    csr_store *st = s->store;
    session_take(st, s);
    release_log_of(st, s->nsp);
    session_free(s);
}

bool csr_save(csr_store *st, const char *nsp, const char *pid, const char *sid,
              const char *const *rooms, size_t n_rooms, json_object *data, uint64_t last_offset,
              uint64_t now, uint64_t max_ms)
{
    if (!nsp || !pid || !sid || strlen(pid) != CSR_ID_LEN || strlen(sid) > CSR_ID_LEN)
        return false;
    csr_session *s = calloc(1, sizeof *s);
    bool oom = !s;
    if (s) {
        memcpy(s->pid, pid, CSR_ID_LEN + 1);
        memcpy(s->sid, sid, strlen(sid) + 1);
        s->rooms = copy_names(rooms, n_rooms, sid, &s->n_rooms, &oom);
        oom = oom || !(s->nsp = strdup(nsp));
    }
    csr_session *old = oom ? NULL : strmap_get(&st->sessions, pid);
    if (old) {
        session_take(st, old);
        release_log_of(st, old->nsp);
        session_free(old);
    }
    csr_log_ring *l = oom ? NULL : log_get(st, nsp, true);
    if (!l || !strmap_put(&st->sessions, s->pid, s)) {
        if (l)
            log_release(st, l);
        session_free(s);
        return false;
    }
    l->n_sessions++;
    s->data = data ? json_object_get(data) : NULL;
    s->last_offset = last_offset;
    s->offset_at_close = st->last_offset;
    s->deadline = now + max_ms;
    s->store = st;
    timer_start(&s->expiry, max_ms, session_expired);
    return true;
}

int csr_restore(csr_store *st, const char *nsp, const char *pid, const char *offset,
                uint64_t now, csr_restored *out)
{
    *out = (csr_restored){0};
    csr_session *s = pid ? strmap_get(&st->sessions, pid) : NULL;
    if (!s || strcmp(s->nsp, nsp) != 0)
        return CSR_ENOSESSION;
    session_take(st, s);
    int rc = CSR_OK;
    uint64_t from = csr_offset_parse(offset);
    csr_log_ring *l = strmap_get(&st->logs, nsp);
    uint64_t dropped = l && l->dropped > st->released_dropped ? l->dropped : st->released_dropped;
    if (now > s->deadline)
        rc = CSR_EEXPIRED;
    else if (from == 0 || from > s->last_offset)
        rc = CSR_EOFFSET;
    /* Complete when nothing after `from` left the log - or, when the client
     * had the last packet sent to it, nothing after it closed. */
    else if (dropped > from && !(from == s->last_offset && dropped <= s->offset_at_close))
        rc = CSR_EGAP;
    size_t first = 0, n = 0;
    for (size_t i = l ? l->len : 0; rc == CSR_OK && i > 0; i--) {
        if (log_at(l, i - 1)->offset <= from)
            break;
        first = i - 1;
        n += addressed(s, log_at(l, i - 1));
    }
    if (rc == CSR_OK && n && !(out->missed = calloc(n, sizeof *out->missed)))
        rc = CSR_ENOMEM;
    for (size_t i = first; rc == CSR_OK && n && i < l->len; i++) {
        csr_packet *p = log_at(l, i);
        if (p->offset > from && addressed(s, p)) {
            p->refs++;
            out->missed[out->n_missed++] = p;
        }
    }
    if (l)
        log_release(st, l);
    if (rc != CSR_OK) {
        free(out->missed);
        *out = (csr_restored){0};
        session_free(s);
        return rc;
    }
    out->session = s;
    return CSR_OK;
}

void csr_restored_free(csr_restored *r)
{
    for (size_t i = 0; i < r->n_missed; i++)
        csr_packet_unref(r->missed[i]);
    free(r->missed);
    session_free(r->session);
    *r = (csr_restored){0};
}

size_t csr_sessions(const csr_store *st) { return st->sessions.count; }

/* ---- the store ---------------------------------------------------------- */

csr_store *csr_store_new(void) { return calloc(1, sizeof(csr_store)); }

void csr_store_free(csr_store *st)
{
    if (!st)
        return;
    size_t i = 0;
    void *v;
    while (strmap_next(&st->sessions, &i, NULL, &v))
        session_free(v);
    strmap_free(&st->sessions);
    i = 0;
    while (strmap_next(&st->logs, &i, NULL, &v)) {
        csr_log_ring *l = v;
        while (l->len)
            log_drop_oldest(st, l);
        free(l->ring);
        free(l->nsp);
        free(l);
    }
    strmap_free(&st->logs);
    free(st);
}
