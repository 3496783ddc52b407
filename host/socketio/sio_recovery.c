/*
 * sio_recovery.c - connection state recovery in the Socket.IO layer (see
 * sio_recovery.h).  The packet is encoded once, with its offset, and the
 * same reference-counted messages go to the recipients and into the log;
 * a replay queues those messages again.
 */
#include "sio_recovery.h"

#include "base/log.h"
#include "base/out.h"
#include "config/config.h"
#include "engineio/eio_session.h"
#include "rooms.h"

#include <stdlib.h>
#include <string.h>

static csr_store *store;
static timer trim_timer;

static const config_server_options *opts(void) { return eio_options(); }

bool sio_recovery_on(void) { return opts() && opts()->csr.enabled; }

bool sio_recovery_skip_middlewares(void) { return opts() && opts()->csr.skip_middlewares; }

/* Logs age out even in a namespace that logs nothing more, and one that
 * is gone (a dynamic namespace) leaves nothing behind: csr_trim, every
 * quarter of maxDisconnectionDuration (at least every second). */
static void trim_logs(timer *t)
{
    uint64_t max = opts() ? opts()->csr.max_disconnection : 0;
    if (store)
        csr_trim(store, timer_now(), max);
    timer_start(t, max / 4 > 1000 ? max / 4 : 1000, trim_logs);
}

static csr_store *store_get(void)
{
    if (!store && (store = csr_store_new()) != NULL)
        timer_start(&trim_timer, 1000, trim_logs);
    return store;
}

/* socket.io's RECOVERABLE_DISCONNECT_REASONS. */
static bool recoverable(const char *reason)
{
    static const char *const reasons[] = {
        "transport error", "transport close",      "forced close",
        "ping timeout",    "server shutting down", "forced server close",
    };
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++)
        if (strcmp(reason, reasons[i]) == 0)
            return true;
    return false;
}

static void release_encoded(void *payload)
{
    sio_encoded_free(payload);
    free(payload);
}

int sio_recovery_emit(pio_socket **list, size_t n, const char *nsp, const char *const *rooms,
                      size_t n_rooms, const char *const *except, size_t n_except,
                      const char *except_id, const char *event, const pio_out *out, size_t *sent)
{
    *sent = 0;
    csr_store *st = store_get();
    sio_encoded *e = st ? malloc(sizeof *e) : NULL;
    if (!e)
        return PIO_ENOMEM;
    uint64_t offset = csr_next_offset(st);
    char text[21];
    csr_offset_format(offset, text);
    int rc = sio_encode_with_offset(e, nsp, event, out, text);
    if (rc != PIO_OK) {
        free(e);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (!list[i]->client)
            continue;
        if (list[i]->csr)
            list[i]->csr->last_offset = offset; /* first: a send can close it */
        if (sio_encoded_send(e, list[i]->client) == PIO_OK)
            (*sent)++;
    }
    /* The log keeps the form of the server's parser: the one a client that
     * comes back connects with (after a reload that changed it, the
     * packets of the other form cannot be replayed: see restore). */
    if (sio_encoded_seal(e, opts()->parser) != PIO_OK) {
        log_warn("connection state recovery: out of memory, packet %s not logged", text);
        release_encoded(e);
        return PIO_OK;
    }
    if (!csr_log(st, nsp, offset, timer_now(), opts()->csr.max_disconnection, rooms, n_rooms,
                 except, n_except, except_id, e, sio_encoded_bytes(e), release_encoded))
        log_warn("connection state recovery: out of memory, packet %s not logged", text);
    return PIO_OK;
}

static const char *auth_string(const pio_socket *s, const char *key)
{
    json_object *v;
    if (!s->auth || !json_object_is_type(s->auth, json_type_object) ||
        !json_object_object_get_ex(s->auth, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool adopt(pio_socket *s, const csr_session *session)
{
    if (room_id_socket(s->ns, session->sid))
        return false; /* that id is connected again (cannot happen: it closed) */
    memcpy(s->id_buf, session->sid, sizeof s->id_buf); /* a v4 socket: id is id_buf */
    memcpy(s->csr->pid, session->pid, sizeof s->csr->pid);
    for (size_t i = 0; i < session->n_rooms; i++)
        if (strcmp(session->rooms[i], session->sid) != 0 &&
            room_join(s, session->rooms[i]) != PIO_OK)
            return false;
    s->data = session->data ? json_object_get(session->data) : NULL;
    s->csr->last_offset = session->last_offset;
    s->recovered = true;
    return true;
}

/* Every missed packet can go to the client in its wire format. */
static bool replayable(const csr_restored *r, unsigned parser)
{
    for (size_t i = 0; i < r->n_missed; i++)
        if (!sio_encoded_has(r->missed[i]->payload, parser))
            return false;
    return true;
}

bool sio_recovery_restore(pio_socket *s, unsigned parser, csr_restored *r)
{
    *r = (csr_restored){0};
    /* A v2 client (Engine.IO 3) is never told a pid (its CONNECT reply has
     * no payload) and its ids are its session's: it is not recovered. */
    if (!sio_recovery_on() || eio_session_protocol(s->session) == 3 ||
        !(s->csr = calloc(1, sizeof *s->csr)))
        return false;
    const char *pid = auth_string(s, "pid"), *offset = auth_string(s, "offset");
    if (pid && offset && store) {
        int rc = csr_restore(store, s->ns->name, pid, offset, timer_now(), r);
        if (rc == CSR_OK && !replayable(r, parser)) {
            csr_restored_free(r);
            rc = CSR_EGAP; /* logged in another wire format: the parser changed */
        }
        if (rc == CSR_OK && adopt(s, r->session))
            return true;
        if (rc == CSR_OK) { /* adopt failed part of the way: a fresh socket */
            room_leave_all(s);
            /* A new id; without random bytes the restored one stays (its
             * socket is gone), never a guessable one. */
            char fresh[CSR_ID_LEN];
            if (eio_random_chars(fresh, CSR_ID_LEN))
                memcpy(s->id_buf, fresh, CSR_ID_LEN);
            csr_restored_free(r);
        }
        log_debug("connection state recovery: session not restored (%d)", rc);
    }
    if (!eio_random_chars(s->csr->pid, CSR_ID_LEN)) {
        /* No unguessable private id: this socket goes without recovery. */
        log_error("connection state recovery: no random bytes for a private id; "
                  "socket %s is not recoverable", s->id);
        free(s->csr);
        s->csr = NULL;
        return false;
    }
    s->csr->pid[CSR_ID_LEN] = '\0';
    return false;
}

void sio_recovery_replay(pio_socket *s, csr_restored *r)
{
    for (size_t i = 0; i < r->n_missed && s->client; i++) {
        s->csr->last_offset = r->missed[i]->offset; /* restored: it has csr */
        sio_encoded_send(r->missed[i]->payload, s->client);
    }
    csr_restored_free(r);
}

void sio_recovery_persist(pio_socket *s, const char *reason)
{
    if (!s->csr || !sio_recovery_on() || !recoverable(reason) || !store_get())
        return;
    const char **rooms = s->n_memb ? calloc(s->n_memb, sizeof *rooms) : NULL;
    if (s->n_memb && !rooms) {
        log_warn("connection state recovery: out of memory, session %s not kept", s->id);
        return;
    }
    for (size_t i = 0; i < s->n_memb; i++)
        rooms[i] = s->memb[i].r->name;
    if (!csr_save(store, s->ns->name, s->csr->pid, s->id, rooms, s->n_memb, s->data, s->csr->last_offset,
                  timer_now(), opts()->csr.max_disconnection))
        log_warn("connection state recovery: out of memory, session %s not kept", s->id);
    free(rooms);
}

int sio_socket_recovered(const pio_socket *s) { return s && s->recovered; }

void sio_recovery_shutdown(void)
{
    timer_stop(&trim_timer);
    csr_store_free(store);
    store = NULL;
}
