/*
 * jwt.h - verification of Strapi users-permissions JWTs (HS256 only).
 *
 * Pure functions over a token, a secret and a clock the caller passes in:
 * no state, no I/O, so the handshake can call them from any thread and the
 * tests can set the time.  See jwt.c for the rules and why.
 */
#ifndef PLUGIO_STRAPI_JWT_H
#define PLUGIO_STRAPI_JWT_H

#include <stddef.h>
#include <stdint.h>

/* The longest token looked at: larger ones are "malformed" before any
 * decoding.  Strapi's tokens are under 300 bytes. */
#define STRAPI_JWT_MAX_LEN 8192

/* Room for the user id and its NUL: Strapi's ids are integers, or their
 * decimal string in Strapi 5's access tokens. */
#define STRAPI_JWT_ID_SIZE 64

enum strapi_jwt_result {
    STRAPI_JWT_OK = 0,
    STRAPI_JWT_MALFORMED,       /* not three base64url parts of JSON objects, or bad claims */
    STRAPI_JWT_UNSUPPORTED_ALG, /* header alg other than exactly "HS256", or typ not JWT */
    STRAPI_JWT_BAD_SIGNATURE,   /* HMAC-SHA256 with the secret does not match */
    STRAPI_JWT_EXPIRED,         /* now >= exp + leeway */
    STRAPI_JWT_NOT_YET_VALID,   /* nbf > now + leeway */
    STRAPI_JWT_REFRESH_TOKEN,   /* type "refresh": a session token, not for connecting */
};

/* The caller's settings.  The secret is borrowed for the call only. */
struct strapi_jwt_key {
    const unsigned char *secret;
    size_t secret_len;
    /* Seconds of clock difference forgiven on exp and nbf; 0 (Strapi's own
     * verify) unless the configuration says otherwise. */
    int64_t leeway;
};

/* Verify `token` (NUL-terminated) at time `now` (seconds since the epoch).
 * On STRAPI_JWT_OK, `user_id` holds the user's id as a string: `id` of a
 * legacy token ({id: 3} -> "3"), `userId` of a Strapi 5 access token
 * ({userId: "1", type: "access"} -> "1").  On error it holds "". */
enum strapi_jwt_result strapi_jwt_verify(const struct strapi_jwt_key *key, const char *token,
                                         int64_t now, char user_id[STRAPI_JWT_ID_SIZE]);

/* The error's words for a log line or a connect_error: "expired",
 * "bad signature", "unsupported alg", "refresh token", "malformed",
 * "not yet valid"; "ok" for STRAPI_JWT_OK. Static strings. */
const char *strapi_jwt_strerror(enum strapi_jwt_result r);

/* The secret from the configuration: exactly one of `literal` (the secret
 * itself) and `env_name` (the name of an environment variable holding it)
 * is non-NULL.  Returns 0 and a malloc'd copy in *out (the caller frees
 * it), or -1 with a static reason in *why and *out NULL: both or neither
 * given, the variable unset or empty, an empty literal, out of memory. */
int strapi_secret_resolve(const char *literal, const char *env_name, char **out,
                          const char **why);

#endif
