/*
 * api_token.c - Strapi API tokens checked against their stored hashes
 * (see api_token.h).
 *
 * Strapi 5 (packages/core/admin/server/src/services/api-token.ts, `hash`)
 * stores crypto.createHmac('sha512', salt).update(accessKey).digest('hex'):
 * the salt string's bytes are the HMAC key - it is not base64-decoded even
 * though Strapi suggests generating it with randomBytes().toString('base64')
 * - and the token's UTF-8 bytes the message.  Verifying a token is
 * computing that hash and comparing it with the stored one, which Strapi
 * looks up by equality in its database; here the comparison is
 * CRYPTO_memcmp over the 64 decoded bytes so neither a prefix nor the hex
 * digits' case leaks through timing.  Expiry (expiresAt) and the token's
 * permissions stay Strapi's business: whoever builds the list decides
 * which rows to put in it.
 */
#include "api_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define DIGEST_LEN 64

static int hmac_sha512(const char *salt, const char *token, unsigned char mac[DIGEST_LEN])
{
    size_t len = strnlen(token, STRAPI_API_TOKEN_MAX_LEN + 1);
    unsigned int mac_len = 0;
    if (len > STRAPI_API_TOKEN_MAX_LEN ||
        !HMAC(EVP_sha512(), salt, (int)strlen(salt), (const unsigned char *)token, len, mac,
              &mac_len) ||
        mac_len != DIGEST_LEN)
        return -1;
    return 0;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 64 bytes of a stored hash, or -1 if it is not 128 hex digits. */
static int stored_digest(const char *stored, unsigned char out[DIGEST_LEN])
{
    if (!stored || strnlen(stored, 2 * DIGEST_LEN + 1) != 2 * DIGEST_LEN)
        return -1;
    for (int i = 0; i < DIGEST_LEN; i++) {
        int hi = hex_value((unsigned char)stored[2 * i]);
        int lo = hex_value((unsigned char)stored[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int strapi_api_token_hash(const char *salt, const char *token,
                          char out[STRAPI_API_TOKEN_HASH_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char mac[DIGEST_LEN];
    out[0] = '\0';
    if (hmac_sha512(salt, token, mac) != 0)
        return -1;
    for (int i = 0; i < DIGEST_LEN; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[2 * DIGEST_LEN] = '\0';
    return 0;
}

static bool digest_matches(const unsigned char mac[DIGEST_LEN], const char *stored)
{
    unsigned char want[DIGEST_LEN];
    return stored_digest(stored, want) == 0 && CRYPTO_memcmp(mac, want, DIGEST_LEN) == 0;
}

bool strapi_api_token_matches(const char *salt, const char *token, const char *stored)
{
    unsigned char mac[DIGEST_LEN];
    return token && *token && hmac_sha512(salt, token, mac) == 0 && digest_matches(mac, stored);
}

const struct strapi_api_token *strapi_api_token_find(const char *salt, const char *token,
                                                     const struct strapi_api_token *tokens,
                                                     size_t n)
{
    unsigned char mac[DIGEST_LEN];
    const struct strapi_api_token *found = NULL;
    if (!token || !*token || hmac_sha512(salt, token, mac) != 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (digest_matches(mac, tokens[i].hash) && !found)
            found = &tokens[i];
    return found;
}

int strapi_api_token_room(const char *name, char *out, size_t size)
{
    if (size > 0)
        out[0] = '\0';
    if (!name || !*name)
        return -1;
    int n = snprintf(out, size, "token:%s", name);
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
