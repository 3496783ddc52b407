/*
 * sio_client.c - the Socket.IO layer of one Engine.IO session (see
 * sio_client.h): it decodes what the client sends, connects it to
 * namespaces, and dispatches events to the handlers of the current
 * binding, in the order they arrive.
 *
 * A malformed packet closes the session ("parse error"), and so does a
 * packet that makes no sense in the client's state, as with socket.io;
 * nothing else is affected.  The wire format is the parser the server
 * had when the client connected (serverOptions.parser): with msgpack a
 * text message is malformed, as socket.io-msgpack-parser cannot decode a
 * JSON client's packets either.
 */
#include "sio_client.h"

#include "config.h"
#include "eio_session.h"
#include "log.h"
#include "out.h"

#include <stdlib.h>
#include <string.h>

static binding *current;

void sio_set_binding(binding *b) { current = b; }
binding *sio_binding(void) { return current; }

static void connect_overdue(timer *t)
{
    sio_client *c = (sio_client *)((char *)t - offsetof(sio_client, connect_timer));
    if (c->n_sockets == 0)
        eio_session_close(c->session, "forced close");
}

sio_client *sio_client_create(eio_session *s)
{
    sio_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->session = s;
    c->parser = eio_options()->parser;
    timer_start(&c->connect_timer, eio_options()->connect_timeout, connect_overdue);
    return c;
}

void sio_client_free(sio_client *c)
{
    if (!c)
        return;
    timer_stop(&c->connect_timer);
    sio_decoder_reset(&c->decoder);
    free(c->sockets);
    free(c);
}

static pio_socket *find_socket(sio_client *c, const char *nsp)
{
    for (size_t i = 0; i < c->n_sockets; i++)
        if (strcmp(c->sockets[i]->nsp, nsp) == 0)
            return c->sockets[i];
    return NULL;
}

void sio_client_closed(sio_client *c, const char *reason)
{
    c->closed = true;
    timer_stop(&c->connect_timer);
    while (c->n_sockets)
        sio_socket_closed(c->sockets[c->n_sockets - 1], reason);
}

void sio_dispatch(pio_socket *s, const char *event, pio_args *args)
{
    const bound_event *ev = current ? binding_find(current, s->nsp, event) : NULL;
    if (!ev)
        return;
    pio_ctx *previous = ctx_enter(ev->ctx);
    int rc = ev->fn(ev->ctx, s, args);
    ctx_leave(previous);
    if (rc != PIO_OK)
        log_msg(PIO_LOG_WARN, ev->ctx->name, "handler %s for '%s' returned %d (%s)",
                ev->cfg->handler.symbol, event, rc, host_api.strerror(rc));
}

/* A CONNECT or CONNECT_ERROR whose payload is {key: value}. */
static void send_object(sio_client *c, sio_type type, const char *nsp, const char *key,
                        const char *value)
{
    json_object *o = json_object_new_object();
    json_object *v = json_object_new_string(value);
    if (o && v && json_object_object_add(o, key, v) == 0)
        sio_send_value(c, type, nsp, o);
    else
        json_object_put(v);
    json_object_put(o);
}

static void send_connect_error(sio_client *c, const char *nsp, const char *message)
{
    if (!utf8_valid(message, strlen(message)))
        message = "Invalid message";
    send_object(c, SIO_CONNECT_ERROR, nsp, "message", message);
}

/* Run the namespace's middleware in order. Returns NULL when every one
 * accepts, else the refusal (copied into why). */
static const char *run_middleware(pio_socket *s, char *why, size_t len)
{
    for (size_t i = 0; current && i < current->n_middleware; i++) {
        const bound_middleware *m = &current->middleware[i];
        if (strcmp(m->cfg->nsp, s->nsp) != 0)
            continue;
        pio_ctx *previous = ctx_enter(m->ctx);
        const char *refusal = m->fn(m->ctx, s);
        ctx_leave(previous);
        if (refusal) {
            snprintf(why, len, "%s", refusal);
            return why;
        }
    }
    return NULL;
}

static void on_connect(sio_client *c, sio_packet *p)
{
    if (!current || !binding_has_namespace(current, p->nsp)) {
        send_connect_error(c, p->nsp, "Invalid namespace");
        return;
    }
    pio_socket *s = sio_socket_new(c, p->nsp, p->has_data ? json_object_get(p->data) : NULL);
    if (!s) {
        eio_session_close(c->session, "transport error");
        return;
    }
    char why[512];
    const char *refusal = run_middleware(s, why, sizeof why);
    if (refusal) {
        send_connect_error(c, p->nsp, refusal);
        sio_socket_unref(s); /* leaves what middleware joined */
        return;
    }
    if (c->closed || !sio_socket_accept(c, s)) {
        if (!c->closed)
            eio_session_close(c->session, "transport error");
        sio_socket_unref(s);
        return;
    }
    timer_stop(&c->connect_timer);
    send_object(c, SIO_CONNECT, p->nsp, "sid", s->id);
    pio_args none = {0};
    s->refs++; /* the handler may disconnect it */
    sio_dispatch(s, "connection", &none);
    sio_socket_unref(s);
}

static int send_ack(pio_args *a, pio_out *out)
{
    pio_socket *s = a->owner;
    int64_t id = a->ack_id;
    if (!s->client) {
        out_free(out);
        return PIO_ECLOSED;
    }
    return sio_send(s->client, SIO_ACK, s->nsp, id, NULL, out);
}

static void on_event(pio_socket *s, sio_packet *p)
{
    json_object *name = json_object_array_get_idx(p->data, 0);
    const char *event = json_object_get_string(name); /* numbers read as text */
    pio_args args = {
        .list = p->data,
        .first = 1,
        .wants_ack = p->id >= 0,
        .send_ack = p->id >= 0 ? send_ack : NULL,
        .owner = s,
        .ack_id = p->id,
    };
    sio_dispatch(s, event, &args);
}

/* As socket.io's Client.ondecoded: CONNECT joins a namespace not joined
 * yet; every other packet needs a joined namespace; anything else - a
 * second CONNECT, a packet for a namespace not joined, CONNECT_ERROR from
 * a client - is an invalid state that closes the connection. */
static void on_packet(sio_client *c, sio_packet *p)
{
    pio_socket *s = find_socket(c, p->nsp);
    if (!s && p->type == SIO_CONNECT) {
        on_connect(c, p);
        return;
    }
    if (!s || p->type == SIO_CONNECT || p->type == SIO_CONNECT_ERROR) {
        log_debug("session %s: invalid state (packet type %d for %s)", c->session->sid, p->type,
                  p->nsp);
        eio_session_close(c->session, "forced close");
        return;
    }
    s->refs++; /* a handler may disconnect it */
    switch (p->type) {
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        on_event(s, p);
        break;
    case SIO_ACK:
    case SIO_BINARY_ACK:
        sio_socket_ack_received(s, p);
        break;
    case SIO_DISCONNECT:
        sio_socket_closed(s, "client namespace disconnect");
        break;
    default:
        break;
    }
    sio_socket_unref(s);
}

bool sio_client_receive(sio_client *c, const void *data, size_t len, bool binary)
{
    if (c->closed)
        return false;
    sio_packet p;
    int rc;
    if (c->parser == CONFIG_PARSER_MSGPACK) /* every packet is one binary message */
        rc = binary ? sio_decode_msgpack(data, len, &p) : SIO_EBADMSGPACK;
    else if (binary)
        rc = sio_decoder_binary(&c->decoder, data, len, &p);
    else
        rc = sio_decoder_text(&c->decoder, data, len, &p);
    if (rc == SIO_NEED_BINARY)
        return true;
    if (rc < 0) {
        log_debug("session %s: invalid packet: %s", c->session->sid, sio_strerror(rc));
        eio_session_close(c->session, "parse error");
        return false;
    }
    eio_session *session = c->session;
    eio_session_ref(session); /* handlers may close it */
    on_packet(c, &p);
    sio_packet_free(&p);
    bool open = !session->closed;
    eio_session_unref(session);
    return open;
}
