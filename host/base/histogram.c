/*
 * histogram.c - the bucket tables and the sums read at scrape (see
 * histogram.h).  The bounds follow the 1-2.5-5 steps Prometheus client
 * libraries use, so dashboards built for them read plugio's too.
 */
#include "histogram.h"

#define US 1000ull
#define MS 1000000ull
#define S 1000000000ull

const histogram_bounds histogram_call_bounds = {
    16,
    {5 * US, 10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, 1 * MS, 2500 * US,
     5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 1 * S},
};

const histogram_bounds histogram_reload_bounds = {
    12,
    {1 * MS, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, 1 * S, 2500 * MS,
     5 * S, 10 * S},
};

uint64_t histogram_cumulative(const histogram *h, size_t i)
{
    uint64_t total = 0;
    for (size_t k = 0; k <= i && k <= h->bounds->n; k++)
        total += h->counts[k];
    return total;
}

uint64_t histogram_count(const histogram *h) { return histogram_cumulative(h, h->bounds->n); }
