/*
 * array.h - growing an array the owner holds as three fields: a pointer to
 * its elements, how many are in use, how many fit.
 *
 * One helper instead of a realloc in every module.  Capacity doubles, so
 * adding n elements one at a time costs O(n); the element count and the
 * byte size are checked for overflow; and a failure leaves the array as it
 * was, so the caller has only to report it.  The capacity may be any
 * unsigned type no wider than size_t (a socket keeps a uint32_t one to stay
 * small): it never grows past what that type holds.
 */
#ifndef PIO_ARRAY_H
#define PIO_ARRAY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * ARRAY_RESERVE(items, need, cap, first): make the array `items` (an
 * lvalue, the pointer to its elements) hold at least `need` elements.
 * When cap is smaller, items is reallocated to `first` elements (for a
 * new array, cap 0) or twice cap, doubled until need fits, and cap is
 * set.  True when the array holds need elements; false when memory or
 * the capacity's type ran out, with items and cap unchanged.  Arguments
 * may be evaluated more than once, and need must not read cap (it is
 * compared again after cap is assigned).
 *
 *     if (!ARRAY_RESERVE(d->items, d->count + 1, d->cap, 8))
 *         return false;
 *     d->items[d->count++] = item;
 */
#define ARRAY_RESERVE(items, need, cap, first)                                                     \
    ((need) <= (cap) ||                                                                            \
     ((cap) = array_grow_(&(items), sizeof *(items), (cap), (need), (first), ARRAY_MAX_OF(cap))) >= \
         (need))

/* The largest value of the unsigned integer type of x (no wider than size_t). */
#define ARRAY_MAX_OF(x) (SIZE_MAX >> (CHAR_BIT * (sizeof(size_t) - sizeof(x))))

/* ARRAY_RESERVE's work, for arrays of `size`-byte elements: the new
 * capacity, or cap when the array could not grow (*itemsp untouched).
 * itemsp is the address of the caller's element pointer; it is read and
 * written as a void *, which has the same representation as every object
 * pointer on the systems plugio runs on (POSIX requires it). */
static inline size_t array_grow_(void *itemsp, size_t size, size_t cap, size_t need,
                                 size_t first, size_t max)
{
    size_t n = cap ? cap : first ? first : 1;
    while (n < need) {
        if (n > max / 2)
            return cap;
        n *= 2;
    }
    if (n > max || n > SIZE_MAX / size)
        return cap;
    void *items;
    memcpy(&items, itemsp, sizeof items);
    items = realloc(items, n * size);
    if (!items)
        return cap;
    memcpy(itemsp, &items, sizeof items);
    return n;
}

#endif
