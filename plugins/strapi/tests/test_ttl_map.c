/*
 * test_ttl_map.c - the role cache's and the webhook window's map: expiry,
 * replacement, the size bound, de-duplication.
 */
#include "ttl_map.h"

#include <criterion/criterion.h>
#include <stdio.h>

Test(strapi_ttl_map, remembers_until_its_time_is_up)
{
    ttl_map *m = ttl_map_new(8);
    cr_assert(ttl_map_put(m, "3", "authenticated", 1000, 500));
    cr_assert_str_eq(ttl_map_get(m, "3", 1000), "authenticated");
    cr_assert_str_eq(ttl_map_get(m, "3", 1499), "authenticated");
    cr_assert_null(ttl_map_get(m, "3", 1500), "gone at its expiry");
    cr_assert_eq(ttl_map_count(m), 0, "dropped when met");
    cr_assert_null(ttl_map_get(m, "4", 0));
    ttl_map_free(m);
}

Test(strapi_ttl_map, a_put_replaces_the_key)
{
    ttl_map *m = ttl_map_new(8);
    cr_assert(ttl_map_put(m, "7", "public", 0, 100));
    cr_assert(ttl_map_put(m, "7", "editor", 50, 100));
    cr_assert_str_eq(ttl_map_get(m, "7", 120), "editor", "the second put's value and time");
    cr_assert_eq(ttl_map_count(m), 1);
    ttl_map_remove(m, "7");
    cr_assert_null(ttl_map_get(m, "7", 120));
    ttl_map_remove(m, "7"); /* absent: nothing happens */
    ttl_map_free(m);
}

Test(strapi_ttl_map, full_of_fresh_entries_refuses_and_evicts_only_stale_ones)
{
    ttl_map *m = ttl_map_new(4);
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert(ttl_map_put(m, key, "v", 0, i < 2 ? 10 : 1000));
    }
    cr_assert_not(ttl_map_put(m, "k4", "v", 5, 1000), "full of fresh entries");
    cr_assert_str_eq(ttl_map_get(m, "k0", 5), "v", "a refused put evicts nothing fresh");
    cr_assert(ttl_map_put(m, "k4", "v", 10, 1000), "the two stale ones make room");
    cr_assert_eq(ttl_map_count(m), 3);
    cr_assert_null(ttl_map_get(m, "k0", 10));
    cr_assert_str_eq(ttl_map_get(m, "k3", 10), "v");
    cr_assert_str_eq(ttl_map_get(m, "k4", 10), "v");
    ttl_map_free(m);
}

Test(strapi_ttl_map, seen_once_within_the_window)
{
    ttl_map *m = ttl_map_new(16);
    cr_assert_not(ttl_map_seen(m, "api::article.article|create|abc", 0, 2000));
    cr_assert(ttl_map_seen(m, "api::article.article|create|abc", 1999, 2000));
    cr_assert_not(ttl_map_seen(m, "api::article.article|update|abc", 1999, 2000),
                  "another action is another event");
    cr_assert_not(ttl_map_seen(m, "api::article.article|create|abc", 2000, 2000),
                  "after the window it is new again");
    ttl_map_free(m);
}

Test(strapi_ttl_map, many_keys_and_a_sweep)
{
    ttl_map *m = ttl_map_new(5000);
    char key[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%d", i);
        cr_assert(ttl_map_put(m, key, i % 2 ? "odd" : "even", 0, i % 2 ? 100 : 50));
    }
    cr_assert_eq(ttl_map_sweep(m, 60), 2500);
    cr_assert_str_eq(ttl_map_get(m, "4999", 60), "odd");
    cr_assert_null(ttl_map_get(m, "4998", 60));
    cr_assert_eq(ttl_map_sweep(m, 100), 0);
    ttl_map_free(m);
}

Test(strapi_ttl_map, no_map_of_size_zero)
{
    cr_assert_null(ttl_map_new(0));
    ttl_map_free(NULL);
}

Test(strapi_ttl_map, a_put_may_pass_what_get_returned_for_the_key)
{
    /* The role cache refreshed with the role it handed out: the value
     * lives in the entry the put replaces. */
    ttl_map *m = ttl_map_new(8);
    cr_assert(ttl_map_put(m, "9", "authenticated", 0, 100));
    cr_assert(ttl_map_put(m, "9", ttl_map_get(m, "9", 10), 10, 100));
    cr_assert_str_eq(ttl_map_get(m, "9", 105), "authenticated", "renewed, with its value");
    cr_assert_eq(ttl_map_count(m), 1);
    ttl_map_free(m);
}
