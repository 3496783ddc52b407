/*
 * strapi_jwt.c - libFuzzer target: the Strapi bridge's JWT verification
 * (plugins/strapi/jwt.c), which reads the token a client sends in its
 * handshake's auth before anything else looks at it.
 *
 * Input: the token's bytes (cut at the first NUL, as a C string is).
 * Invariants: the result is one of the enum's; the user id is "" unless
 * the token verified; a token that verified has exactly three parts and
 * its third is the base64url HMAC-SHA256 of the first two under the
 * secret, and a user id of digits, letters, '-' or '_' no longer than the
 * id buffer.
 */
#include "fuzz.h"

#include "jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SECRET "fuzz-secret"
#define NOW 1700000000

static void base64url(const unsigned char *in, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        if (i + 1 < len)
            out[o++] = abc[v >> 6 & 63];
        if (i + 2 < len)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = malloc(size + 1);
    if (!token)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    struct strapi_jwt_key key = {(const unsigned char *)SECRET, strlen(SECRET), 0};
    char user[STRAPI_JWT_ID_SIZE];
    memset(user, 'x', sizeof user);
    enum strapi_jwt_result r = strapi_jwt_verify(&key, token, NOW, user);
    FUZZ_CHECK(r >= STRAPI_JWT_OK && r <= STRAPI_JWT_REFRESH_TOKEN);
    FUZZ_CHECK(memchr(user, '\0', sizeof user) != NULL);
    FUZZ_CHECK(strcmp(strapi_jwt_strerror(r), "") != 0);
    if (r != STRAPI_JWT_OK) {
        FUZZ_CHECK(user[0] == '\0');
        free(token);
        return 0;
    }
    char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    FUZZ_CHECK(dot1 && dot2 && !strchr(dot2 + 1, '.'));
    unsigned char mac[32];
    unsigned mac_len = 0;
    FUZZ_CHECK(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)token,
                    (size_t)(dot2 - token), mac, &mac_len) && mac_len == 32);
    char expected[48];
    base64url(mac, sizeof mac, expected);
    FUZZ_CHECK(strcmp(dot2 + 1, expected) == 0);
    FUZZ_CHECK(user[0] != '\0');
    free(token);
    return 0;
}
