/*
 * test_jwt.c - Strapi users-permissions JWTs: both claim shapes, the clock,
 * and every way a token is refused.
 *
 * Tokens are signed here with libcrypto and a known secret (sign() below),
 * and two were signed by Node's crypto for an independent check of the
 * HMAC and base64url:
 *
 *   const b = o => Buffer.from(JSON.stringify(o)).toString("base64url");
 *   const i = b({alg: "HS256", typ: "JWT"}) + "." + b(payload);
 *   i + "." + crypto.createHmac("sha256", "plugio-jwt-secret").update(i).digest("base64url")
 *
 * with payload {id: 3, iat: 1700000000, exp: 1702592000} and
 * {userId: "1", sessionId: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", type: "access",
 *  iat: 1700000000, exp: 1700001800}.
 */
#include "jwt.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define SECRET "plugio-jwt-secret"
#define NOW 1700000100
#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const struct strapi_jwt_key key = {(const unsigned char *)SECRET, sizeof SECRET - 1, 0};

static char *b64url(const unsigned char *in, size_t len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len * 4 / 3 + 4), *p = out;
    cr_assert(out);
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *p++ = a[v >> 18], *p++ = a[v >> 12 & 63], *p++ = a[v >> 6 & 63], *p++ = a[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        *p++ = a[v >> 18], *p++ = a[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        *p++ = a[v >> 18], *p++ = a[v >> 12 & 63], *p++ = a[v >> 6 & 63];
    }
    *p = '\0';
    return out;
}

/* header.payload.signature with HMAC(md, secret); the caller frees it. */
static char *sign_md(const char *header, const char *payload, const char *secret,
                     const EVP_MD *md)
{
    char *h = b64url((const unsigned char *)header, strlen(header));
    char *p = b64url((const unsigned char *)payload, strlen(payload));
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *token = malloc(in_len + 200);
    cr_assert(token);
    strcpy(token, h);
    strcat(token, ".");
    strcat(token, p);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    cr_assert(HMAC(md, secret, (int)strlen(secret), (unsigned char *)token, in_len, mac, &mac_len));
    char *s = b64url(mac, mac_len);
    strcat(token, ".");
    strcat(token, s);
    free(h), free(p), free(s);
    return token;
}

static char *sign(const char *header, const char *payload)
{
    return sign_md(header, payload, SECRET, EVP_sha256());
}

/* Verify and check both the result and the id. */
static void expect(const char *token, int64_t now, enum strapi_jwt_result want, const char *id)
{
    char user_id[STRAPI_JWT_ID_SIZE] = "junk";
    enum strapi_jwt_result r = strapi_jwt_verify(&key, token, now, user_id);
    cr_assert_eq(r, want, "%s: got \"%s\", want \"%s\"", token ? token : "(null)",
                 strapi_jwt_strerror(r), strapi_jwt_strerror(want));
    cr_assert_str_eq(user_id, id);
}

static void expect_payload(const char *payload, enum strapi_jwt_result want, const char *id)
{
    char *t = sign(HS256, payload);
    expect(t, NOW, want, id);
    free(t);
}

static void expect_header(const char *header, enum strapi_jwt_result want)
{
    char *t = sign(header, "{\"id\":3}");
    expect(t, NOW, want, "");
    free(t);
}

Test(strapi_jwt, accepts_legacy_id_claim)
{
    expect_payload("{\"id\":3,\"iat\":1700000000,\"exp\":1702592000}", STRAPI_JWT_OK, "3");
    expect_payload("{\"id\":\"42\"}", STRAPI_JWT_OK, "42");
}

Test(strapi_jwt, accepts_strapi5_access_token)
{
    expect_payload("{\"userId\":\"1\",\"sessionId\":\"ab\",\"type\":\"access\","
                   "\"iat\":1700000000,\"exp\":1700001800}",
                   STRAPI_JWT_OK, "1");
}

Test(strapi_jwt, accepts_tokens_signed_by_node)
{
    expect("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6MywiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MD"
           "I1OTIwMDB9.GGiPN4Iv6gi2FIfed6Gr4s0euZ7QJr0KIGh6SXl5Od4",
           NOW, STRAPI_JWT_OK, "3");
    expect("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiIxIiwic2Vzc2lvbklkIjoiMGYxZTJkM2"
           "M0YjVhNjk3ODg3OTZhNWI0YzNkMmUxZjAiLCJ0eXBlIjoiYWNjZXNzIiwiaWF0IjoxNzAwMDAwMDAwLCJleH"
           "AiOjE3MDAwMDE4MDB9.OTwaJ63xgfSgNaxz5c6ujxALn_tBZm-pPLgmd8ehyyM",
           NOW, STRAPI_JWT_OK, "1");
}

Test(strapi_jwt, honours_exp_at_the_second)
{
    char *t = sign(HS256, "{\"id\":3,\"exp\":1700000100}");
    expect(t, 1700000099, STRAPI_JWT_OK, "3"); /* exp just in the future */
    expect(t, 1700000100, STRAPI_JWT_EXPIRED, ""); /* jsonwebtoken: now >= exp */
    expect(t, 1800000000, STRAPI_JWT_EXPIRED, "");
    free(t);
}

Test(strapi_jwt, leeway_forgives_that_many_seconds)
{
    char *t = sign(HS256, "{\"id\":3,\"exp\":1700000100,\"nbf\":1700000100}");
    struct strapi_jwt_key k = key;
    char id[STRAPI_JWT_ID_SIZE];
    k.leeway = 10;
    cr_assert_eq(strapi_jwt_verify(&k, t, 1700000109, id), STRAPI_JWT_OK);
    cr_assert_eq(strapi_jwt_verify(&k, t, 1700000110, id), STRAPI_JWT_EXPIRED);
    cr_assert_eq(strapi_jwt_verify(&k, t, 1700000090, id), STRAPI_JWT_OK);
    cr_assert_eq(strapi_jwt_verify(&k, t, 1700000089, id), STRAPI_JWT_NOT_YET_VALID);
    k.leeway = -1;
    cr_assert_eq(strapi_jwt_verify(&k, t, 1700000100, id), STRAPI_JWT_MALFORMED);
    free(t);
}

Test(strapi_jwt, far_exp_does_not_wrap)
{
    struct strapi_jwt_key k = key;
    char id[STRAPI_JWT_ID_SIZE];
    k.leeway = 100;
    char *t = sign(HS256, "{\"id\":3,\"exp\":9223372036854775807}");
    cr_assert_eq(strapi_jwt_verify(&k, t, NOW, id), STRAPI_JWT_OK);
    free(t);
}

Test(strapi_jwt, honours_nbf)
{
    expect_payload("{\"id\":3,\"nbf\":1700000101}", STRAPI_JWT_NOT_YET_VALID, "");
    expect_payload("{\"id\":3,\"nbf\":1700000100}", STRAPI_JWT_OK, "3");
}

Test(strapi_jwt, time_claims_must_be_numbers)
{
    expect_payload("{\"id\":3,\"exp\":\"1800000000\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3,\"nbf\":null}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3,\"iat\":\"yesterday\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3,\"exp\":1e400}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3,\"exp\":1800000000.5,\"iat\":1700000000.25}", STRAPI_JWT_OK, "3");
}

Test(strapi_jwt, refuses_a_wrong_secret)
{
    char *t = sign_md(HS256, "{\"id\":3}", "another-secret", EVP_sha256());
    expect(t, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    free(t);
}

Test(strapi_jwt, refuses_a_changed_payload)
{
    char *t = sign(HS256, "{\"id\":3}");
    char *other = sign(HS256, "{\"id\":1}");
    /* other's header and payload with t's signature */
    strcpy(strrchr(other, '.'), strrchr(t, '.'));
    expect(other, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    /* and a signature cut short, or spelled with non-zero trailing bits */
    char *sig = strrchr(t, '.') + 1;
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t v = (size_t)(strchr(a, sig[42]) - a);
    sig[42] = a[v ^ 4]; /* one bit of the last byte: the whole MAC is compared */
    expect(t, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    sig[42] = a[v | 1]; /* same 4 data bits, a spare bit set: another spelling */
    expect(t, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    sig[20] = '\0';
    expect(t, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    free(t), free(other);
}

Test(strapi_jwt, refuses_alg_none)
{
    /* the classic: no signature at all, or one made with the secret anyway */
    expect("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpZCI6M30.", NOW, STRAPI_JWT_UNSUPPORTED_ALG,
           "");
    expect_header("{\"alg\":\"none\"}", STRAPI_JWT_UNSUPPORTED_ALG);
}

Test(strapi_jwt, refuses_other_algs)
{
    char *t = sign_md("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", "{\"id\":3}", SECRET, EVP_sha512());
    expect(t, NOW, STRAPI_JWT_UNSUPPORTED_ALG, "");
    free(t);
    expect_header("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", STRAPI_JWT_UNSUPPORTED_ALG);
    expect_header("{\"alg\":\"hs256\"}", STRAPI_JWT_UNSUPPORTED_ALG);
    expect_header("{\"alg\":\"HS256\\u0000\"}", STRAPI_JWT_UNSUPPORTED_ALG);
    expect_header("{\"alg\":[\"HS256\"]}", STRAPI_JWT_UNSUPPORTED_ALG);
    expect_header("{\"typ\":\"JWT\"}", STRAPI_JWT_UNSUPPORTED_ALG);
}

Test(strapi_jwt, typ_must_be_jwt_when_present)
{
    expect_header("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", STRAPI_JWT_UNSUPPORTED_ALG);
    expect_header("{\"alg\":\"HS256\",\"typ\":1}", STRAPI_JWT_UNSUPPORTED_ALG);
    char *t = sign("{\"alg\":\"HS256\"}", "{\"id\":3}");
    expect(t, NOW, STRAPI_JWT_OK, "3");
    free(t);
}

Test(strapi_jwt, refuses_refresh_tokens)
{
    expect_payload("{\"userId\":\"1\",\"sessionId\":\"ab\",\"type\":\"refresh\","
                   "\"iat\":1700000000,\"exp\":1702592000}",
                   STRAPI_JWT_REFRESH_TOKEN, "");
}

Test(strapi_jwt, refuses_claims_without_a_user)
{
    expect_payload("{}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"userId\":\"1\"}", STRAPI_JWT_MALFORMED, ""); /* userId needs type */
    expect_payload("{\"type\":\"access\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"type\":\"access\",\"userId\":1}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"type\":\"session\",\"userId\":\"1\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"type\":7,\"id\":3}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3.5}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":-1}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":\"\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":true}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":\"a\\u0000b\"}", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
                   STRAPI_JWT_MALFORMED, "");
}

Test(strapi_jwt, refuses_wrong_numbers_of_parts)
{
    expect(NULL, NOW, STRAPI_JWT_MALFORMED, "");
    expect("", NOW, STRAPI_JWT_MALFORMED, "");
    expect("eyJhbGciOiJIUzI1NiJ9.eyJpZCI6M30", NOW, STRAPI_JWT_MALFORMED, "");
    char *t = sign(HS256, "{\"id\":3}");
    char *four = malloc(strlen(t) + 3);
    strcpy(four, t);
    strcat(four, ".x");
    expect(four, NOW, STRAPI_JWT_MALFORMED, "");
    free(t), free(four);
}

Test(strapi_jwt, refuses_bad_base64)
{
    char *t = sign(HS256, "{\"id\":3}");
    char *copy = strdup(t);
    copy[3] = '*'; /* in the header */
    expect(copy, NOW, STRAPI_JWT_MALFORMED, "");
    strcpy(copy, t);
    copy[strlen(copy) - 1] = '='; /* padding in the signature */
    expect(copy, NOW, STRAPI_JWT_BAD_SIGNATURE, "");
    free(copy), free(t);
    expect("eyJhbGciOiJIUzI1NiJ9=.eyJpZCI6M30.x", NOW, STRAPI_JWT_MALFORMED, "");
    expect("eyJhbGciOiJIUzI1NiJ9A.eyJpZCI6M30.x", NOW, STRAPI_JWT_MALFORMED, ""); /* 1 mod 4 */
}

Test(strapi_jwt, refuses_a_signed_payload_that_is_not_json)
{
    expect_payload("{\"id\":3", STRAPI_JWT_MALFORMED, "");
    expect_payload("{\"id\":3}x", STRAPI_JWT_MALFORMED, "");
    expect_payload("[3]", STRAPI_JWT_MALFORMED, "");
    expect_payload("3", STRAPI_JWT_MALFORMED, "");
    expect_header("[\"HS256\"]", STRAPI_JWT_MALFORMED);
    expect_header("not json", STRAPI_JWT_MALFORMED);
}

Test(strapi_jwt, refuses_huge_tokens)
{
    size_t n = STRAPI_JWT_MAX_LEN;
    char *payload = malloc(n + 32);
    strcpy(payload, "{\"id\":3,\"pad\":\"");
    memset(payload + strlen(payload), 'x', n);
    payload[15 + n] = '\0';
    strcpy(payload + strlen(payload), "\"}");
    char *t = sign(HS256, payload); /* validly signed, but too long */
    expect(t, NOW, STRAPI_JWT_MALFORMED, "");
    free(t), free(payload);
}

/* A validly signed token of exactly `len` characters, or NULL. */
static char *token_of_length(size_t len)
{
    static const char *headers[] = {HS256, "{\"alg\":\"HS256\"}",
                                    "{\"alg\":\"HS256\",\"kid\":\"k\"}"};
    char *payload = malloc(len + 32);
    cr_assert(payload);
    for (size_t h = 0; h < 3; h++)
        for (size_t pad = len / 2; pad < len; pad++) {
            sprintf(payload, "{\"id\":3,\"pad\":\"%0*d\"}", (int)pad, 0);
            char *t = sign(headers[h], payload);
            size_t n = strlen(t);
            if (n == len) {
                free(payload);
                return t;
            }
            free(t);
            if (n > len)
                break;
        }
    free(payload);
    return NULL;
}

Test(strapi_jwt, takes_tokens_up_to_the_limit)
{
    char *t = token_of_length(STRAPI_JWT_MAX_LEN);
    cr_assert_not_null(t);
    expect(t, NOW, STRAPI_JWT_OK, "3");
    free(t);
    t = token_of_length(STRAPI_JWT_MAX_LEN + 1);
    cr_assert_not_null(t);
    expect(t, NOW, STRAPI_JWT_MALFORMED, "");
    free(t);
}

Test(strapi_jwt, names_its_errors)
{
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_OK), "ok");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_EXPIRED), "expired");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_BAD_SIGNATURE), "bad signature");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_UNSUPPORTED_ALG), "unsupported alg");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_REFRESH_TOKEN), "refresh token");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_MALFORMED), "malformed");
    cr_assert_str_eq(strapi_jwt_strerror(STRAPI_JWT_NOT_YET_VALID), "not yet valid");
}

Test(strapi_secret, from_the_config)
{
    char *s = NULL;
    const char *why = NULL;
    cr_assert_eq(strapi_secret_resolve("abc", NULL, &s, &why), 0);
    cr_assert_str_eq(s, "abc");
    free(s);
    cr_assert_eq(strapi_secret_resolve("", NULL, &s, &why), -1);
    cr_assert_null(s);
    cr_assert_str_eq(why, "the secret is empty");
}

Test(strapi_secret, from_the_environment)
{
    char *s = NULL;
    const char *why = NULL;
    setenv("PLUGIO_TEST_JWT_SECRET", "from-env", 1);
    cr_assert_eq(strapi_secret_resolve(NULL, "PLUGIO_TEST_JWT_SECRET", &s, &why), 0);
    cr_assert_str_eq(s, "from-env");
    free(s);
    setenv("PLUGIO_TEST_JWT_SECRET", "", 1);
    cr_assert_eq(strapi_secret_resolve(NULL, "PLUGIO_TEST_JWT_SECRET", &s, &why), -1);
    unsetenv("PLUGIO_TEST_JWT_SECRET");
    cr_assert_eq(strapi_secret_resolve(NULL, "PLUGIO_TEST_JWT_SECRET", &s, &why), -1);
    cr_assert_null(s);
    cr_assert_str_eq(why, "the environment variable named for the secret is unset or empty");
}

Test(strapi_secret, wants_exactly_one_source)
{
    char *s = NULL;
    const char *why = NULL;
    cr_assert_eq(strapi_secret_resolve("abc", "HOME", &s, &why), -1);
    cr_assert_null(s);
    cr_assert_eq(strapi_secret_resolve(NULL, NULL, &s, &why), -1);
    cr_assert_str_eq(why, "give either the secret or the name of a variable holding it");
}
