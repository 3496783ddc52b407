/*
 * prom_text.h - the Prometheus text exposition format, version 0.0.4:
 * what web/metrics.c writes a scrape with.  Pure functions into a buf.
 *
 * A family is written as "# HELP", "# TYPE", then its samples, each
 * `name{label="value",...} number`.  Label values are escaped as the
 * format says (backslash, double quote, newline), HELP text likewise
 * (backslash, newline).  Histograms take a base/histogram.h one and write
 * the cumulative `_bucket{le=...}` series up to `+Inf`, `_sum` in seconds
 * and `_count`.
 */
#ifndef PIO_PROM_TEXT_H
#define PIO_PROM_TEXT_H

#include "base/buf.h"
#include "base/histogram.h"

#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_MAX_LABELS 4

typedef struct prom_label {
    const char *name;
    const char *value;
} prom_label;

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void prom_family(buf *b, const char *name, const char *type, const char *help);
/* One sample; at most PROM_MAX_LABELS labels (more are left out). */
void prom_sample(buf *b, const char *name, const prom_label *labels, size_t n, uint64_t value);
void prom_sample_double(buf *b, const char *name, const prom_label *labels, size_t n,
                        double value);
/* The series of histogram h under `name` (its family written first by the
 * caller, type "histogram"). */
void prom_histogram(buf *b, const char *name, const prom_label *labels, size_t n,
                    const histogram *h);

/* `value` escaped as a label value. */
void prom_escape_label(buf *b, const char *value);
/* Nanoseconds as decimal seconds, exact and without trailing zeros:
 * 5000 -> "0.000005", 2500000000 -> "2.5", 1000000000 -> "1". */
void prom_seconds(buf *b, uint64_t ns);

#endif
