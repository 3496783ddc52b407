/* random.c - getrandom, read whole (see random.h). */
#include "random.h"

#include <errno.h>
#include <sys/random.h>

static random_source_fn source = getrandom;

void random_set_source(random_source_fn fn) { source = fn ? fn : getrandom; }

bool random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n) {
        ssize_t got = source(p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = EIO; /* no progress: do not spin */
            return false;
        }
        p += got;
        n -= (size_t)got;
    }
    return true;
}
