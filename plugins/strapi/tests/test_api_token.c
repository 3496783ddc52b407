/*
 * test_api_token.c - Strapi API token hashes, against Node.
 *
 * The expected hashes were computed with Node's crypto exactly as Strapi 5
 * computes accessKey (packages/core/admin/server/src/services/api-token.ts,
 * `hash`):
 *
 *   crypto.createHmac("sha512", salt).update(token).digest("hex")
 *
 * for the (salt, token) pairs below.
 */
#include "api_token.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SALT1 "plugio-test-salt"
#define TOKEN1 "a1b2c3"
#define HASH1                                                                                  \
    "040f8611afe4367e9ac91ac8c6c662d4a4b91fde544aae8cdece6d5f69c017da7627e19f1184d0e87ed806bad" \
    "c1a4978f2a09d9b85101e48490136eebc2a3e72"

/* A salt as Strapi suggests making one (randomBytes(16).toString("base64")),
 * used as it is, and a token as long as Strapi's (128 random bytes in hex). */
#define SALT2 "c2FsdHNhbHRzYWx0c2FsdA=="
#define T16 "0123456789abcdef"
#define TOKEN2 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16 T16
#define HASH2                                                                                  \
    "8ce839496a1d247766ce929e5ec7a035ce19b5bafb15a7be9271d42c77771d50d16ec4b2cd1cfbd6c6440d320" \
    "098b6434e8cf792d5435fbd4cf2e3ef78d4a5c1"

#define SALT3 "s"
#define TOKEN3 "\xc3\xbcn\xc3\xaf" "code-token" /* "ünïcode-token" in UTF-8 */
#define HASH3                                                                                  \
    "501bb8780a92815070e8dfcbf4429eb8e32b8e534f375a1d2821e83eb910839b5f65bb21618d4748c5ef86a6f" \
    "a96d8e01f3fc1ff4c87ff9bf3fa4bd2daf157fb"

Test(strapi_api_token, hashes_as_strapi_does)
{
    char out[STRAPI_API_TOKEN_HASH_SIZE];
    cr_assert_eq(strapi_api_token_hash(SALT1, TOKEN1, out), 0);
    cr_assert_str_eq(out, HASH1);
    cr_assert_eq(strapi_api_token_hash(SALT2, TOKEN2, out), 0);
    cr_assert_str_eq(out, HASH2);
    cr_assert_eq(strapi_api_token_hash(SALT3, TOKEN3, out), 0);
    cr_assert_str_eq(out, HASH3);
}

Test(strapi_api_token, matches_its_stored_hash_only)
{
    cr_assert(strapi_api_token_matches(SALT1, TOKEN1, HASH1));
    cr_assert(strapi_api_token_matches(SALT2, TOKEN2, HASH2));
    cr_assert(strapi_api_token_matches(SALT3, TOKEN3, HASH3));
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, HASH2));
    cr_assert_not(strapi_api_token_matches(SALT2, TOKEN1, HASH1)); /* wrong salt */
    cr_assert_not(strapi_api_token_matches(SALT1, "a1b2c4", HASH1));
    cr_assert_not(strapi_api_token_matches(SALT1, "", HASH1));
    cr_assert_not(strapi_api_token_matches(SALT1, NULL, HASH1));
}

Test(strapi_api_token, reads_the_stored_hash_strictly)
{
    char upper[] = HASH1, bad[] = HASH1;
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    cr_assert(strapi_api_token_matches(SALT1, TOKEN1, upper));
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, NULL));
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, ""));
    bad[127] = '\0'; /* one digit short */
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, bad));
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, HASH1 "0")); /* one too many */
    strcpy(bad, HASH1);
    bad[0] = 'g';
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, bad));
    strcpy(bad, HASH1);
    bad[127] = '3'; /* ...e72 -> ...e73: the last byte counts too */
    cr_assert_not(strapi_api_token_matches(SALT1, TOKEN1, bad));
}

Test(strapi_api_token, refuses_tokens_too_long)
{
    char *token = malloc(STRAPI_API_TOKEN_MAX_LEN + 2);
    char out[STRAPI_API_TOKEN_HASH_SIZE];
    memset(token, 'a', STRAPI_API_TOKEN_MAX_LEN + 1);
    token[STRAPI_API_TOKEN_MAX_LEN + 1] = '\0';
    cr_assert_eq(strapi_api_token_hash(SALT1, token, out), -1);
    cr_assert_str_eq(out, "");
    token[STRAPI_API_TOKEN_MAX_LEN] = '\0';
    cr_assert_eq(strapi_api_token_hash(SALT1, token, out), 0);
    free(token);
}

Test(strapi_api_token, finds_the_token_by_its_hash)
{
    const struct strapi_api_token tokens[] = {
        {"reader", HASH2},
        {"broken", "not a hash"},
        {"writer", HASH1},
        {"writer-again", HASH1},
    };
    const struct strapi_api_token *t = strapi_api_token_find(SALT1, TOKEN1, tokens, 4);
    cr_assert_not_null(t);
    cr_assert_str_eq(t->name, "writer"); /* the first listed */
    t = strapi_api_token_find(SALT2, TOKEN2, tokens, 3);
    cr_assert_not_null(t);
    cr_assert_str_eq(t->name, "reader");
    cr_assert_null(strapi_api_token_find(SALT1, TOKEN2, tokens, 3));
    cr_assert_null(strapi_api_token_find(SALT1, "", tokens, 3));
    cr_assert_null(strapi_api_token_find(SALT1, NULL, tokens, 3));
    cr_assert_null(strapi_api_token_find(SALT1, TOKEN1, tokens, 0));
}

Test(strapi_api_token, names_the_room)
{
    char room[16];
    cr_assert_eq(strapi_api_token_room("reader", room, sizeof room), 0);
    cr_assert_str_eq(room, "token:reader");
    cr_assert_eq(strapi_api_token_room("a-much-longer-name", room, sizeof room), -1);
    cr_assert_str_eq(room, "");
    cr_assert_eq(strapi_api_token_room("", room, sizeof room), -1);
    cr_assert_eq(strapi_api_token_room(NULL, room, sizeof room), -1);
}
