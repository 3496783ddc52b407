/*
 * later.c - the test plugin of answers that wait (SDK ABI 1.3) that
 * tests/e2e/later.test.js runs the host with.
 *
 *   later_ack      (ms, value): keep the ack (pio_ack_defer) and answer it
 *                  with value after ms (a timer); answering it a second
 *                  time must give PIO_ECLOSED, and the ack carries
 *                  [value, that status]
 *   later_keep     keep the ack and never answer; the handle goes into
 *                  data "kept" (the client then leaves)
 *   later_answer_kept  (id): answer the handle a socket kept, from another
 *                  socket: acks with the status (PIO_ECLOSED once the
 *                  keeper left)
 *   later_drop     keep the ack, drop it at once: acks nothing (the
 *                  client's callback times out); emits "dropped" with
 *                  what a later answer gives
 *   later_no_ack   (no ack asked) emits "deferred" with pio_ack_defer's 0
 *   later_gate     middleware: decides after auth.ms (default 20): auth.token
 *                  "ok" lets through, "never" never answers, anything else
 *                  is refused with "bad token: <token>"; "now-ok" and
 *                  "now-bad" are answered before the middleware returns
 *                  "again" answers at once and defers a second time (0)
 *   later_close_keep  disconnects its own socket, then defers the ack:
 *                  pio_ack_defer must give 0; acks nothing
 *   later_connection emits "welcome" {mw: data "mw"}
 */
#include <plugio/plugio.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PIO_PLUGIN("later", "1.0.0");

PIO_HANDLER(later_ack);
PIO_HANDLER(later_keep);
PIO_HANDLER(later_answer_kept);
PIO_HANDLER(later_drop);
PIO_HANDLER(later_no_ack);
PIO_HANDLER(later_close_keep);
PIO_HANDLER(later_connection);
PIO_MIDDLEWARE(later_gate);

static int64_t int_arg(const pio_value *v, int64_t dflt)
{
    int64_t n;
    return pio_value_int64(v, &n) == PIO_OK ? n : dflt;
}

static const char *string_arg(const pio_value *v)
{
    const char *s;
    size_t len;
    return pio_value_string(v, &s, &len) == PIO_OK ? s : NULL;
}

/* ---- acks answered later ------------------------------------------------ */

typedef struct later_answer {
    uint64_t ack;
    char value[64];
} later_answer;

static void answer(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer;
    later_answer *p = userdata;
    pio_out *out = pio_out_new(ctx);
    if (out && pio_out_cstr(out, p->value) == PIO_OK) {
        int first = pio_ack_later(p->ack, out);
        int again = pio_ack_later(p->ack, NULL); /* exactly once */
        if (first != PIO_OK || again != PIO_ECLOSED)
            pio_log(ctx, PIO_LOG_ERROR, "ack_later: %d, then %d", first, again);
    } else {
        pio_out_free(out);
    }
    free(p);
}

PIO_HANDLER(later_ack)
{
    (void)socket;
    later_answer *p = calloc(1, sizeof *p);
    if (!p)
        return PIO_ENOMEM;
    const char *v = string_arg(pio_args_at(args, 1));
    snprintf(p->value, sizeof p->value, "%s", v ? v : "");
    p->ack = pio_ack_defer(args);
    if (!p->ack || pio_args_wants_ack(args) || pio_ack_defer(args) != 0) {
        free(p);
        return PIO_ESTATE;
    }
    if (!pio_timer_start(ctx, (uint32_t)int_arg(pio_args_at(args, 0), 10), 0, answer, p)) {
        pio_ack_drop(p->ack);
        free(p);
        return PIO_ENOMEM;
    }
    return PIO_OK;
}

PIO_HANDLER(later_keep)
{
    uint64_t ack = pio_ack_defer(args);
    char id[24];
    snprintf(id, sizeof id, "%" PRIu64, ack);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_cstr(out, id));
    PIO_TRY(pio_socket_data_set(socket, "kept", out));
    out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_cstr(out, id));
    return pio_emit(socket, "kept", out);
}

PIO_HANDLER(later_answer_kept)
{
    (void)socket;
    const char *id = string_arg(pio_args_at(args, 0));
    uint64_t ack = id ? strtoull(id, NULL, 10) : 0;
    /* An ack's handle is no middleware's: refused, and the ack still waits. */
    int wrong = pio_middleware_resolve(ack, "not a middleware");
    if (wrong != PIO_ECLOSED)
        pio_log(ctx, PIO_LOG_ERROR, "middleware_resolve took an ack handle: %d", wrong);
    int rc = pio_ack_later(ack, NULL);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_int64(out, rc));
    return pio_ack(args, out);
}

PIO_HANDLER(later_drop)
{
    uint64_t ack = pio_ack_defer(args);
    pio_ack_drop(ack);
    int rc = pio_ack_later(ack, NULL);
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_int64(out, ack != 0));
    PIO_TRY(pio_out_int64(out, rc));
    return pio_emit(socket, "dropped", out);
}

PIO_HANDLER(later_no_ack)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_int64(out, (int64_t)pio_ack_defer(args)));
    return pio_emit(socket, "deferred", out);
}

PIO_HANDLER(later_close_keep)
{
    pio_socket_disconnect(socket, 0);
    uint64_t ack = pio_ack_defer(args);
    if (ack != 0) {
        pio_log(ctx, PIO_LOG_ERROR, "defer after disconnect: %" PRIu64, ack);
        pio_ack_drop(ack);
    }
    return PIO_OK;
}

/* ---- a middleware that decides later ---------------------------------- */

typedef struct gate {
    uint64_t pending;
    char token[64];
} gate;

static void decide(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)timer;
    gate *g = userdata;
    char why[128];
    snprintf(why, sizeof why, "bad token: %s", g->token);
    int rc = pio_middleware_resolve(g->pending, strcmp(g->token, "ok") == 0 ? NULL : why);
    if (rc != PIO_OK)
        pio_log(ctx, PIO_LOG_WARN, "middleware_resolve: %d", rc);
    free(g);
}

PIO_MIDDLEWARE(later_gate)
{
    const pio_value *auth = pio_socket_auth(socket);
    const char *token = string_arg(pio_value_member(auth, "token"));
    if (!token)
        return "no token";
    pio_out *out = pio_out_new(ctx);
    if (out && pio_out_cstr(out, "gate") == PIO_OK)
        pio_socket_data_set(socket, "mw", out);
    else
        pio_out_free(out);
    uint64_t pending = pio_middleware_defer(socket);
    if (!pending)
        return "cannot defer";
    /* A middleware's handle is no ack's: refused, and it still waits. */
    if (pio_ack_later(pending, NULL) != PIO_ECLOSED)
        pio_log(ctx, PIO_LOG_ERROR, "ack_later took a middleware handle");
    if (strcmp(token, "never") == 0)
        return "ignored: the middleware deferred";
    /* "again": answered at once, then a second defer in the same call,
     * which must be refused (0); the first answer lets it through. */
    if (strcmp(token, "again") == 0) {
        int first = pio_middleware_resolve(pending, NULL);
        uint64_t second = pio_middleware_defer(socket);
        if (first != PIO_OK || second != 0)
            pio_log(ctx, PIO_LOG_ERROR, "defer again: %d, then %" PRIu64, first, second);
        return NULL;
    }
    /* Answered before the middleware returns: "now-ok" lets through,
     * "now-bad" refuses; each answer counts once. */
    if (strncmp(token, "now-", 4) == 0) {
        int first = pio_middleware_resolve(pending, strcmp(token, "now-ok") == 0 ? NULL : "bad now");
        int again = pio_middleware_resolve(pending, NULL);
        if (first != PIO_OK || again != PIO_ECLOSED)
            pio_log(ctx, PIO_LOG_ERROR, "resolve at once: %d, then %d", first, again);
        return "ignored: the middleware deferred";
    }
    gate *g = calloc(1, sizeof *g);
    if (!g)
        return "out of memory";
    g->pending = pending;
    snprintf(g->token, sizeof g->token, "%s", token);
    if (!pio_timer_start(ctx, (uint32_t)int_arg(pio_value_member(auth, "ms"), 20), 0, decide, g)) {
        free(g);
        return "out of memory";
    }
    return NULL;
}

PIO_HANDLER(later_connection)
{
    (void)args;
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    PIO_TRY(pio_out_object_begin(out));
    PIO_TRY(pio_out_key(out, "mw", 2));
    const char *mw = string_arg(pio_socket_data_get(socket, "mw"));
    PIO_TRY(mw ? pio_out_cstr(out, mw) : pio_out_null(out));
    PIO_TRY(pio_out_object_end(out));
    return pio_emit(socket, "welcome", out);
}
