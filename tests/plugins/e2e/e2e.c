/*
 * e2e.c - the plugin the end-to-end tests (tests/e2e) run the host with.
 *
 * Every handler turns what the host hands it into something a stock
 * socket.io-client can observe: an acknowledgement, an emitted event, or a
 * line in a file.  The tests then assert on what the client sees, so each
 * handler is as dumb as possible: it copies, it counts, it reports.
 *
 * Events (bound in the test's YAML, see tests/e2e/helpers.js):
 *   connection  emit "welcome" {id, nsp, auth, transport}
 *   disconnect  append "<socket id> <reason>\n" to config.reasons_file
 *   echo        ack with a copy of every argument (or emit "echo" with them)
 *   auth        ack with the CONNECT packet's auth payload
 *   handshake   ack with {id, nsp, query, header, userAgent, address, transport}
 *   binary      ack (or emit "binary") with buffers built by the plugin
 *   ask         {event, timeout, args, tag}: emit `event` to the client asking
 *               for an ack; when the ack callback runs, emit "answer"
 *               {status, code, tag, reply}, or, once the socket is gone,
 *               append "ack <tag> <code>\n" to config.reasons_file
 *   kick        disconnect the socket from its namespace ({close: true}
 *               closes the whole connection)
 *   seq         ack with [argument, running count of seq calls]
 *   record      remember the first argument under the socket's id
 *   replay      ack with the socket's recorded values, in arrival order
 *   say         log the first argument (a string) at the level the second
 *               names (0 debug .. 3 error; info without one), then ack
 *
 * Every SDK call's return code is checked; a failure is logged and returned
 * to the host, which logs it too.
 */
#include <plugio/plugio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *e2e_unload(pio_ctx *ctx, int final);

PIO_PLUGIN("e2e", "1.0.0", .unload = e2e_unload);

/* PIO_HANDLER defines a function; these are its prototypes (-Wmissing-prototypes). */
PIO_HANDLER(on_connection);
PIO_HANDLER(on_disconnect);
PIO_HANDLER(echo);
PIO_HANDLER(auth);
PIO_HANDLER(handshake);
PIO_HANDLER(binary);
PIO_HANDLER(ask);
PIO_HANDLER(kick);
PIO_HANDLER(seq);
PIO_HANDLER(record);
PIO_HANDLER(replay);
PIO_HANDLER(say);

/* ---- Helpers ---------------------------------------------------------- */

/* strdup() is POSIX, not C11. */
static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

static int fail(pio_ctx *ctx, const char *what, int rc)
{
    pio_log(ctx, PIO_LOG_ERROR, "%s: %s", what, pio_strerror(rc));
    return rc;
}

/* A copy of `v`, or null when there is no value. */
static int out_value_or_null(pio_out *out, const pio_value *v)
{
    if (!v || pio_value_type(v) == PIO_TYPE_NONE)
        return pio_out_null(out);
    return pio_out_value(out, v);
}

static int out_key_cstr(pio_out *out, const char *key, const char *val)
{
    PIO_TRY(pio_out_key(out, key, strlen(key)));
    if (!val)
        return pio_out_null(out);
    return pio_out_cstr(out, val);
}

static int out_key_value(pio_out *out, const char *key, const pio_value *v)
{
    PIO_TRY(pio_out_key(out, key, strlen(key)));
    return out_value_or_null(out, v);
}

/* Send `out` (consumed) as the ack of `args` when one was asked, otherwise
 * as `event` to the socket. */
static int reply(pio_ctx *ctx, pio_socket *socket, pio_args *args, const char *event,
                 pio_out *out)
{
    int rc;
    if (pio_args_wants_ack(args)) {
        rc = pio_ack(args, out);
        if (rc != PIO_OK)
            return fail(ctx, "pio_ack", rc);
    } else {
        rc = pio_emit(socket, event, out);
        if (rc != PIO_OK)
            return fail(ctx, "pio_emit", rc);
    }
    return PIO_OK;
}

/* A string member of the plugin's config block, or NULL. */
static const char *config_string(pio_ctx *ctx, const char *key)
{
    const pio_value *v = pio_value_member(pio_ctx_config(ctx), key);
    const char *s = NULL;
    size_t len = 0;
    if (!v || pio_value_string(v, &s, &len) != PIO_OK)
        return NULL;
    return s;
}

/* Append one line to config.reasons_file, so the tests can read what the
 * handlers saw after the client is gone. */
static int append_line(pio_ctx *ctx, const char *a, const char *b, const char *c)
{
    const char *path = config_string(ctx, "reasons_file");
    if (!path) {
        pio_log(ctx, PIO_LOG_WARN, "no reasons_file in the config: dropping '%s %s'", a, b);
        return PIO_OK;
    }
    FILE *f = fopen(path, "a");
    if (!f) {
        pio_log(ctx, PIO_LOG_ERROR, "cannot open %s", path);
        return PIO_EINVAL;
    }
    int bad = c ? fprintf(f, "%s %s %s\n", a, b, c) < 0 : fprintf(f, "%s %s\n", a, b) < 0;
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        pio_log(ctx, PIO_LOG_ERROR, "cannot write to %s", path);
        return PIO_EINVAL;
    }
    return PIO_OK;
}

/* ---- connection / disconnect ----------------------------------------- */

static int build_welcome(pio_out *out, pio_socket *socket)
{
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_cstr(out, "id", pio_socket_id(socket)));
    PIO_TRY(out_key_cstr(out, "nsp", pio_socket_namespace(socket)));
    PIO_TRY(out_key_value(out, "auth", pio_socket_auth(socket)));
    PIO_TRY(out_key_cstr(out, "transport", pio_socket_transport(socket)));
    return pio_out_object_end(out);
}

PIO_HANDLER(on_connection)
{
    (void)args;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_welcome(out, socket);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "welcome", rc);
    }
    rc = pio_emit(socket, "welcome", out);
    if (rc != PIO_OK)
        return fail(ctx, "pio_emit welcome", rc);
    return PIO_OK;
}

PIO_HANDLER(on_disconnect)
{
    const char *reason = NULL;
    size_t len = 0;
    int rc = pio_value_string(pio_args_at(args, 0), &reason, &len);
    if (rc != PIO_OK)
        return fail(ctx, "disconnect reason", rc);
    const char *id = pio_socket_id(socket);
    return append_line(ctx, id ? id : "(no-id)", reason, NULL);
}

/* ---- echo, auth, handshake -------------------------------------------- */

PIO_HANDLER(echo)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    size_t n = pio_args_count(args);
    for (size_t i = 0; i < n; i++) {
        int rc = pio_out_value(out, pio_args_at(args, i));
        if (rc != PIO_OK) {
            pio_out_free(out);
            return fail(ctx, "pio_out_value", rc);
        }
    }
    return reply(ctx, socket, args, "echo", out);
}

PIO_HANDLER(auth)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = out_value_or_null(out, pio_socket_auth(socket));
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "auth", rc);
    }
    return reply(ctx, socket, args, "auth", out);
}

static int build_handshake(pio_out *out, pio_socket *socket)
{
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_cstr(out, "id", pio_socket_id(socket)));
    PIO_TRY(out_key_cstr(out, "nsp", pio_socket_namespace(socket)));
    PIO_TRY(out_key_value(out, "query", pio_socket_query(socket)));
    PIO_TRY(out_key_cstr(out, "header", pio_socket_header(socket, "X-Test")));
    PIO_TRY(out_key_cstr(out, "userAgent", pio_socket_header(socket, "user-agent")));
    PIO_TRY(out_key_cstr(out, "authorization", pio_socket_header(socket, "authorization")));
    PIO_TRY(out_key_cstr(out, "cookie", pio_socket_header(socket, "cookie")));
    PIO_TRY(out_key_cstr(out, "address", pio_socket_address(socket)));
    PIO_TRY(out_key_cstr(out, "transport", pio_socket_transport(socket)));
    return pio_out_object_end(out);
}

PIO_HANDLER(handshake)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_handshake(out, socket);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "handshake", rc);
    }
    return reply(ctx, socket, args, "handshake", out);
}

/* ---- binary built by the plugin -------------------------------------- */

/* { small: <de ad be ef>, list: [ <00 01 .. ff>, "text", { deep: <1000 bytes,
 *   byte i = i*7 mod 256> } ], count: 3 }
 * The tests rebuild the same bytes. */
static int build_binary(pio_out *out)
{
    static const unsigned char small[] = {0xde, 0xad, 0xbe, 0xef};
    unsigned char ramp[256];
    unsigned char deep[1000];
    for (size_t i = 0; i < sizeof ramp; i++)
        ramp[i] = (unsigned char)i;
    for (size_t i = 0; i < sizeof deep; i++)
        deep[i] = (unsigned char)(i * 7);

    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "small", 5));
    PIO_TRY(pio_out_binary(out, small, sizeof small));
    PIO_TRY(pio_out_key(out, "list", 4));
    PIO_TRY(pio_out_array_begin(out));
    PIO_TRY(pio_out_binary(out, ramp, sizeof ramp));
    PIO_TRY(pio_out_cstr(out, "text"));
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "deep", 4));
    PIO_TRY(pio_out_binary(out, deep, sizeof deep));
    PIO_TRY(pio_out_object_end(out));
    PIO_TRY(pio_out_array_end(out));
    PIO_TRY(pio_out_key(out, "count", 5));
    PIO_TRY(pio_out_int64(out, 3));
    PIO_TRY(pio_out_object_end(out));
    /* A second, top-level binary argument. */
    return pio_out_binary(out, small, 2);
}

PIO_HANDLER(binary)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_binary(out);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "binary", rc);
    }
    return reply(ctx, socket, args, "binary", out);
}

/* ---- server -> client acknowledgements -------------------------------- */

static int build_answer(pio_out *out, int status, const char *tag, pio_args *ack)
{
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(out_key_cstr(out, "status", status == PIO_OK ? "ok" : pio_strerror(status)));
    PIO_TRY(pio_out_key(out, "code", 4));
    PIO_TRY(pio_out_int64(out, status));
    PIO_TRY(out_key_cstr(out, "tag", tag));
    PIO_TRY(pio_out_key(out, "reply", 5));
    PIO_TRY(pio_out_array_begin(out));
    size_t n = ack ? pio_args_count(ack) : 0;
    for (size_t i = 0; i < n; i++)
        PIO_TRY(pio_out_value(out, pio_args_at(ack, i)));
    PIO_TRY(pio_out_array_end(out));
    return pio_out_object_end(out);
}

static void on_ask_answer(pio_ctx *ctx, pio_socket *socket, int status, pio_args *ack,
                          void *userdata)
{
    char *tag = userdata;
    pio_log(ctx, PIO_LOG_DEBUG, "ack callback for %s: %s", tag,
            status == PIO_OK ? "answered" : pio_strerror(status));
    if (!socket || status == PIO_ECLOSED) {
        /* Nobody left to tell: leave a trace for the test instead. */
        char code[16];
        snprintf(code, sizeof code, "%d", status);
        append_line(ctx, "ack", tag, code);
        free(tag);
        return;
    }
    pio_out *out = pio_out_new(ctx);
    if (!out) {
        fail(ctx, "pio_out_new", PIO_ENOMEM);
        free(tag);
        return;
    }
    int rc = build_answer(out, status, tag, ack);
    free(tag);
    if (rc != PIO_OK) {
        pio_out_free(out);
        fail(ctx, "answer", rc);
        return;
    }
    rc = pio_emit(socket, "answer", out);
    if (rc != PIO_OK)
        fail(ctx, "pio_emit answer", rc);
}

/* ask({event, timeout, args: [...], tag}) */
PIO_HANDLER(ask)
{
    const pio_value *req = pio_args_at(args, 0);
    const char *event = "question";
    const char *tag = "";
    size_t len = 0;
    int64_t timeout = 0;
    int rc;

    const pio_value *v = pio_value_member(req, "event");
    if (v && (rc = pio_value_string(v, &event, &len)) != PIO_OK)
        return fail(ctx, "ask: event", rc);
    v = pio_value_member(req, "tag");
    if (v && (rc = pio_value_string(v, &tag, &len)) != PIO_OK)
        return fail(ctx, "ask: tag", rc);
    v = pio_value_member(req, "timeout");
    if (v && (rc = pio_value_int64(v, &timeout)) != PIO_OK)
        return fail(ctx, "ask: timeout", rc);
    if (timeout < 0 || timeout > UINT32_MAX)
        return fail(ctx, "ask: timeout", PIO_ERANGE);

    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    const pio_value *list = pio_value_member(req, "args");
    size_t n = pio_value_type(list) == PIO_TYPE_ARRAY ? pio_value_count(list) : 0;
    for (size_t i = 0; i < n; i++) {
        if ((rc = pio_out_value(out, pio_value_index(list, i))) != PIO_OK) {
            pio_out_free(out);
            return fail(ctx, "ask: args", rc);
        }
    }

    char *copy = copy_string(tag);
    if (!copy) {
        pio_out_free(out);
        return fail(ctx, "ask", PIO_ENOMEM);
    }
    rc = pio_emit_with_ack(socket, event, out, (uint32_t)timeout, on_ask_answer, copy);
    if (rc != PIO_OK) {
        free(copy); /* the callback never runs after an error */
        return fail(ctx, "pio_emit_with_ack", rc);
    }

    if (!pio_args_wants_ack(args))
        return PIO_OK;
    pio_out *ok = pio_out_new(ctx);
    if (!ok)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    if ((rc = pio_out_cstr(ok, "sent")) != PIO_OK) {
        pio_out_free(ok);
        return fail(ctx, "ask", rc);
    }
    rc = pio_ack(args, ok);
    if (rc != PIO_OK)
        return fail(ctx, "pio_ack", rc);
    return PIO_OK;
}

/* ---- kick ------------------------------------------------------------ */

PIO_HANDLER(kick)
{
    int whole = 0;
    const pio_value *v = pio_value_member(pio_args_at(args, 0), "close");
    int rc;
    if (v && (rc = pio_value_bool(v, &whole)) != PIO_OK)
        return fail(ctx, "kick: close", rc);
    rc = pio_socket_disconnect(socket, whole);
    if (rc != PIO_OK)
        return fail(ctx, "pio_socket_disconnect", rc);
    return PIO_OK;
}

/* ---- ordering -------------------------------------------------------- */

static int64_t seq_count;

PIO_HANDLER(seq)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = pio_out_array_begin(out);
    if (rc == PIO_OK)
        rc = out_value_or_null(out, pio_args_at(args, 0));
    if (rc == PIO_OK)
        rc = pio_out_int64(out, ++seq_count);
    if (rc == PIO_OK)
        rc = pio_out_array_end(out);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "seq", rc);
    }
    return reply(ctx, socket, args, "seq", out);
}

/* What `record` saw: one entry per call, in arrival order. */
typedef struct record_entry {
    char *socket_id;
    int64_t value;
} record_entry;

static record_entry *records;
static size_t n_records, cap_records;

PIO_HANDLER(record)
{
    int64_t value = 0;
    int rc = pio_value_int64(pio_args_at(args, 0), &value);
    if (rc != PIO_OK)
        return fail(ctx, "record: argument", rc);
    const char *id = pio_socket_id(socket);
    if (!id)
        return fail(ctx, "record: socket id", PIO_ECLOSED);
    if (n_records == cap_records) {
        size_t cap = cap_records ? cap_records * 2 : 1024;
        record_entry *grown = realloc(records, cap * sizeof *grown);
        if (!grown)
            return fail(ctx, "record", PIO_ENOMEM);
        records = grown;
        cap_records = cap;
    }
    char *copy = copy_string(id);
    if (!copy)
        return fail(ctx, "record", PIO_ENOMEM);
    records[n_records++] = (record_entry){copy, value};
    if (!pio_args_wants_ack(args))
        return PIO_OK;
    rc = pio_ack(args, NULL);
    if (rc != PIO_OK)
        return fail(ctx, "pio_ack", rc);
    return PIO_OK;
}

static int build_replay(pio_out *out, const char *id)
{
    PIO_TRY(pio_out_array_begin(out));
    for (size_t i = 0; i < n_records; i++)
        if (strcmp(records[i].socket_id, id) == 0)
            PIO_TRY(pio_out_int64(out, records[i].value));
    return pio_out_array_end(out);
}

PIO_HANDLER(replay)
{
    const char *id = pio_socket_id(socket);
    if (!id)
        return fail(ctx, "replay: socket id", PIO_ECLOSED);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return fail(ctx, "pio_out_new", PIO_ENOMEM);
    int rc = build_replay(out, id);
    if (rc != PIO_OK) {
        pio_out_free(out);
        return fail(ctx, "replay", rc);
    }
    return reply(ctx, socket, args, "replay", out);
}

/* ---- lifetime -------------------------------------------------------- */

/* The recorded values die with this version: the tests never reload. */
static void *e2e_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    (void)final;
    for (size_t i = 0; i < n_records; i++)
        free(records[i].socket_id);
    free(records);
    records = NULL;
    n_records = cap_records = 0;
    return NULL;
}

/* ---- say: a line in the host's log -------------------------------------- */

PIO_HANDLER(say)
{
    (void)socket;
    const char *text = NULL;
    size_t len = 0;
    int rc = pio_value_string(pio_args_at(args, 0), &text, &len);
    if (rc != PIO_OK)
        return fail(ctx, "say: argument", rc);
    int64_t level = PIO_LOG_INFO;
    if (pio_args_count(args) > 1 && pio_value_int64(pio_args_at(args, 1), &level) != PIO_OK)
        return fail(ctx, "say: level", PIO_EINVAL);
    pio_log(ctx, (pio_log_level)level, "%s", text);
    return pio_args_wants_ack(args) ? pio_ack(args, NULL) : PIO_OK;
}
