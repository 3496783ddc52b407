/*
 * timer.h - the host's timers: ping intervals, ping timeouts, connect and
 * upgrade timeouts, ack timeouts.
 *
 * libwebsockets keeps its timers (suls) in one sorted list, so inserting
 * one costs O(n) in the number pending.  plugio therefore keeps its own
 * binary heap of intrusive timers and arms one libev timer on its event
 * loop for the earliest deadline (whole milliseconds).  It is not an lws
 * sul: on a foreign loop lws re-arms its own timer only after I/O, so a
 * sul set from a timer callback could sleep until the next packet.
 */
#ifndef PIO_TIMER_H
#define PIO_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
typedef struct timer timer;
typedef void (*timer_fn)(timer *t);

/* 16 bytes: every session and client holds one or two, so the callback
 * is kept as a small index into timer.c's table of the callbacks timers
 * have been started with (a host has a handful of them), not a pointer. */
struct timer {
    uint64_t due;      /* ms, monotonic */
    uint32_t slot;     /* index in the heap + 1; 0 when not scheduled */
    uint32_t fn;       /* the callback's index in timer.c's table */
};

/* Milliseconds on the monotonic clock. */
uint64_t timer_now(void);

/* (Re)schedule t to run fn once, delay_ms from now. */
void timer_start(timer *t, uint64_t delay_ms, timer_fn fn);
void timer_stop(timer *t);
static inline bool timer_active(const timer *t) { return t->slot != 0; }

/* Drive the timers from an event loop (NULL detaches); `after`, when not
 * NULL, runs after each batch of expired timers (server.c lets lws see
 * what they scheduled: see there). */
void timers_attach(struct ev_loop *loop, void (*after)(void));
/* Run every timer due at `now`; returns how many ran. Used by the loop's
 * timer callback, and by tests with a chosen clock. */
size_t timers_run(uint64_t now);
/* The earliest deadline, or UINT64_MAX when none is scheduled. */
uint64_t timers_next(void);
/* Forget every timer (at shutdown) and free the heap. */
void timers_clear(void);

#endif
