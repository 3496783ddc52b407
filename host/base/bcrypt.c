/*
 * bcrypt.c - password checks against bcrypt hashes (see bcrypt.h).
 *
 * crypt_rn hashes the password with the hash as its setting (the salt and
 * cost are in it) into a crypt_data on the stack, so each call owns its
 * state and threads may check at once; the result is compared with the
 * hash in constant time (sodium_memcmp), and the password's traces in
 * that state are wiped.
 */
#include "bcrypt.h"

#include <crypt.h>
#include <sodium.h>
#include <string.h>

#define BCRYPT_LEN 60 /* "$2b$10$" + 53 */

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
}

bool bcrypt_hash_ok(const char *hash)
{
    if (!hash || strlen(hash) != BCRYPT_LEN || hash[0] != '$' || hash[1] != '2' ||
        !strchr("aby", hash[2]) || hash[3] != '$' || hash[6] != '$')
        return false;
    if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9')
        return false;
    int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < BCRYPT_LEN; i++)
        if (!is_b64(hash[i]))
            return false;
    return true;
}

bool bcrypt_check(const char *password, const char *hash)
{
    if (!password || !bcrypt_hash_ok(hash))
        return false;
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *out = crypt_rn(password, hash, &data, (int)sizeof data);
    bool match = out && strlen(out) == BCRYPT_LEN && sodium_memcmp(out, hash, BCRYPT_LEN) == 0;
    sodium_memzero(&data, sizeof data);
    return match;
}
