/*
 * random.h - the host's one source of unpredictable bytes: the kernel's
 * getrandom(2), never rand().  Session ids and the string map's hash key
 * come from here; when the kernel cannot give them, the caller refuses
 * (the server does not start, a handshake is closed) rather than use
 * something guessable.
 */
#ifndef PIO_RANDOM_H
#define PIO_RANDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Fill buf with n bytes, blocking until the kernel's pool is ready;
 * retries on EINTR and short reads.  False, with errno set, when the
 * kernel refuses (ENOSYS, a seccomp filter, ...); buf is then not usable. */
bool random_bytes(void *buf, size_t n);

/* Test hook: the function random_bytes reads through, with getrandom's
 * signature; NULL puts getrandom back. */
typedef ssize_t (*random_source_fn)(void *buf, size_t n, unsigned flags);
void random_set_source(random_source_fn fn);

#endif
