/*
 * timer.c - a binary min-heap of timers behind one libev timer (see
 * timer.h).  Start, stop and expiry cost O(log n).
 */
#include "timer.h"

#include "array.h"

#include <ev.h>
#include <stdlib.h>
#include <time.h>

static timer **heap;
static size_t count, cap;
static struct ev_loop *ev_loop_;
static ev_timer watcher;
static void (*after_run)(void);
static uint64_t armed_for = UINT64_MAX; /* the deadline the watcher is set to */

/* The callbacks timers were started with (timer.h says why an index). */
#define MAX_TIMER_FNS 64
static timer_fn fns[MAX_TIMER_FNS];
static uint32_t n_fns;

static uint32_t fn_index(timer_fn fn)
{
    for (uint32_t i = 0; i < n_fns; i++)
        if (fns[i] == fn)
            return i;
    if (n_fns == MAX_TIMER_FNS)
        abort(); /* a host has a fixed handful: more is a programming error */
    fns[n_fns] = fn;
    return n_fns++;
}

uint64_t timer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void place(size_t i, timer *t)
{
    heap[i] = t;
    t->slot = (uint32_t)i + 1;
}

static void sift_up(size_t i)
{
    timer *t = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent]->due <= t->due)
            break;
        place(i, heap[parent]);
        i = parent;
    }
    place(i, t);
}

static void sift_down(size_t i)
{
    timer *t = heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= count)
            break;
        if (child + 1 < count && heap[child + 1]->due < heap[child]->due)
            child++;
        if (t->due <= heap[child]->due)
            break;
        place(i, heap[child]);
        i = child;
    }
    place(i, t);
}

/* Keep the loop's timer pointed at the earliest deadline. */
static void rearm(void)
{
    if (!ev_loop_)
        return;
    uint64_t next = count ? heap[0]->due : UINT64_MAX;
    if (next == armed_for)
        return;
    armed_for = next;
    ev_timer_stop(ev_loop_, &watcher);
    if (next == UINT64_MAX)
        return;
    /* libev counts from the loop's cached time, which may be old by now. */
    ev_now_update(ev_loop_);
    uint64_t now = timer_now();
    ev_timer_set(&watcher, next > now ? (double)(next - now) / 1000.0 : 0.0, 0.0);
    ev_timer_start(ev_loop_, &watcher);
}

static void fired(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    armed_for = UINT64_MAX;
    timers_run(timer_now());
    rearm();
    if (after_run)
        after_run();
}

static void remove_at(size_t i)
{
    timer *gone = heap[i];
    gone->slot = 0;
    count--;
    if (i == count)
        return;
    place(i, heap[count]);
    if (i > 0 && heap[(i - 1) / 2]->due > heap[i]->due)
        sift_up(i);
    else
        sift_down(i);
}

void timer_stop(timer *t)
{
    if (!t->slot)
        return;
    remove_at(t->slot - 1);
    rearm();
}

void timer_start(timer *t, uint64_t delay_ms, timer_fn fn)
{
    if (t->slot)
        remove_at(t->slot - 1);
    if (!ARRAY_RESERVE(heap, count + 1, cap, 64))
        abort(); /* a timer that silently never fires would be worse */
    t->fn = fn_index(fn);
    t->due = timer_now() + delay_ms;
    place(count++, t);
    sift_up(count - 1);
    rearm();
}

size_t timers_run(uint64_t now)
{
    size_t ran = 0;
    while (count && heap[0]->due <= now) {
        timer *t = heap[0];
        remove_at(0);
        ran++;
        fns[t->fn](t); /* may start or stop any timer, this one included */
    }
    return ran;
}

uint64_t timers_next(void) { return count ? heap[0]->due : UINT64_MAX; }

void timers_attach(struct ev_loop *loop, void (*after)(void))
{
    if (ev_loop_)
        ev_timer_stop(ev_loop_, &watcher);
    ev_loop_ = loop;
    after_run = after;
    ev_init(&watcher, fired);
    armed_for = UINT64_MAX;
    rearm();
}

void timers_clear(void)
{
    for (size_t i = 0; i < count; i++)
        heap[i]->slot = 0;
    free(heap);
    heap = NULL;
    count = cap = 0;
    if (ev_loop_)
        ev_timer_stop(ev_loop_, &watcher);
    armed_for = UINT64_MAX;
}
