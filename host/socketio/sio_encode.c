/*
 * sio_encode.c - Socket.IO packets from the server, encoded once for all
 * their recipients (see sio_encode.h): the default parser's text message
 * and binary attachments, or socket.io-msgpack-parser's one binary
 * message, each built when the first client of that parser is sent it.
 */
#include "sio_encode.h"

#include "base/log.h"
#include "base/out.h"
#include "config/config.h"
#include "rooms.h"
#include "sio_observe.h"

#include <stdlib.h>
#include <string.h>


static int64_t last_ack_id = -1;
static uint64_t last_serial;

int64_t sio_next_ack_id(void) { return ++last_ack_id; }

/* ---- encoding and sending ---------------------------------------------- */

bool sio_event_name_ok(const char *event)
{
    return event && !sio_event_reserved(event, strlen(event));
}

int sio_encode(sio_encoded *e, sio_type type, const char *nsp, int64_t id, const char *event,
               const pio_out *out)
{
    *e = (sio_encoded){.type = type, .nsp = nsp, .id = id, .event = event, .out = out,
                       .serial = ++last_serial};
    if ((out && !out_is_complete(out)) || (event && !utf8_valid(event, strlen(event))))
        return PIO_EINVAL;
    return PIO_OK;
}

int sio_encode_with_offset(sio_encoded *e, const char *nsp, const char *event, const pio_out *out,
                           const char *offset)
{
    int rc = sio_encode(e, SIO_EVENT, nsp, -1, event, out);
    if (rc == PIO_OK)
        snprintf(e->offset, sizeof e->offset, "%s", offset);
    return rc;
}

/* The JSON text of the payload array: [event, args..., offset]. */
static void payload_json(buf *b, const sio_encoded *e)
{
    bool first = true;
    buf_append_char(b, '[');
    if (e->event) {
        out_write_json_string(b, e->event, strlen(e->event));
        first = false;
    }
    if (e->out && e->out->count) {
        if (!first)
            buf_append_char(b, ',');
        buf_append(b, e->out->text.data, e->out->text.len);
        first = false;
    }
    if (e->offset[0]) {
        if (!first)
            buf_append_char(b, ',');
        out_write_json_string(b, e->offset, strlen(e->offset));
    }
    buf_append_char(b, ']');
}

/* socket.io-parser: a text packet, then one binary message per attachment. */
static int encode_default(sio_encoded *e)
{
    size_t n_bins = e->out ? e->out->n_bins : 0;
    sio_type type = e->type;
    if (n_bins)
        type = type == SIO_ACK ? SIO_BINARY_ACK : SIO_BINARY_EVENT;
    buf b = BUF_INIT;
    buf_append_char(&b, '0' + EIO_MESSAGE);
    sio_encode_header(&b, type, e->nsp, e->id, n_bins);
    payload_json(&b, e);
    if (b.failed || !(e->text = eio_msg_new(false, b.len)))
        goto fail;
    memcpy(e->text->data, b.data, b.len);
    if (n_bins && !(e->bins = calloc(n_bins, sizeof *e->bins)))
        goto fail;
    for (size_t i = 0; i < n_bins; i++, e->n_bins++) {
        if (!(e->bins[i] = eio_msg_new(true, e->out->bins[i]->len)))
            goto fail;
        memcpy(e->bins[i]->data, e->out->bins[i]->data, e->out->bins[i]->len);
    }
    buf_free(&b);
    return PIO_OK;
fail:
    buf_free(&b);
    eio_msg_unref(e->text);
    for (size_t i = 0; i < e->n_bins; i++)
        eio_msg_unref(e->bins[i]);
    free(e->bins);
    e->text = NULL, e->bins = NULL, e->n_bins = 0;
    return PIO_ENOMEM;
}

/* socket.io-msgpack-parser: one map, the attachments inline.  pio_out
 * holds JSON text, so it is parsed into a tree and written out again: the
 * price of the msgpack parser, paid once per packet however many receive it. */
static int encode_msgpack(sio_encoded *e)
{
    buf text = BUF_INIT, b = BUF_INIT;
    json_object *data = NULL;
    payload_json(&text, e);
    int rc = PIO_ENOMEM;
    if (text.failed || !value_parse(text.data, text.len, &data))
        goto done;
    buf_reserve(&b, text.len + 32); /* msgpack is no larger than the JSON, bar the headers */
    if (!sio_encode_msgpack(&b, e->type, e->nsp, e->id, data, true, e->out ? e->out->bins : NULL,
                            e->out ? e->out->n_bins : 0) ||
        !(e->msgpack = eio_msg_new(true, b.len)))
        goto done;
    memcpy(e->msgpack->data, b.data, b.len);
    rc = PIO_OK;
done:
    json_object_put(data);
    buf_free(&text);
    buf_free(&b);
    return rc;
}

/* The form for `parser`, encoded now if it is not yet and the inputs are
 * still there. */
static int form_for(sio_encoded *e, unsigned parser)
{
    bool msgpack = parser == CONFIG_PARSER_MSGPACK;
    if (msgpack ? e->msgpack != NULL : e->text != NULL)
        return PIO_OK;
    if (e->sealed)
        return PIO_ESTATE;
    return msgpack ? encode_msgpack(e) : encode_default(e);
}

/* The observer hears of each message queued, and of each event with the
 * socket it is for (not of a replayed packet: its inputs are gone), and
 * the packet's serial, the same for every recipient of a broadcast. */
static void observe_sent(const sio_encoded *e, sio_client *c)
{
    if (e->type != SIO_EVENT || !e->event || !sio_observer_now->event_sent)
        return;
    for (size_t i = 0; i < c->n_sockets; i++)
        if (strcmp(c->sockets[i]->ns->name, e->nsp) == 0)
            sio_observer_now->event_sent(c->sockets[i], e->event, e->out, e->serial);
}

static void send_msg(sio_client *c, eio_msg *m)
{
    eio_session_send_msg(c->session, m);
    SIO_OBSERVE(message_out, m->len);
}

int sio_encoded_send(sio_encoded *e, sio_client *c)
{
    int rc = form_for(e, c->parser);
    if (rc != PIO_OK)
        return rc;
    if (sio_observer_now)
        observe_sent(e, c);
    if (c->parser == CONFIG_PARSER_MSGPACK) {
        send_msg(c, e->msgpack);
        return PIO_OK;
    }
    send_msg(c, e->text);
    for (size_t i = 0; i < e->n_bins; i++)
        send_msg(c, e->bins[i]);
    return PIO_OK;
}

int sio_encoded_seal(sio_encoded *e, unsigned parser)
{
    int rc = form_for(e, parser);
    e->sealed = true;
    e->nsp = e->event = NULL;
    e->out = NULL;
    return rc;
}

bool sio_encoded_has(const sio_encoded *e, unsigned parser)
{
    return parser == CONFIG_PARSER_MSGPACK ? e->msgpack != NULL : e->text != NULL;
}

size_t sio_encoded_bytes(const sio_encoded *e)
{
    size_t n = (e->text ? e->text->len : 0) + (e->msgpack ? e->msgpack->len : 0);
    for (size_t i = 0; i < e->n_bins; i++)
        n += e->bins[i]->len;
    return n;
}

void sio_encoded_free(sio_encoded *e)
{
    eio_msg_unref(e->text);
    for (size_t i = 0; i < e->n_bins; i++)
        eio_msg_unref(e->bins[i]);
    free(e->bins);
    eio_msg_unref(e->msgpack);
    *e = (sio_encoded){0};
}

void sio_send_value(sio_client *c, sio_type type, const char *nsp, json_object *data)
{
    buf b = BUF_INIT;
    if (c->parser == CONFIG_PARSER_MSGPACK) {
        eio_msg *m = NULL;
        if (sio_encode_msgpack(&b, type, nsp, -1, data, data != NULL, NULL, 0) &&
            (m = eio_msg_new(true, b.len))) {
            memcpy(m->data, b.data, b.len);
            send_msg(c, m);
            eio_msg_unref(m);
        }
    } else {
        const char *text = data ? json_object_to_json_string_ext(
                                      data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                                : "";
        sio_encode_header(&b, type, nsp, -1, 0);
        buf_append_str(&b, text ? text : "");
        if (text && !b.failed) {
            eio_session_send(c->session, EIO_MESSAGE, b.data, b.len);
            SIO_OBSERVE(message_out, b.len + 1);
        }
    }
    buf_free(&b);
}

int sio_send(sio_client *c, sio_type type, const char *nsp, int64_t id, const char *event,
             pio_out *out)
{
    sio_encoded e;
    int rc = c->closed ? PIO_ECLOSED : sio_encode(&e, type, nsp, id, event, out);
    if (rc == PIO_OK) {
        rc = sio_encoded_send(&e, c);
        sio_encoded_free(&e);
    }
    out_free(out);
    return rc;
}

