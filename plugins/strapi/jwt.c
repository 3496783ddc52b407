/*
 * jwt.c - verification of Strapi users-permissions JWTs (see jwt.h).
 *
 * Strapi signs its users' tokens with jsonwebtoken, HS256 and the plugin's
 * jwtSecret taken as the bytes of its string.  Two claim shapes exist: the
 * legacy mode's {id, iat, exp} and Strapi 5's refresh mode, whose access
 * tokens are {userId: "<id>", sessionId, type: "access", iat, exp} and whose
 * refresh tokens, signed with the same secret, carry type "refresh" - those
 * open a session with Strapi, not a socket, so they are refused here.
 *
 * The order of the checks is the one that lets an attacker steer the least:
 * the header alone decides the algorithm (exactly "HS256": no "none", no
 * HS512, no RS256 whose public key could pose as an HMAC secret), then the
 * signature is checked with CRYPTO_memcmp before the payload is parsed at
 * all, then the claims.  exp and nbf follow jsonwebtoken's rules (expired
 * when now >= exp; not before nbf); a token without exp is accepted, as
 * Strapi itself does.  iat must be a number when present, like
 * jsonwebtoken, and is not compared with the clock: Strapi does not, and a
 * Strapi host whose clock runs a second ahead would otherwise be refused.
 * The leeway defaults to 0 because that is what Strapi's own verify uses:
 * a token plugio accepts is one Strapi accepts at the same instant.
 *
 * base64url is decoded by hand: OpenSSL's EVP_DecodeBlock takes the other
 * alphabet, wants padding, skips whitespace and returns a length that
 * counts the padding's zero bytes, so adapting it would mean copying,
 * translating and re-padding every part; the strict decoder here is
 * shorter and refuses what a JWS may not contain (padding, whitespace,
 * non-zero trailing bits, a length of 1 mod 4), so no two spellings of one
 * token verify.  JSON goes through json-c, the host's JSON library; HMAC
 * through libcrypto's HMAC().
 */
#include "jwt.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decode `len` base64url characters into `out` (room for len*3/4 bytes).
 * Returns the decoded length, or -1 on anything a JWS may not hold. */
static long b64url_decode(const char *in, size_t len, unsigned char *out)
{
    if (len % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* leftover bits must be zero: one spelling per value */
        return -1;
    return (long)n;
}

/* Decode one part and parse it as a JSON object.  NULL if it is not one. */
static json_object *decode_json_part(const char *in, size_t len)
{
    unsigned char *buf = malloc(len * 3 / 4 + 1);
    if (!buf)
        return NULL;
    long n = b64url_decode(in, len, buf);
    json_object *obj = NULL;
    if (n > 0) {
        json_tokener *tok = json_tokener_new();
        if (tok) {
            obj = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
            /* Trailing bytes after the object, or an incomplete one. */
            if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
                        json_tokener_get_parse_end(tok) != (size_t)n)) {
                json_object_put(obj);
                obj = NULL;
            }
            json_tokener_free(tok);
        }
    }
    free(buf);
    if (obj && !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        obj = NULL;
    }
    return obj;
}

static enum strapi_jwt_result check_header(const char *in, size_t len)
{
    json_object *hdr = decode_json_part(in, len);
    if (!hdr)
        return STRAPI_JWT_MALFORMED;
    enum strapi_jwt_result r = STRAPI_JWT_OK;
    json_object *alg = NULL, *typ = NULL;
    if (!json_object_object_get_ex(hdr, "alg", &alg) ||
        !json_object_is_type(alg, json_type_string) ||
        strcmp(json_object_get_string(alg), "HS256") != 0 ||
        json_object_get_string_len(alg) != 5)
        r = STRAPI_JWT_UNSUPPORTED_ALG;
    else if (json_object_object_get_ex(hdr, "typ", &typ) &&
             (!json_object_is_type(typ, json_type_string) ||
              strcmp(json_object_get_string(typ), "JWT") != 0))
        r = STRAPI_JWT_UNSUPPORTED_ALG;
    json_object_put(hdr);
    return r;
}

static enum strapi_jwt_result check_signature(const struct strapi_jwt_key *key,
                                              const char *token, size_t signed_len,
                                              const char *sig, size_t sig_len)
{
    unsigned char given[48], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    /* 43 characters encode HS256's 32 bytes; anything else cannot match. */
    if (sig_len != 43 || b64url_decode(sig, sig_len, given) != 32)
        return STRAPI_JWT_BAD_SIGNATURE;
    if (!HMAC(EVP_sha256(), key->secret, (int)key->secret_len, (const unsigned char *)token,
              signed_len, mac, &mac_len) ||
        mac_len != 32)
        return STRAPI_JWT_BAD_SIGNATURE;
    return CRYPTO_memcmp(given, mac, 32) == 0 ? STRAPI_JWT_OK : STRAPI_JWT_BAD_SIGNATURE;
}

/* A NumericDate claim: absent (true, *present false), a number (true),
 * anything else (false). */
static bool numeric_claim(json_object *payload, const char *name, bool *present, int64_t *out)
{
    json_object *v = NULL;
    *present = json_object_object_get_ex(payload, name, &v);
    if (!*present)
        return true;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!(d > -9.0e15 && d < 9.0e15)) /* NaN, infinities, beyond seconds' range */
            return false;
        *out = (int64_t)d; /* jsonwebtoken compares fractions; seconds suffice here */
        return true;
    }
    return false;
}

static enum strapi_jwt_result check_times(json_object *payload, int64_t now, int64_t leeway)
{
    bool has_exp, has_nbf, has_iat;
    int64_t exp = 0, nbf = 0, iat = 0;
    if (!numeric_claim(payload, "exp", &has_exp, &exp) ||
        !numeric_claim(payload, "nbf", &has_nbf, &nbf) ||
        !numeric_claim(payload, "iat", &has_iat, &iat))
        return STRAPI_JWT_MALFORMED;
    (void)iat;
    /* Saturating sums: a huge exp or leeway cannot wrap into the past. */
    if (has_exp && (exp > INT64_MAX - leeway ? false : now >= exp + leeway))
        return STRAPI_JWT_EXPIRED;
    if (has_nbf && (now > INT64_MAX - leeway ? false : nbf > now + leeway))
        return STRAPI_JWT_NOT_YET_VALID;
    return STRAPI_JWT_OK;
}

static enum strapi_jwt_result copy_id(json_object *v, char user_id[STRAPI_JWT_ID_SIZE],
                                      bool string_only)
{
    int n;
    if (json_object_is_type(v, json_type_string)) {
        size_t len = (size_t)json_object_get_string_len(v);
        if (len == 0 || len >= STRAPI_JWT_ID_SIZE || memchr(json_object_get_string(v), 0, len))
            return STRAPI_JWT_MALFORMED;
        memcpy(user_id, json_object_get_string(v), len + 1);
        return STRAPI_JWT_OK;
    }
    if (string_only || !json_object_is_type(v, json_type_int))
        return STRAPI_JWT_MALFORMED;
    errno = 0;
    int64_t id = json_object_get_int64(v);
    if (errno != 0 || id < 0) /* out of int64's range, or no id Strapi gives */
        return STRAPI_JWT_MALFORMED;
    n = snprintf(user_id, STRAPI_JWT_ID_SIZE, "%" PRId64, id);
    return n > 0 && n < STRAPI_JWT_ID_SIZE ? STRAPI_JWT_OK : STRAPI_JWT_MALFORMED;
}

/* The two claim shapes: {userId, type: "access"} and legacy {id}. */
static enum strapi_jwt_result read_user(json_object *payload, char user_id[STRAPI_JWT_ID_SIZE])
{
    json_object *type = NULL, *v = NULL;
    if (json_object_object_get_ex(payload, "type", &type)) {
        if (!json_object_is_type(type, json_type_string))
            return STRAPI_JWT_MALFORMED;
        const char *t = json_object_get_string(type);
        if (strcmp(t, "refresh") == 0)
            return STRAPI_JWT_REFRESH_TOKEN;
        if (strcmp(t, "access") != 0 || !json_object_object_get_ex(payload, "userId", &v))
            return STRAPI_JWT_MALFORMED;
        return copy_id(v, user_id, true); /* Strapi writes String(id) */
    }
    if (!json_object_object_get_ex(payload, "id", &v))
        return STRAPI_JWT_MALFORMED;
    return copy_id(v, user_id, false);
}

enum strapi_jwt_result strapi_jwt_verify(const struct strapi_jwt_key *key, const char *token,
                                         int64_t now, char user_id[STRAPI_JWT_ID_SIZE])
{
    user_id[0] = '\0';
    size_t len = token ? strnlen(token, STRAPI_JWT_MAX_LEN + 1) : 0;
    if (len == 0 || len > STRAPI_JWT_MAX_LEN || key->leeway < 0)
        return STRAPI_JWT_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return STRAPI_JWT_MALFORMED;

    enum strapi_jwt_result r = check_header(token, (size_t)(dot1 - token));
    if (r == STRAPI_JWT_OK)
        r = check_signature(key, token, (size_t)(dot2 - token), dot2 + 1,
                            len - (size_t)(dot2 + 1 - token));
    if (r != STRAPI_JWT_OK)
        return r;

    json_object *payload = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!payload)
        return STRAPI_JWT_MALFORMED;
    r = check_times(payload, now, key->leeway);
    if (r == STRAPI_JWT_OK)
        r = read_user(payload, user_id);
    json_object_put(payload);
    if (r != STRAPI_JWT_OK)
        user_id[0] = '\0';
    return r;
}

const char *strapi_jwt_strerror(enum strapi_jwt_result r)
{
    switch (r) {
    case STRAPI_JWT_OK:
        return "ok";
    case STRAPI_JWT_MALFORMED:
        return "malformed";
    case STRAPI_JWT_UNSUPPORTED_ALG:
        return "unsupported alg";
    case STRAPI_JWT_BAD_SIGNATURE:
        return "bad signature";
    case STRAPI_JWT_EXPIRED:
        return "expired";
    case STRAPI_JWT_NOT_YET_VALID:
        return "not yet valid";
    case STRAPI_JWT_REFRESH_TOKEN:
        return "refresh token";
    }
    return "malformed";
}

int strapi_secret_resolve(const char *literal, const char *env_name, char **out,
                          const char **why)
{
    *out = NULL;
    if ((literal == NULL) == (env_name == NULL)) {
        *why = "give either the secret or the name of a variable holding it";
        return -1;
    }
    const char *value = literal;
    if (env_name) {
        value = getenv(env_name);
        if (!value || !*value) {
            *why = "the environment variable named for the secret is unset or empty";
            return -1;
        }
    } else if (!*value) {
        *why = "the secret is empty";
        return -1;
    }
    *out = strdup(value);
    if (!*out) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}
