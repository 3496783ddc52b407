/* Unit tests for the CORS response headers (host/engineio/cors.c). */
#include "engineio/cors.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *find(const cors_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static config_cors any_origin(int64_t max_age)
{
    return (config_cors){.enabled = true, .any_origin = true, .methods = "GET,POST",
                         .max_age = max_age};
}

Test(cors, a_preflight_carries_max_age_when_set)
{
    config_cors c = any_origin(600);
    cors_header h[CORS_MAX_HEADERS];
    size_t n = cors_headers(&c, "http://a.example", true, NULL, h);
    cr_assert_str_eq(find(h, n, "access-control-max-age:"), "600");
    cr_assert_str_eq(find(h, n, "access-control-allow-methods:"), "GET,POST");
}

Test(cors, a_max_age_of_zero_is_sent_as_the_cors_package_does)
{
    config_cors c = any_origin(0);
    cors_header h[CORS_MAX_HEADERS];
    size_t n = cors_headers(&c, "http://a.example", true, NULL, h);
    cr_assert_str_eq(find(h, n, "access-control-max-age:"), "0");
}

Test(cors, no_max_age_when_unset_or_outside_a_preflight)
{
    config_cors c = any_origin(-1);
    cors_header h[CORS_MAX_HEADERS];
    size_t n = cors_headers(&c, "http://a.example", true, NULL, h);
    cr_assert_null(find(h, n, "access-control-max-age:"));
    c.max_age = 600;
    n = cors_headers(&c, "http://a.example", false, NULL, h);
    cr_assert_null(find(h, n, "access-control-max-age:"), "only a preflight gets it");
}

Test(cors, every_header_at_once_fits)
{
    config_cors c = {.enabled = true, .any_origin = true, .reflect_origin = true,
                     .credentials = true, .methods = "GET", .max_age = 86400};
    cors_header h[CORS_MAX_HEADERS];
    size_t n = cors_headers(&c, "http://a.example", true, "x-a", h);
    cr_assert_leq(n, CORS_MAX_HEADERS);
    cr_assert_str_eq(find(h, n, "access-control-allow-origin:"), "http://a.example");
    cr_assert_str_eq(find(h, n, "access-control-allow-headers:"), "x-a");
    cr_assert_str_eq(find(h, n, "access-control-max-age:"), "86400");
}
