/*
 * sio_socket.c - Socket.IO sockets (see sio_socket.h and sio_client.h).
 *
 * A socket is reference counted: its client holds one while it is
 * connected, and dispatch holds one around a handler call, so a handler
 * may disconnect its own socket.  Each ack the server awaits holds a
 * reference on the plugin context that registered it, so that plugin
 * version stays mapped until the callback has run - with the answer,
 * PIO_ETIMEDOUT, or PIO_ECLOSED when the socket goes first.
 */
#include "sio_socket.h"

#include "eio_session.h"
#include "log.h"
#include "out.h"
#include "sio_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *const reserved_events[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

static void make_id(char id[21])
{
    unsigned char rnd[20];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)rand();
    for (int i = 0; i < 20; i++)
        id[i] = b64url[rnd[i] & 63];
    id[20] = '\0';
}

pio_socket *sio_socket_create(sio_client *c, const char *nsp, json_object *auth)
{
    pio_socket *s = calloc(1, sizeof *s);
    pio_socket **list = realloc(c->sockets, (c->n_sockets + 1) * sizeof *list);
    if (list)
        c->sockets = list;
    if (!s || !list || !(s->nsp = strdup(nsp))) {
        free(s);
        json_object_put(auth);
        return NULL;
    }
    /* socket.io gives handlers an empty object when the client sent no auth. */
    s->auth = auth ? auth : json_object_new_object();
    s->refs = 1;
    s->client = c;
    s->session = c->session;
    eio_session_ref(s->session);
    make_id(s->id);
    c->sockets[c->n_sockets++] = s;
    return s;
}

void sio_socket_unref(pio_socket *s)
{
    if (!s || --s->refs > 0)
        return;
    eio_session_unref(s->session);
    json_object_put(s->auth);
    free(s->nsp);
    free(s);
}

/* ---- accessors --------------------------------------------------------- */

const char *sio_socket_id(const pio_socket *s) { return s ? s->id : NULL; }
const char *sio_socket_namespace(const pio_socket *s) { return s ? s->nsp : NULL; }
const pio_value *sio_socket_auth(const pio_socket *s) { return s ? value_wrap(s->auth) : NULL; }

const pio_value *sio_socket_query(const pio_socket *s)
{
    return s ? value_wrap(s->session->query) : NULL;
}

const char *sio_socket_header(const pio_socket *s, const char *name)
{
    if (!s || !name || !s->session->headers)
        return NULL;
    json_object_object_foreach(s->session->headers, key, val)
    {
        if (strcasecmp(key, name) == 0)
            return json_object_get_string(val);
    }
    return NULL;
}

const char *sio_socket_address(const pio_socket *s) { return s ? s->session->address : NULL; }

const char *sio_socket_transport(const pio_socket *s)
{
    if (!s)
        return NULL;
    return s->session->transport == EIO_WEBSOCKET ? "websocket" : "polling";
}

/* ---- sending ----------------------------------------------------------- */

int sio_send(sio_client *c, sio_type type, const char *nsp, int64_t id, const char *event,
             pio_out *out)
{
    int rc = PIO_OK;
    buf b = BUF_INIT;
    if (out && !out_is_complete(out)) {
        rc = PIO_EINVAL;
        goto done;
    }
    if (c->closed) {
        rc = PIO_ECLOSED;
        goto done;
    }
    size_t n_bins = out ? out->n_bins : 0;
    if (n_bins)
        type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
    sio_encode_header(&b, type, nsp, id, n_bins);
    buf_append_char(&b, '[');
    if (event && !out_write_json_string(&b, event, strlen(event))) {
        rc = PIO_EINVAL;
        goto done;
    }
    if (out && out->count) {
        if (event)
            buf_append_char(&b, ',');
        buf_append(&b, out->text.data, out->text.len);
    }
    buf_append_char(&b, ']');
    if (b.failed) {
        rc = PIO_ENOMEM;
        goto done;
    }
    eio_session_send(c->session, EIO_MESSAGE, b.data, b.len);
    for (size_t i = 0; i < n_bins; i++) {
        eio_msg *m = eio_msg_new(true, out->bins[i]->len);
        if (!m) {
            eio_session_close(c->session, "transport error");
            rc = PIO_ENOMEM;
            goto done;
        }
        memcpy(m->data, out->bins[i]->data, out->bins[i]->len);
        eio_session_send_msg(c->session, m);
        eio_msg_unref(m);
    }
done:
    buf_free(&b);
    out_free(out);
    return rc;
}

static bool event_name_ok(const char *event)
{
    if (!event)
        return false;
    for (size_t i = 0; i < sizeof reserved_events / sizeof *reserved_events; i++)
        if (strcmp(event, reserved_events[i]) == 0)
            return false;
    return true;
}

int sio_socket_emit(pio_socket *s, const char *event, pio_out *out)
{
    if (!s || !event_name_ok(event)) {
        out_free(out);
        return PIO_EINVAL;
    }
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    return sio_send(s->client, SIO_EVENT, s->nsp, -1, event, out);
}

/* ---- acks the server awaits -------------------------------------------- */

static void unlink_ack(pio_socket *s, pending_ack *a)
{
    for (pending_ack **pp = &s->acks; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            return;
        }
    }
}

/* Run the callback once and forget the registration. */
static void complete_ack(pending_ack *a, pio_socket *s, int status, json_object *reply)
{
    unlink_ack(a->socket, a);
    timer_stop(&a->timeout);
    pio_args args = {.list = reply, .first = 0};
    pio_ctx *previous = ctx_enter(a->ctx);
    a->cb(a->ctx, s, status, &args, a->userdata);
    ctx_leave(previous);
    ctx_unref(a->ctx);
    free(a);
}

static void ack_overdue(timer *t)
{
    pending_ack *a = (pending_ack *)((char *)t - offsetof(pending_ack, timeout));
    pio_socket *s = a->socket;
    s->refs++;
    complete_ack(a, s->client ? s : NULL, PIO_ETIMEDOUT, NULL);
    sio_socket_unref(s);
}

int sio_socket_emit_with_ack(pio_socket *s, const char *event, pio_out *out, uint32_t timeout_ms,
                             pio_ack_fn cb, void *userdata)
{
    if (!s || !cb || !event_name_ok(event)) {
        out_free(out);
        return PIO_EINVAL;
    }
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    pio_ctx *caller = ctx_running();
    if (!caller) {
        out_free(out);
        return PIO_ESTATE;
    }
    pending_ack *a = calloc(1, sizeof *a);
    if (!a) {
        out_free(out);
        return PIO_ENOMEM;
    }
    a->id = s->next_ack_id++;
    int rc = sio_send(s->client, SIO_EVENT, s->nsp, a->id, event, out);
    if (rc != PIO_OK) {
        free(a);
        return rc;
    }
    a->ctx = ctx_ref(caller);
    a->cb = cb;
    a->userdata = userdata;
    a->socket = s;
    a->next = s->acks;
    s->acks = a;
    if (timeout_ms)
        timer_start(&a->timeout, timeout_ms, ack_overdue);
    return PIO_OK;
}

void sio_socket_ack_received(pio_socket *s, sio_packet *p)
{
    for (pending_ack *a = s->acks; a; a = a->next) {
        if (a->id == p->id) {
            complete_ack(a, s, PIO_OK, p->data);
            return;
        }
    }
}

/* ---- disconnecting ----------------------------------------------------- */

void sio_socket_closed(pio_socket *s, const char *reason)
{
    sio_client *c = s->client;
    if (!c)
        return;
    for (size_t i = 0; i < c->n_sockets; i++) {
        if (c->sockets[i] == s) {
            c->sockets[i] = c->sockets[--c->n_sockets];
            break;
        }
    }
    s->client = NULL;
    while (s->acks)
        complete_ack(s->acks, NULL, PIO_ECLOSED, NULL);
    json_object *why = json_object_new_array();
    if (why)
        json_object_array_add(why, json_object_new_string(reason));
    pio_args args = {.list = why, .first = 0};
    sio_dispatch(s, "disconnect", &args);
    json_object_put(why);
    sio_socket_unref(s); /* the client's reference */
}

static void send_disconnect(pio_socket *s)
{
    buf b = BUF_INIT;
    sio_encode_header(&b, SIO_DISCONNECT, s->nsp, -1, 0);
    if (!b.failed)
        eio_session_send(s->session, EIO_MESSAGE, b.data, b.len);
    buf_free(&b);
}

int sio_socket_disconnect(pio_socket *s, int close)
{
    if (!s)
        return PIO_EINVAL;
    sio_client *c = s->client;
    if (!c)
        return PIO_ECLOSED;
    if (!close) {
        send_disconnect(s);
        sio_socket_closed(s, "server namespace disconnect");
        return PIO_OK;
    }
    while (c->n_sockets) {
        pio_socket *each = c->sockets[c->n_sockets - 1];
        send_disconnect(each);
        sio_socket_closed(each, "server namespace disconnect");
    }
    eio_session_close(s->session, "forced close");
    return PIO_OK;
}
