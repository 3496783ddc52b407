/*
 * bench_strmap.c - ns per strmap_get / strmap_put on 20-character keys
 * (the length of socket ids), in a table that fits in cache (100 keys)
 * and in one that does not (100,000).  Not a test: built and run by hand,
 * against the current strmap.c or an older one, to compare hashes:
 *
 *   cc -O2 -DNDEBUG -Ihost tests/unit/bench_strmap.c host/base/strmap.c \
 *      host/base/random.c $(pkg-config --cflags --libs libsodium) -o /tmp/bench_strmap
 *   taskset -c 1 /tmp/bench_strmap
 */
#include "base/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void run(size_t n, size_t ops)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char(*keys)[21] = malloc(n * sizeof *keys);
    uint32_t seed = 42;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 20; c++) {
            seed = seed * 1103515245u + 12345u;
            keys[i][c] = chars[(seed >> 16) & 63];
        }
        keys[i][20] = '\0';
    }
    strmap m = STRMAP_INIT;
    for (size_t i = 0; i < n; i++)
        strmap_put(&m, keys[i], keys[i]);

    volatile uintptr_t sink = 0;
    double t0 = now_ns();
    for (size_t k = 0, i = 0; k < ops; k++, i = (i + 7919) % n)
        sink += (uintptr_t)strmap_get(&m, keys[i]);
    double t_get = (now_ns() - t0) / (double)ops;

    t0 = now_ns();
    for (size_t k = 0, i = 0; k < ops; k++, i = (i + 7919) % n)
        strmap_put(&m, keys[i], keys[i]); /* replaces: probe and store */
    double t_put = (now_ns() - t0) / (double)ops;

    t0 = now_ns();
    for (size_t k = 0, i = 0; k < ops / 2; k++, i = (i + 7919) % n) {
        strmap_del(&m, keys[i]);
        strmap_put(&m, keys[i], keys[i]);
    }
    double t_cycle = (now_ns() - t0) / (double)(ops / 2);

    printf("%7zu keys: get %6.1f ns/op  put(replace) %6.1f ns/op  del+put %6.1f ns/pair\n",
           n, t_get, t_put, t_cycle);
    strmap_free(&m);
    free(keys);
    (void)sink;
}

int main(void)
{
#ifdef BENCH_SEEDED
    if (!strmap_seed())
        return 1;
#endif
    for (int r = 0; r < 3; r++) {
        run(100, 20000000);
        run(100000, 5000000);
    }
    return 0;
}
