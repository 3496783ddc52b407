/*
 * api_token.h - Strapi API tokens checked against their stored hashes.
 *
 * Strapi keeps no API token in clear: its admin::api-token rows hold
 * accessKey = hex(HMAC-SHA512(key = the apiToken salt, the token)).  Given
 * the salt and those rows (name and hash), a token is checked here without
 * asking Strapi.  Pure functions; see api_token.c.
 */
#ifndef PLUGIO_STRAPI_API_TOKEN_H
#define PLUGIO_STRAPI_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* Hex of a SHA-512 HMAC, and its NUL. */
#define STRAPI_API_TOKEN_HASH_SIZE 129

/* The longest token looked at; Strapi's are 256 hex characters. */
#define STRAPI_API_TOKEN_MAX_LEN 1024

/* One stored token: borrowed strings, owned by the configuration. */
struct strapi_api_token {
    const char *name; /* the token's name in Strapi: room "token:<name>" */
    const char *hash; /* its accessKey column: 128 hex digits */
};

/* out = Strapi's hash of `token` under `salt` (lower-case hex).  Returns 0,
 * or -1 (out "") if libcrypto fails or the token is longer than
 * STRAPI_API_TOKEN_MAX_LEN. */
int strapi_api_token_hash(const char *salt, const char *token,
                          char out[STRAPI_API_TOKEN_HASH_SIZE]);

/* Whether `token` hashes to `stored` (128 hex digits, either case), compared
 * in constant time. */
bool strapi_api_token_matches(const char *salt, const char *token, const char *stored);

/* The first entry of `tokens` whose hash `token` has, or NULL (also for an empty
 * or too long token).  Every entry is compared, so the time taken does
 * not say how far down the list the match was. */
const struct strapi_api_token *strapi_api_token_find(const char *salt, const char *token,
                                                     const struct strapi_api_token *tokens,
                                                     size_t n);

/* out = "token:<name>", the room of the token's sockets.  Returns 0, or -1
 * (out "") when the name is empty or the room does not fit in `size`. */
int strapi_api_token_room(const char *name, char *out, size_t size);

#endif
