/*
 * strmap: the string-keyed map behind rooms and socket ids.  Deletion by
 * backward shift is the subtle part: after any mix of puts and deletes,
 * every key still present must be found and every deleted one not.
 */
#include <criterion/criterion.h>

#include "base/strmap.h"

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
