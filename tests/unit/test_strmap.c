/*
 * strmap: the string-keyed map behind rooms and socket ids.  Deletion by
 * backward shift is the subtle part: after any mix of puts and deletes,
 * every key still present must be found and every deleted one not.
 */
#include <criterion/criterion.h>

#include "base/random.h"
#include "base/strmap.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(strmap, finds_what_was_put_and_replaces_on_put)
{
    strmap m = STRMAP_INIT;
    int a = 1, b = 2;
    cr_assert_null(strmap_get(&m, "room"));
    cr_assert(strmap_put(&m, "room", &a));
    cr_assert_eq(strmap_get(&m, "room"), &a);
    cr_assert(strmap_put(&m, "room", &b));
    cr_assert_eq(strmap_get(&m, "room"), &b);
    cr_assert_eq(m.count, 1);
    cr_assert_eq(strmap_del(&m, "room"), &b);
    cr_assert_null(strmap_get(&m, "room"));
    cr_assert_null(strmap_del(&m, "room"));
    cr_assert_eq(m.count, 0);
    strmap_free(&m);
}

/* A deterministic mix of puts and deletes checked against a plain array. */
Test(strmap, survives_many_puts_and_deletes)
{
    enum { N = 5000 };
    static char keys[N][16];
    static bool present[N];
    strmap m = STRMAP_INIT;
    unsigned seed = 12345;
    for (int i = 0; i < N; i++)
        snprintf(keys[i], sizeof keys[i], "k%d", i);
    for (int step = 0; step < 50000; step++) {
        seed = seed * 1103515245u + 12345u;
        int k = (int)((seed >> 8) % N);
        if ((seed >> 4) & 1) {
            cr_assert(strmap_put(&m, keys[k], keys[k]));
            present[k] = true;
        } else {
            void *v = strmap_del(&m, keys[k]);
            cr_assert_eq(v, present[k] ? keys[k] : NULL, "step %d key %s", step, keys[k]);
            present[k] = false;
        }
    }
    size_t count = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(strmap_get(&m, keys[i]), present[i] ? keys[i] : NULL, "key %s", keys[i]);
        count += present[i];
    }
    cr_assert_eq(m.count, count);
    size_t it = 0, seen = 0;
    const char *key;
    void *value;
    while (strmap_next(&m, &it, &key, &value)) {
        cr_assert_eq(value, key);
        seen++;
    }
    cr_assert_eq(seen, count);
    strmap_free(&m);
}

/* ---- the hash key ------------------------------------------------------- */

static ssize_t no_randomness(void *buf, size_t n, unsigned flags)
{
    (void)buf, (void)n, (void)flags;
    errno = ENOSYS;
    return -1;
}

static unsigned char fixed_byte;
static ssize_t fixed_randomness(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    memset(buf, fixed_byte, n);
    return (ssize_t)n;
}

/* The order strmap_next walks 64 keys in: where they hashed to. */
static void walk_order(char order[64][8])
{
    static char keys[64][8];
    strmap m = STRMAP_INIT;
    for (int i = 0; i < 64; i++) {
        snprintf(keys[i], sizeof keys[i], "room%d", i);
        cr_assert(strmap_put(&m, keys[i], keys[i]));
    }
    size_t it = 0;
    const char *key;
    for (int i = 0; strmap_next(&m, &it, &key, NULL); i++)
        snprintf(order[i], 8, "%s", key);
    strmap_free(&m);
}

Test(strmap, refuses_to_seed_without_the_kernels_random_bytes)
{
    random_set_source(no_randomness);
    errno = 0;
    cr_assert_not(strmap_seed());
    cr_assert_eq(errno, ENOSYS, "the reason is left for the caller to log");
    random_set_source(NULL);
    cr_assert(strmap_seed());
}

/* Where keys land depends on the seed, and on nothing else: the same
 * bytes give the same order, other bytes another one. */
Test(strmap, where_keys_land_depends_on_the_random_key)
{
    static char a[64][8], b[64][8], c[64][8];
    random_set_source(fixed_randomness);
    fixed_byte = 1;
    cr_assert(strmap_seed());
    walk_order(a);
    walk_order(b);
    fixed_byte = 2;
    cr_assert(strmap_seed());
    walk_order(c);
    random_set_source(NULL);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    cr_assert_neq(memcmp(a, c, sizeof a), 0, "another key, another order");
}

Test(strmap, a_seeded_map_finds_what_was_put)
{
    cr_assert(strmap_seed());
    static char keys[1000][24];
    strmap m = STRMAP_INIT;
    for (int i = 0; i < 1000; i++) {
        snprintf(keys[i], sizeof keys[i], "socket-%d", i);
        cr_assert(strmap_put(&m, keys[i], keys[i]));
    }
    for (int i = 0; i < 1000; i += 2)
        cr_assert_eq(strmap_del(&m, keys[i]), keys[i]);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(strmap_get(&m, keys[i]), i % 2 ? keys[i] : NULL, "key %s", keys[i]);
    strmap_free(&m);
}
