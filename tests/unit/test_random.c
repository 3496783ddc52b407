/*
 * random: getrandom read whole.  The kernel is swapped for a function
 * that interrupts, reads short or refuses, as a real one may.
 */
#include <criterion/criterion.h>

#include "base/random.h"

#include <errno.h>
#include <string.h>

static int n_calls;

/* EINTR first, then 3 bytes a call, counting up. */
static ssize_t interrupted_then_short(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    static unsigned char next;
    if (n_calls++ == 0) {
        errno = EINTR;
        return -1;
    }
    size_t k = n < 3 ? n : 3;
    for (size_t i = 0; i < k; i++)
        ((unsigned char *)buf)[i] = ++next;
    return (ssize_t)k;
}

static ssize_t refuses(void *buf, size_t n, unsigned flags)
{
    (void)buf, (void)n, (void)flags;
    n_calls++;
    errno = ENOSYS;
    return -1;
}

static ssize_t gives_nothing(void *buf, size_t n, unsigned flags)
{
    (void)buf, (void)n, (void)flags;
    n_calls++;
    return 0;
}

static void reset(void) { n_calls = 0; }
static void restore(void) { random_set_source(NULL); }
TestSuite(random, .init = reset, .fini = restore);

Test(random, retries_an_interrupted_call_and_reads_short_reads_whole)
{
    random_set_source(interrupted_then_short);
    unsigned char got[10];
    cr_assert(random_bytes(got, sizeof got));
    for (unsigned i = 0; i < sizeof got; i++)
        cr_assert_eq(got[i], i + 1, "byte %u", i);
    cr_assert_eq(n_calls, 1 + 4, "one EINTR, then 3+3+3+1");
}

Test(random, fails_with_the_kernels_reason_when_it_refuses)
{
    random_set_source(refuses);
    unsigned char got[16];
    errno = 0;
    cr_assert_not(random_bytes(got, sizeof got));
    cr_assert_eq(errno, ENOSYS);
    cr_assert_eq(n_calls, 1, "a refusal is not retried");
}

Test(random, fails_rather_than_spin_when_the_kernel_gives_nothing)
{
    random_set_source(gives_nothing);
    unsigned char got[16];
    cr_assert_not(random_bytes(got, sizeof got));
    cr_assert_eq(errno, EIO);
    cr_assert_eq(n_calls, 1);
}

Test(random, reads_the_real_kernel_by_default)
{
    unsigned char a[32] = {0}, b[32] = {0};
    cr_assert(random_bytes(a, sizeof a));
    cr_assert(random_bytes(b, sizeof b));
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
}
