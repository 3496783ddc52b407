/*
 * test_metrics.c - what /metrics is written with: the Prometheus text
 * writer (host/web/prom_text.c: escaping, histogram buckets and sums),
 * the histograms it reads (host/base/histogram.h).  server.metrics in the
 * configuration is tested with the rest of it (test_config.c).
 */
#include "base/histogram.h"
#include "web/prom_text.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* ---- the writer ---------------------------------------------------------- */

static buf out = BUF_INIT;

static void clear_out(void) { buf_free(&out); }

TestSuite(prom_text, .fini = clear_out);

Test(prom_text, escapes_backslash_quote_and_newline_in_label_values)
{
    prom_label l[] = {{"event", "a\\b\"c\nd"}};
    prom_sample(&out, "plugio_x_total", l, 1, 7);
    cr_assert_str_eq(out.data, "plugio_x_total{event=\"a\\\\b\\\"c\\nd\"} 7\n");
}

Test(prom_text, leaves_other_bytes_of_a_label_value_as_they_are)
{
    prom_label l[] = {{"namespace", "/caf\xc3\xa9 {x}=,'"}};
    prom_sample(&out, "m", l, 1, 0);
    cr_assert_str_eq(out.data, "m{namespace=\"/caf\xc3\xa9 {x}=,'\"} 0\n");
}

Test(prom_text, writes_help_escaped_and_type)
{
    prom_family(&out, "plugio_y", "gauge", "a \"quoted\" back\\slash\nnewline");
    cr_assert_str_eq(out.data, "# HELP plugio_y a \"quoted\" back\\\\slash\\nnewline\n"
                               "# TYPE plugio_y gauge\n");
}

Test(prom_text, writes_several_labels_in_order_and_none_without_braces)
{
    prom_label l[] = {{"namespace", "/"}, {"transport", "polling"}};
    prom_sample(&out, "s", l, 2, 3);
    prom_sample(&out, "t", NULL, 0, 18446744073709551615ull);
    cr_assert_str_eq(out.data, "s{namespace=\"/\",transport=\"polling\"} 3\n"
                               "t 18446744073709551615\n");
}

Test(prom_text, writes_doubles_and_the_special_values)
{
    prom_sample_double(&out, "a", NULL, 0, 0.25);
    prom_sample_double(&out, "b", NULL, 0, 1.0 / 0.0);
    prom_sample_double(&out, "c", NULL, 0, 0.0 / 0.0);
    cr_assert_str_eq(out.data, "a 0.25\nb +Inf\nc NaN\n");
}

Test(prom_text, writes_nanoseconds_as_exact_seconds)
{
    const struct {
        uint64_t ns;
        const char *text;
    } cases[] = {{0, "0"},         {5000, "0.000005"},   {1, "0.000000001"},
                 {2500000000ull, "2.5"}, {1000000000ull, "1"}, {123456789012ull, "123.456789012"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_clear(&out);
        prom_seconds(&out, cases[i].ns);
        cr_assert_str_eq(out.data, cases[i].text, "%llu ns", (unsigned long long)cases[i].ns);
    }
}

/* ---- histograms ---------------------------------------------------------- */

static const histogram_bounds three = {3, {1000, 2000, 5000}};

Test(histogram, puts_a_value_on_a_bound_in_that_bucket)
{
    histogram h = HISTOGRAM_INIT(&three);
    histogram_observe(&h, 1000); /* le="0.000001" includes it */
    histogram_observe(&h, 1001);
    histogram_observe(&h, 0);
    cr_assert_eq(h.counts[0], 2);
    cr_assert_eq(h.counts[1], 1);
    cr_assert_eq(h.counts[2], 0);
    cr_assert_eq(h.counts[3], 0);
}

Test(histogram, counts_what_is_over_every_bound_in_the_last_bucket)
{
    histogram h = HISTOGRAM_INIT(&three);
    histogram_observe(&h, 5001);
    histogram_observe(&h, UINT64_MAX / 2);
    cr_assert_eq(h.counts[3], 2);
    cr_assert_eq(histogram_cumulative(&h, 2), 0);
    cr_assert_eq(histogram_count(&h), 2);
}

Test(histogram, cumulates_and_sums)
{
    histogram h = HISTOGRAM_INIT(&three);
    uint64_t values[] = {500, 1500, 1999, 2000, 4000, 9000};
    uint64_t sum = 0;
    for (size_t i = 0; i < 6; i++) {
        histogram_observe(&h, values[i]);
        sum += values[i];
    }
    cr_assert_eq(histogram_cumulative(&h, 0), 1);
    cr_assert_eq(histogram_cumulative(&h, 1), 4);
    cr_assert_eq(histogram_cumulative(&h, 2), 5);
    cr_assert_eq(histogram_count(&h), 6);
    cr_assert_eq(h.sum_ns, sum);
}

Test(histogram, the_shared_tables_ascend)
{
    const histogram_bounds *tables[] = {&histogram_call_bounds, &histogram_reload_bounds};
    for (size_t t = 0; t < 2; t++) {
        cr_assert(tables[t]->n > 0 && tables[t]->n <= HISTOGRAM_MAX_BOUNDS);
        for (size_t i = 1; i < tables[t]->n; i++)
            cr_assert_gt(tables[t]->ns[i], tables[t]->ns[i - 1]);
    }
}

Test(prom_text, writes_a_histogram_with_cumulative_buckets_inf_sum_and_count)
{
    histogram h = HISTOGRAM_INIT(&three);
    histogram_observe(&h, 1000);
    histogram_observe(&h, 3000);
    histogram_observe(&h, 7000);
    prom_label l[] = {{"plugin", "chat"}};
    prom_histogram(&out, "d_seconds", l, 1, &h);
    cr_assert_str_eq(out.data, "d_seconds_bucket{plugin=\"chat\",le=\"0.000001\"} 1\n"
                               "d_seconds_bucket{plugin=\"chat\",le=\"0.000002\"} 1\n"
                               "d_seconds_bucket{plugin=\"chat\",le=\"0.000005\"} 2\n"
                               "d_seconds_bucket{plugin=\"chat\",le=\"+Inf\"} 3\n"
                               "d_seconds_sum{plugin=\"chat\"} 0.000011\n"
                               "d_seconds_count{plugin=\"chat\"} 3\n");
}

Test(prom_text, writes_an_unlabelled_empty_histogram)
{
    histogram h = HISTOGRAM_INIT(&three);
    prom_histogram(&out, "e", NULL, 0, &h);
    cr_assert_str_eq(out.data, "e_bucket{le=\"0.000001\"} 0\ne_bucket{le=\"0.000002\"} 0\n"
                               "e_bucket{le=\"0.000005\"} 0\ne_bucket{le=\"+Inf\"} 0\n"
                               "e_sum 0\ne_count 0\n");
}
