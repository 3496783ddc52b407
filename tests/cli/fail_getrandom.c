/*
 * fail_getrandom.c - an LD_PRELOAD library for
 * tests/cli/refuses_without_randomness.sh: the kernel's random bytes are
 * unavailable, as under a seccomp filter that denies getrandom(2) or on a
 * kernel without it.
 *
 * plugio reads randomness through getrandom() only (host/base/random.c;
 * it has no /dev/urandom fallback by design), so interposing getrandom is
 * what the test needs; getentropy, glibc's wrapper over the same system
 * call, fails too, so that no code path in the process can draw bytes the
 * host would then trust.  FAIL_GETRANDOM_ERRNO picks the error (ENOSYS by
 * default, or EIO), so the test can show that the message carries the
 * kernel's reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

static int refusal(void)
{
    const char *e = getenv("FAIL_GETRANDOM_ERRNO");
    return e && strcmp(e, "EIO") == 0 ? EIO : ENOSYS;
}

__attribute__((visibility("default"))) ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
    (void)buf, (void)n, (void)flags;
    errno = refusal();
    return -1;
}

__attribute__((visibility("default"))) int getentropy(void *buf, size_t n)
{
    (void)buf, (void)n;
    errno = refusal();
    return -1;
}
