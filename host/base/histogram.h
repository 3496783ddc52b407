/*
 * histogram.h - durations counted into fixed buckets, as Prometheus
 * histograms are exposed (web/metrics.c): cheap enough to observe on the
 * loop around every handler call.
 *
 * Bounds are whole nanoseconds in a static table, so an observation is a
 * short scan of integers (the first bounds are the common case) and two
 * additions; the sum is kept in nanoseconds, exact.  Counts are per
 * bucket; the cumulative counts Prometheus wants are summed at scrape.
 * Loop thread only: no atomics.
 */
#ifndef PIO_HISTOGRAM_H
#define PIO_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HISTOGRAM_MAX_BOUNDS 16

typedef struct histogram_bounds {
    size_t n;                           /* ascending, at most HISTOGRAM_MAX_BOUNDS */
    uint64_t ns[HISTOGRAM_MAX_BOUNDS];
} histogram_bounds;

/* 5 us to 1 s: a call into a plugin, a turn of the loop. */
extern const histogram_bounds histogram_call_bounds;
/* 1 ms to 10 s: a reload. */
extern const histogram_bounds histogram_reload_bounds;

typedef struct histogram {
    const histogram_bounds *bounds;
    uint64_t counts[HISTOGRAM_MAX_BOUNDS + 1]; /* [i]: at most bounds->ns[i] and over
                                                  the one before; [n]: over them all */
    uint64_t sum_ns;
} histogram;

#define HISTOGRAM_INIT(b) {.bounds = (b)}

static inline void histogram_observe(histogram *h, uint64_t ns)
{
    size_t i = 0, n = h->bounds->n;
    while (i < n && ns > h->bounds->ns[i])
        i++;
    h->counts[i]++;
    h->sum_ns += ns;
}

/* Observations at most bounds->ns[i] (i == bounds->n: all of them). */
uint64_t histogram_cumulative(const histogram *h, size_t i);
uint64_t histogram_count(const histogram *h);

/* CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call). */
static inline uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
