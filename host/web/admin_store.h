/*
 * admin_store.h - the Admin UI's bookkeeping that needs no server (and is
 * tested alone): the logins' session ids, the back-off of addresses whose
 * logins failed, and the aggregated events that server_stats carries.
 */
#ifndef PIO_ADMIN_STORE_H
#define PIO_ADMIN_STORE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sessions: @socket.io/admin-ui's InMemoryStore, bounded ----------- */

#define ADMIN_SESSION_ID_LEN 16 /* 8 random bytes in hex, as randomId() */

typedef struct admin_session {
    char id[ADMIN_SESSION_ID_LEN + 1];
    uint64_t expires;         /* ms, the caller's clock */
} admin_session;

typedef struct admin_sessions {
    admin_session *list;      /* owned */
    size_t n, max;
    uint64_t ttl;             /* ms a session stays valid */
} admin_sessions;

/* At most `max` sessions, each valid `ttl` ms from its creation. */
void admin_sessions_init(admin_sessions *s, size_t max, uint64_t ttl);
void admin_sessions_free(admin_sessions *s);
/* A new session at `now`: a fresh random id into out (17 bytes).  When
 * full, expired sessions go first, else the oldest.  False when out of
 * memory or the kernel gave no random bytes. */
bool admin_sessions_new(admin_sessions *s, uint64_t now, char *out);
/* The id names a session not expired at `now` (the expired are dropped). */
bool admin_sessions_valid(admin_sessions *s, const char *id, uint64_t now);

/* ---- failed logins: a back-off per address ----------------------------- */

#define ADMIN_ADDRESS_LEN 46  /* an IPv6 address as text, with its NUL */

typedef struct admin_backoff {
    char address[ADMIN_ADDRESS_LEN];
    unsigned failures;        /* in a row */
    uint64_t until;           /* ms: its logins are refused before this */
} admin_backoff;

typedef struct admin_throttle {
    admin_backoff *list;      /* owned */
    size_t n, max;
    uint64_t first, longest;  /* ms: the first back-off, and its cap */
} admin_throttle;

/* At most `max` addresses; after a failure an address waits `first` ms,
 * twice as long after each further one, at most `longest`.  An address
 * is forgotten once it has kept quiet for `longest` past its back-off. */
void admin_throttle_init(admin_throttle *t, size_t max, uint64_t first, uint64_t longest);
void admin_throttle_free(admin_throttle *t);
/* The ms `address` must still wait at `now` before its next login is
 * checked (0: it may try). */
uint64_t admin_throttle_wait(admin_throttle *t, const char *address, uint64_t now);
/* A login from `address` failed at `now`: its back-off starts or doubles.
 * When full, the forgotten go first, else the entry whose back-off ends
 * soonest; out of memory records nothing. */
void admin_throttle_failed(admin_throttle *t, const char *address, uint64_t now);
/* A login from `address` succeeded: it is forgotten. */
void admin_throttle_passed(admin_throttle *t, const char *address);

/* ---- aggregated events: admin-ui's EventBuffer ------------------------ */

typedef struct admin_event {
    uint64_t timestamp;       /* ms since the epoch, rounded down to the second */
    const char *type;         /* static: "rawConnection", "packetsIn", ... */
    char *sub_type;           /* owned, or NULL */
    uint64_t count;
} admin_event;

typedef struct admin_events {
    admin_event *list;        /* owned */
    size_t n, cap;
} admin_events;

/* Add count to (the second of now_ms, type, sub_type).  Out of memory
 * loses the count. */
void admin_events_push(admin_events *b, uint64_t now_ms, const char *type, const char *sub_type,
                       uint64_t count);
/* The entries as server_stats' aggregatedEvents ([{timestamp, type,
 * subType, count}], subType left out when NULL), and the buffer emptied.
 * NULL when out of memory (the buffer is emptied all the same). */
json_object *admin_events_take(admin_events *b);
/* The buffer emptied, nothing built (no admin socket to tell). */
void admin_events_clear(admin_events *b);
void admin_events_free(admin_events *b);

#endif
