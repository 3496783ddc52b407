/*
 * prom_text.c - the Prometheus text exposition format (see prom_text.h).
 *
 * Written by hand: Debian packages no C library for it (prometheus-cpp
 * is C++ and brings its own registry, locking and HTTP server), and the
 * format is a few lines of text whose only
 * subtleties - escaping, cumulative buckets, `le` as a float - are tested
 * in tests/unit/test_prom_text.c and checked by promtool in
 * tests/e2e/metrics.test.js.
 */
#include "prom_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void prom_escape_label(buf *b, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            buf_append(b, "\\\\", 2);
        else if (*p == '"')
            buf_append(b, "\\\"", 2);
        else if (*p == '\n')
            buf_append(b, "\\n", 2);
        else
            buf_append_char(b, *p);
    }
}

static void escape_help(buf *b, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            buf_append(b, "\\n", 2);
        else
            buf_append_char(b, *p);
    }
}

void prom_family(buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s ", name);
    escape_help(b, help);
    buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void series(buf *b, const char *name, const char *suffix, const prom_label *labels,
                   size_t n)
{
    buf_append_str(b, name);
    buf_append_str(b, suffix);
    if (n > PROM_MAX_LABELS + 1)
        n = PROM_MAX_LABELS + 1;
    for (size_t i = 0; i < n; i++) {
        buf_append_char(b, i == 0 ? '{' : ',');
        buf_append_str(b, labels[i].name);
        buf_append(b, "=\"", 2);
        prom_escape_label(b, labels[i].value);
        buf_append_char(b, '"');
    }
    if (n)
        buf_append_char(b, '}');
    buf_append_char(b, ' ');
}

void prom_sample(buf *b, const char *name, const prom_label *labels, size_t n, uint64_t value)
{
    series(b, name, "", labels, n > PROM_MAX_LABELS ? PROM_MAX_LABELS : n);
    buf_printf(b, "%llu\n", (unsigned long long)value);
}

void prom_sample_double(buf *b, const char *name, const prom_label *labels, size_t n,
                        double value)
{
    series(b, name, "", labels, n > PROM_MAX_LABELS ? PROM_MAX_LABELS : n);
    if (isnan(value))
        buf_append_str(b, "NaN\n");
    else if (isinf(value))
        buf_append_str(b, value > 0 ? "+Inf\n" : "-Inf\n");
    else
        buf_printf(b, "%.17g\n", value);
}

void prom_seconds(buf *b, uint64_t ns)
{
    char frac[10];
    snprintf(frac, sizeof frac, "%09llu", (unsigned long long)(ns % 1000000000u));
    size_t len = 9;
    while (len > 0 && frac[len - 1] == '0')
        len--;
    buf_printf(b, "%llu", (unsigned long long)(ns / 1000000000u));
    if (len) {
        buf_append_char(b, '.');
        buf_append(b, frac, len);
    }
}

void prom_histogram(buf *b, const char *name, const prom_label *labels, size_t n,
                    const histogram *h)
{
    if (n > PROM_MAX_LABELS)
        n = PROM_MAX_LABELS;
    prom_label with_le[PROM_MAX_LABELS + 1];
    if (n)
        memcpy(with_le, labels, n * sizeof *labels);
    buf le = BUF_INIT;
    uint64_t total = 0;
    for (size_t i = 0; i <= h->bounds->n; i++) {
        total += h->counts[i];
        buf_clear(&le);
        if (i < h->bounds->n)
            prom_seconds(&le, h->bounds->ns[i]);
        else
            buf_append_str(&le, "+Inf");
        if (le.failed) {
            b->failed = true;
            break;
        }
        with_le[n] = (prom_label){"le", le.data};
        series(b, name, "_bucket", with_le, n + 1);
        buf_printf(b, "%llu\n", (unsigned long long)total);
    }
    buf_free(&le);
    series(b, name, "_sum", labels, n);
    prom_seconds(b, h->sum_ns);
    buf_append_char(b, '\n');
    series(b, name, "_count", labels, n);
    buf_printf(b, "%llu\n", (unsigned long long)total);
}
