/*
 * test_array.c - growing an array with ARRAY_RESERVE (host/base/array.h): the
 * capacities it picks, that elements survive a move, and that a capacity
 * its type cannot hold or a byte size that would wrap leaves the array
 * exactly as it was.
 */
#include "base/array.h"

#include <criterion/criterion.h>
#include <stdint.h>

Test(array, starts_at_first_then_doubles)
{
    int *a = NULL;
    size_t cap = 0;
    cr_assert(ARRAY_RESERVE(a, 1, cap, 4));
    cr_assert_eq(cap, 4);
    cr_assert(ARRAY_RESERVE(a, 5, cap, 4));
    cr_assert_eq(cap, 8);
    cr_assert(ARRAY_RESERVE(a, 100, cap, 4), "doubles as often as it takes");
    cr_assert_eq(cap, 128);
    free(a);
}

Test(array, a_new_array_needing_more_than_first_doubles_from_first)
{
    char *a = NULL;
    size_t cap = 0;
    cr_assert(ARRAY_RESERVE(a, 65, cap, 64));
    cr_assert_eq(cap, 128);
    free(a);
}

Test(array, leaves_an_array_with_room_alone)
{
    int *a = malloc(8 * sizeof *a), *was = a;
    size_t cap = 8;
    cr_assert(ARRAY_RESERVE(a, 8, cap, 4));
    cr_assert_eq(a, was);
    cr_assert_eq(cap, 8);
    free(a);
}

Test(array, keeps_the_elements_when_it_moves_them)
{
    size_t *a = NULL, n = 0, cap = 0;
    for (size_t i = 0; i < 1000; i++) {
        cr_assert(ARRAY_RESERVE(a, n + 1, cap, 4));
        a[n++] = i * 7;
    }
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(a[i], i * 7);
    cr_assert_eq(cap, 1024);
    free(a);
}

Test(array, works_with_a_narrower_capacity_type)
{
    double *a = NULL;
    uint32_t n = 0, cap = 0;
    for (int i = 0; i < 20; i++) {
        cr_assert(ARRAY_RESERVE(a, n + 1, cap, 4));
        a[n++] = i;
    }
    cr_assert_eq(cap, 32);
    free(a);
}

Test(array, refuses_a_capacity_its_type_cannot_hold)
{
    char *a = NULL;
    uint8_t cap = 0;
    cr_assert(ARRAY_RESERVE(a, 128, cap, 4));
    cr_assert_eq(cap, 128);
    char *was = a;
    cr_assert_not(ARRAY_RESERVE(a, 129, cap, 4), "256 does not fit a uint8_t");
    cr_assert_eq(cap, 128);
    cr_assert_eq(a, was);
    free(a);
}

Test(array, refuses_a_byte_size_that_would_wrap)
{
    struct sixteen {
        char bytes[16];
    } *a = NULL;
    size_t cap = SIZE_MAX / 32 + 1; /* twice that, times 16, wraps */
    size_t need = cap + 1;
    cr_assert_not(ARRAY_RESERVE(a, need, cap, 4));
    cr_assert_eq(cap, SIZE_MAX / 32 + 1);
    cr_assert_null(a);
    cap = SIZE_MAX / 2 + 1; /* cannot even double */
    need = cap + 1;
    cr_assert_not(ARRAY_RESERVE(a, need, cap, 4));
    cr_assert_eq(cap, SIZE_MAX / 2 + 1);
    cr_assert_null(a);
}
