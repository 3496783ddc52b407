/*
 * bcrypt.h - checking a password against a bcrypt hash, as the Admin UI's
 * login does (@socket.io/admin-ui compares with bcryptjs).
 *
 * The hashing is libxcrypt's (crypt_rn, which knows $2a$, $2b$ and $2y$):
 * plugio only checks a hash's shape and compares the result in constant
 * time.  A check costs what the hash's cost factor says (about 50-100 ms
 * at cost 10): callers run it off the event loop.
 */
#ifndef PIO_BCRYPT_H
#define PIO_BCRYPT_H

#include <stdbool.h>

/* hash is "$2a$" / "$2b$" / "$2y$", a cost of two digits from 04 to 31,
 * "$", then 53 characters of bcrypt's base64 (22 of salt, 31 of hash). */
bool bcrypt_hash_ok(const char *hash);
/* The password matches the hash (a hash that is not bcrypt_hash_ok
 * matches nothing).  Safe to call from several threads at once. */
bool bcrypt_check(const char *password, const char *hash);

#endif
