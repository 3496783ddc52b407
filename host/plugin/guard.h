/*
 * guard.h - containment of plugin faults: every call into plugin code runs
 * under a guard, so that a crash or an endless loop in a plugin costs that
 * plugin version, not the host.
 *
 * A guarded call that raises SIGSEGV, SIGBUS, SIGFPE, SIGILL or abort()
 * in plugin code returns to the host (the handler runs on an alternate
 * stack, so a plugin's stack overflow is caught too) with the fault logged:
 * plugin, version, what was called, signal, faulting address and a
 * backtrace.  A watchdog thread interrupts a call on the loop that runs
 * past its plugin's timeoutMs the same way.  The version is then marked
 * faulted and never called again; what replaces it is decided above
 * (guard_on_fault: reload.c rolls back or disables).
 *
 * A fault whose innermost host-or-plugin frame is host code is the host's
 * own bug: it is reported with its backtrace and ends the process, as it
 * would without the guard.  What the guard cannot do: make safe a plugin
 * that corrupted host memory before it faulted (one process, one address
 * space), or stop a plugin thread that runs on without the loop.
 */
#ifndef PIO_GUARD_H
#define PIO_GUARD_H

#include "ctx.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum guard_result {
    GUARD_RETURNED, /* the call returned normally */
    GUARD_FAULTED,  /* it faulted or overran: the version is quarantined now */
    GUARD_REFUSED,  /* the version had faulted before: nothing was called */
} guard_result;

/* Install the signal handlers and this thread's alternate stack, and
 * start the watchdog of the calling thread (the loop's).  False with a
 * message when any of it fails. */
bool guard_init(char *err, size_t errlen);
/* Stop the watchdog and restore the previous signal handlers. */
void guard_shutdown(void);
/* An alternate signal stack for a thread that calls plugin code (the
 * workers), so a stack overflow there is caught too. */
void guard_thread_init(void);

/* Call fn(arg) as a call into ctx's code: `what` says what it is
 * ("handler", "timer callback") and `symbol` which one (NULL when a
 * callback has no configured name).  Brackets the call with ctx_enter and
 * ctx_leave.  On a thread other than the loop's there is no watchdog, and
 * GUARD_FAULTED leaves the marking to the loop (guard_fault_seen). */
guard_result guard_call(pio_ctx *ctx, const char *what, const char *symbol, void (*fn)(void *),
                        void *arg);

/* A fault on another thread, now seen on the loop: quarantine ctx as a
 * fault of the loop's would. */
void guard_fault_seen(pio_ctx *ctx);

/* Have fn told, on the loop and after the faulting call unwound, of each
 * version that faulted (with a reference it must drop). */
void guard_on_fault(void (*fn)(pio_ctx *ctx));

/* The loop is about to wait (idle) or has woken (busy): the watchdog
 * reports a loop busy for too long outside plugin code. */
void guard_loop_idle(void);
void guard_loop_busy(void);

/* Faults and overruns contained since start. */
unsigned long guard_faults(void);

#endif
