/*
 * timer: the heap behind every heartbeat, timeout and plugin timer.  Run
 * with a chosen clock (timers_run(now)) and no libwebsockets context, so
 * the tests decide when time passes.
 */
#include <criterion/criterion.h>

#include "base/timer.h"

#include <stdlib.h>
#include <string.h>

static void teardown(void) { timers_clear(); }
TestSuite(timer, .fini = teardown);

enum { N = 2000 };
static timer timers[N];
static int fired[N], order[N], n_fired;
static uint64_t last_due;
static bool out_of_order;

static void record(timer *t)
{
    int i = (int)(t - timers);
    fired[i]++;
    order[n_fired++] = i;
    if (t->due < last_due)
        out_of_order = true;
    last_due = t->due;
}

static void reset_record(void)
{
    memset(fired, 0, sizeof fired);
    n_fired = 0;
    last_due = 0;
    out_of_order = false;
}

Test(timer, runs_only_what_is_due_in_deadline_order)
{
    reset_record();
    uint64_t t0 = timer_now();
    timer_start(&timers[0], 30, record);
    timer_start(&timers[1], 10, record);
    timer_start(&timers[2], 20, record);
    cr_assert_eq(timers_next(), timers[1].due);
    cr_assert_eq(timers_run(t0 + 15), 1);
    cr_assert_eq(order[0], 1);
    cr_assert(!timer_active(&timers[1]));
    cr_assert(timer_active(&timers[0]) && timer_active(&timers[2]));
    cr_assert_eq(timers_run(t0 + 1000), 2);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 0);
    cr_assert_eq(timers_next(), UINT64_MAX);
}

Test(timer, a_stopped_timer_never_runs_and_restarting_moves_it)
{
    reset_record();
    uint64_t t0 = timer_now();
    timer_start(&timers[0], 10, record);
    timer_start(&timers[1], 20, record);
    timer_stop(&timers[0]);
    timer_stop(&timers[0]); /* stopping twice is harmless */
    timer_start(&timers[1], 500, record); /* restart: later now */
    cr_assert_eq(timers_run(t0 + 100), 0);
    cr_assert_eq(timers_run(t0 + 1000), 1);
    cr_assert_eq(fired[0], 0);
    cr_assert_eq(fired[1], 1);
}

static int rearms;
static void rearm_self(timer *t)
{
    if (++rearms < 3)
        timer_start(t, 0, rearm_self);
}

Test(timer, a_callback_may_restart_its_own_timer)
{
    rearms = 0;
    timer_start(&timers[0], 0, rearm_self);
    /* Restarted with no delay, it is due again within the same run. */
    timers_run(timer_now() + 10);
    cr_assert_eq(rearms, 3);
    cr_assert(!timer_active(&timers[0]));
}

static int ran_a, ran_b;
static void cb_a(timer *t) { (void)t; ran_a++; }
static void cb_b(timer *t) { (void)t; ran_b++; }

/* A timer keeps its callback as an index into a table (timer.h): each
 * timer runs the callback it was last started with. */
Test(timer, each_timer_runs_the_callback_it_was_last_started_with)
{
    ran_a = ran_b = 0;
    uint64_t t0 = timer_now();
    timer_start(&timers[0], 5, cb_a);
    timer_start(&timers[1], 5, cb_b);
    timer_start(&timers[2], 5, cb_a);
    timer_start(&timers[2], 5, cb_b); /* restarted with the other one */
    cr_assert_eq(timers_run(t0 + 100), 3);
    cr_assert_eq(ran_a, 1);
    cr_assert_eq(ran_b, 2);
    cr_assert_eq(sizeof(timer), 16, "a timer is 16 bytes (one or two per connection)");
}

/* Random starts, restarts and stops from anywhere in the heap, checked
 * against what each timer's last action says should happen. */
Test(timer, survives_random_starts_and_stops)
{
    reset_record();
    static bool expect[N];
    unsigned seed = 4242;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % N);
        if ((seed >> 4) % 3) {
            timer_start(&timers[i], (seed >> 12) % 1000, record);
            expect[i] = true;
        } else {
            timer_stop(&timers[i]);
            expect[i] = false;
        }
    }
    timers_run(timer_now() + 10000);
    cr_assert(!out_of_order, "timers ran out of deadline order");
    for (int i = 0; i < N; i++)
        cr_assert_eq(fired[i], expect[i] ? 1 : 0, "timer %d", i);
    cr_assert_eq(timers_next(), UINT64_MAX);
}
