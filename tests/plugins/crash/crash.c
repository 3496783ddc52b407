/*
 * crash - a test plugin that faults on demand, built several ways for the
 * fault-containment tests:
 *   libcrash_a.so, libcrash_c.so   good builds: every event answers
 *                                  [BUILD_ID, "ok"]
 *   libcrash_b.so                  the faulty build (FAULTY): each event
 *                                  faults the way its name says
 *   libcrash_load.so               faults in its load hook (FAULTY_LOAD)
 *
 * `build` always answers [BUILD_ID], so a client can tell which version
 * serves.  The middleware `gate` faults (in the faulty build) for a client
 * whose auth is {crash: true}, and defers its decision for good for one
 * whose auth is {defer: true}; the faulty build's `defer` defers its ack
 * for good: what a version that faults leaves waiting.
 */
#include <plugio/plugio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BUILD_ID
#define BUILD_ID "a"
#endif

/* The state a version hands its successor: checked by the load hook. */
#define STATE_MAGIC 0x57a7e5u
typedef struct crash_state {
    unsigned magic;
} crash_state;

static const char *loaded_with = "nothing"; /* what this version's load hook was given */

#ifdef FAULTY_LOAD
/* Takes the state it is handed, spoils it and frees it, then faults. */
static const char *on_load(pio_ctx *ctx, void *state)
{
    (void)ctx;
    if (state) {
        ((crash_state *)state)->magic = 0;
        free(state);
    }
    volatile int *p = NULL;
    return *p ? "never" : NULL;
}
PIO_PLUGIN("crash", BUILD_ID, .load = on_load);
#else
static const char *on_load(pio_ctx *ctx, void *state)
{
    (void)ctx;
    crash_state *st = state;
    if (st && st->magic != STATE_MAGIC)
        return "handed a spoilt state";
    loaded_with = st ? "a state" : "nothing";
    free(st);
    return NULL;
}

static void *on_unload(pio_ctx *ctx, int final)
{
    (void)ctx;
    crash_state *st = final ? NULL : malloc(sizeof *st);
    if (st)
        st->magic = STATE_MAGIC;
    return st;
}
PIO_PLUGIN("crash", BUILD_ID, .load = on_load, .unload = on_unload);

#endif

static int answer(pio_ctx *ctx, pio_args *args, const char *what)
{
    pio_out *out = pio_out_new(ctx);
    if (!out)
        return PIO_ENOMEM;
    pio_out_cstr(out, BUILD_ID);
    if (what)
        pio_out_cstr(out, what);
    return pio_ack(args, out);
}

PIO_HANDLER(build)
{
    (void)socket;
    return answer(ctx, args, NULL);
}

/* [BUILD_ID, "a state" | "nothing"]: what its load hook was given. */
PIO_HANDLER(loaded)
{
    (void)socket;
    return answer(ctx, args, loaded_with);
}

#ifdef FAULTY
static volatile int zero;
static volatile long sink;

/* Deep enough to overflow any stack, though the compiler cannot tell. */
static long recurse(long depth)
{
    volatile char pad[1024];
    pad[0] = (char)depth;
    if (depth == -1 - zero)
        return 0;
    return recurse(depth + 1) + pad[0];
}

static void null_timer(pio_ctx *ctx, uint64_t timer, void *userdata)
{
    (void)ctx, (void)timer, (void)userdata;
    volatile int *p = NULL;
    sink = *p;
}

static void null_work(void *userdata)
{
    (void)userdata;
    volatile int *p = NULL;
    sink = *p;
}

static void work_done(pio_ctx *ctx, void *userdata)
{
    (void)ctx, (void)userdata;
}

static void null_answer(pio_ctx *ctx, pio_socket *socket, int status, pio_args *reply, void *ud)
{
    (void)ctx, (void)socket, (void)status, (void)reply, (void)ud;
    volatile int *p = NULL;
    sink = *p;
}

static int null_visit(pio_ctx *ctx, pio_socket *socket, void *userdata)
{
    (void)ctx, (void)socket, (void)userdata;
    volatile int *p = NULL;
    return *p;
}

#define FAULT(name, body)                                                                          \
    PIO_HANDLER(name)                                                                              \
    {                                                                                              \
        (void)ctx, (void)socket, (void)args;                                                       \
        body;                                                                                      \
        return PIO_OK;                                                                             \
    }
#else
#define FAULT(name, body)                                                                          \
    PIO_HANDLER(name)                                                                              \
    {                                                                                              \
        (void)socket;                                                                              \
        return answer(ctx, args, "ok");                                                            \
    }
#endif

FAULT(null_deref, volatile int *p = NULL; sink = *p)
FAULT(div_zero, sink = (sink + 7) / zero)
FAULT(do_abort, abort())
FAULT(spin, for (;;) sink++)
FAULT(stack_overflow, sink = recurse(0))
FAULT(libc_null, sink = (long)strlen((const char *)(uintptr_t)zero))
FAULT(null_call, void (*volatile fn)(void) = NULL; fn())
FAULT(timer_null, pio_timer_start(ctx, 1, 0, null_timer, NULL))
FAULT(work_null, pio_work_submit(ctx, null_work, work_done, NULL))
FAULT(ack_null, pio_emit_with_ack(socket, "question", pio_out_new(ctx), 5000, null_answer, NULL))
FAULT(defer, pio_ack_defer(args))
FAULT(sleepy, sleep(60))
FAULT(visit_null, pio_select_sockets(ctx, &(pio_select){.size = sizeof(pio_select)}, null_visit, NULL))
FAULT(double_free, char *volatile block = malloc(32); free(block); free(block))

PIO_MIDDLEWARE(gate)
{
    (void)ctx;
#ifdef FAULTY
    const pio_value *auth = pio_socket_auth(socket);
    const pio_value *crash = auth ? pio_value_member(auth, "crash") : NULL;
    int yes = 0;
    if (crash && pio_value_bool(crash, &yes) == PIO_OK && yes) {
        volatile int *p = NULL;
        sink = *p;
    }
    const pio_value *defer = auth ? pio_value_member(auth, "defer") : NULL;
    if (defer && pio_value_bool(defer, &yes) == PIO_OK && yes)
        pio_middleware_defer(socket);
#else
    (void)socket;
#endif
    return NULL;
}
