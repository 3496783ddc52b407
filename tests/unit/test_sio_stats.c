/*
 * test_sio_stats.c - the Socket.IO layer's counters (host/socketio/
 * sio_stats.c): event names bounded by the configuration, each label value
 * once, slots and plugin histograms kept across bindings.  Bindings are
 * built by hand here: only the fields sio_stats reads.
 */
#include "socketio/sio_stats.h"

#include <criterion/criterion.h>
#include <string.h>

static void reset(void) { sio_stats_free(); }

TestSuite(sio_stats, .fini = reset);

#define MAX_EVENTS 8

/* A binding of `n` events (name, plugin), one middleware of `mw_plugin`. */
typedef struct fake {
    binding b;
    bound_event events[MAX_EVENTS];
    config_event cfg[MAX_EVENTS];
    bound_middleware mw;
    config_middleware mw_cfg;
    config conf;
} fake;

static void make(fake *f, const char *const (*events)[2], size_t n, const char *mw_plugin)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        f->cfg[i].name = (char *)events[i][0];
        f->cfg[i].nsp = "/";
        f->cfg[i].handler.plugin = (char *)events[i][1];
        f->events[i].cfg = &f->cfg[i];
    }
    f->b.events = f->events;
    f->b.n_events = n;
    f->mw_cfg.handler.plugin = (char *)mw_plugin;
    f->mw.cfg = &f->mw_cfg;
    f->b.middleware = &f->mw;
    f->b.n_middleware = mw_plugin ? 1 : 0;
    f->conf.metrics.enabled = true;
    f->b.cfg = &f->conf;
}

/* The counter of label `name`, or -1 when there is no such label; fails
 * when a label appears twice. */
static long long received(const char *name)
{
    long long v = -1;
    for (size_t i = 0; i < sio_counters.n_events; i++) {
        if (strcmp(sio_counters.events[i]->name, name) == 0) {
            cr_assert_eq(v, -1, "label '%s' twice", name);
            v = (long long)sio_counters.events[i]->received;
        }
    }
    return v;
}

Test(sio_stats, counts_a_bound_event_under_its_name_and_others_as_other)
{
    static const char *const ev[][2] = {{"chat", "a"}, {"typing", "a"}};
    fake f;
    make(&f, ev, 2, NULL);
    sio_stats_bind(&f.b);
    sio_stats_received(&f.events[0], "chat");
    sio_stats_received(&f.events[0], "chat");
    sio_stats_received(&f.events[1], "typing");
    sio_stats_received(NULL, "whatever-a-client-sends");
    sio_stats_received(NULL, "another");
    cr_assert_eq(received("chat"), 2);
    cr_assert_eq(received("typing"), 1);
    cr_assert_eq(received("_other"), 2);
    cr_assert_eq(received("whatever-a-client-sends"), -1, "no label for an unconfigured name");
    cr_assert_eq(sio_counters.n_events, SIO_STATS_FIXED + 2);
}

Test(sio_stats, an_unhandled_event_with_a_configured_name_keeps_its_name)
{
    static const char *const ev[][2] = {{"chat", "a"}};
    fake f;
    make(&f, ev, 1, NULL);
    sio_stats_bind(&f.b);
    sio_stats_received(NULL, "chat"); /* sent to a namespace without the handler */
    cr_assert_eq(received("chat"), 1);
}

Test(sio_stats, connection_and_disconnect_count_as_connect_and_disconnect)
{
    static const char *const ev[][2] = {{"connection", "a"}, {"disconnect", "a"}};
    fake f;
    make(&f, ev, 2, NULL);
    sio_stats_bind(&f.b);
    sio_stats_received(&f.events[0], "connection");
    sio_stats_received(NULL, "connection"); /* a namespace without a handler */
    sio_stats_received(&f.events[1], "disconnect");
    cr_assert_eq(received("connect"), 2);
    cr_assert_eq(received("disconnect"), 1);
    cr_assert_eq(received("connection"), -1);
}

Test(sio_stats, a_configured_name_equal_to_a_fixed_label_shares_its_slot)
{
    static const char *const ev[][2] = {{"_other", "a"}, {"connect", "a"}};
    fake f;
    make(&f, ev, 2, NULL);
    sio_stats_bind(&f.b);
    sio_stats_received(&f.events[0], "_other");
    sio_stats_received(&f.events[1], "connect");
    cr_assert_eq(received("_other"), 1); /* and each label once (received() checks) */
    cr_assert_eq(received("connect"), 1);
    cr_assert_eq(sio_counters.n_events, SIO_STATS_FIXED);
}

Test(sio_stats, emits_are_counted_by_name_with_the_same_bound)
{
    static const char *const ev[][2] = {{"chat", "a"}};
    fake f;
    make(&f, ev, 1, NULL);
    sio_stats_bind(&f.b);
    sio_stats_emitted("chat");
    sio_stats_emitted("welcome");
    cr_assert_eq(sio_counters.events[SIO_STATS_OTHER]->emitted, 1);
    cr_assert_eq(sio_counters.events[SIO_STATS_FIXED]->emitted, 1);
}

Test(sio_stats, counters_and_plugins_outlive_a_rebinding_that_drops_them)
{
    static const char *const one[][2] = {{"chat", "a"}, {"typing", "b"}};
    static const char *const two[][2] = {{"typing", "b"}, {"fresh", "c"}};
    fake f1, f2;
    make(&f1, one, 2, "a");
    sio_stats_bind(&f1.b);
    sio_stats_received(&f1.events[0], "chat");
    sio_stats_plugin *a = sio_stats_event_plugin(&f1.events[0]);
    cr_assert_not_null(a);
    cr_assert_str_eq(a->name, "a");
    cr_assert_eq(sio_stats_middleware_plugin(&f1.mw), a, "one entry per plugin name");
    histogram_observe(&a->handler, 1000);

    make(&f2, two, 2, NULL);
    sio_stats_bind(&f2.b);
    cr_assert_eq(received("chat"), 1, "kept: a counter never goes back");
    sio_stats_received(&f2.events[0], "typing");
    sio_stats_received(&f2.events[1], "fresh");
    cr_assert_eq(received("typing"), 1);
    cr_assert_eq(received("fresh"), 1);
    cr_assert_null(sio_stats_event_plugin(&f1.events[0]), "not of the bound binding");
    cr_assert_null(sio_stats_middleware_plugin(&f1.mw));
    cr_assert_eq(sio_counters.n_plugins, 3);
    cr_assert_eq(histogram_count(&a->handler), 1);
}

Test(sio_stats, counts_nothing_before_a_binding_and_after_unbinding_counts_other)
{
    sio_stats_received(NULL, "x");
    sio_stats_emitted("x");
    cr_assert_eq(sio_counters.n_events, 0);
    static const char *const ev[][2] = {{"chat", "a"}};
    fake f;
    make(&f, ev, 1, NULL);
    sio_stats_bind(&f.b);
    sio_stats_bind(NULL);
    sio_stats_received(&f.events[0], "chat"); /* looked up by name */
    cr_assert_eq(received("chat"), 1);
    cr_assert_null(sio_stats_event_plugin(&f.events[0]));
}

Test(sio_stats, nothing_is_timed_while_metrics_are_off)
{
    static const char *const ev[][2] = {{"chat", "a"}};
    fake f;
    make(&f, ev, 1, "a");
    f.conf.metrics.enabled = false;
    sio_stats_bind(&f.b);
    cr_assert_null(sio_stats_event_plugin(&f.events[0]));
    cr_assert_null(sio_stats_middleware_plugin(&f.mw));
    sio_stats_received(&f.events[0], "chat"); /* still counted */
    cr_assert_eq(received("chat"), 1);
    f.conf.metrics.enabled = true;
    sio_stats_bind(&f.b);
    cr_assert_not_null(sio_stats_event_plugin(&f.events[0]));
    cr_assert_not_null(sio_stats_middleware_plugin(&f.mw));
}

Test(sio_stats, emits_are_counted_only_while_metrics_are_on)
{
    static const char *const ev[][2] = {{"chat", "a"}};
    fake f;
    make(&f, ev, 1, NULL);
    f.conf.metrics.enabled = false;
    sio_stats_bind(&f.b);
    sio_stats_emitted("chat");
    sio_stats_emitted("welcome");
    cr_assert_eq(sio_counters.events[SIO_STATS_FIXED]->emitted, 0, "no lookup, no count");
    cr_assert_eq(sio_counters.events[SIO_STATS_OTHER]->emitted, 0);
    f.conf.metrics.enabled = true;
    sio_stats_bind(&f.b); /* the reload that turns them on */
    sio_stats_emitted("chat");
    sio_stats_emitted("welcome");
    cr_assert_eq(sio_counters.events[SIO_STATS_FIXED]->emitted, 1);
    cr_assert_eq(sio_counters.events[SIO_STATS_OTHER]->emitted, 1);
}
