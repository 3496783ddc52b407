/*
 * test_routes.c - the table of plugin HTTP routes (host/plugin/routes.c):
 * which paths a plugin version may route, conflicts between versions, and
 * removal by owner, as pio_http_route and a reload see them.
 */
#include "plugin/routes.h"

#include <criterion/criterion.h>
#include <string.h>

static diag_list diags = DIAG_LIST_INIT;
static config *cfg;
static pio_ctx a, b;

static void fn(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)ctx, (void)req, (void)userdata;
}

static void other_fn(pio_ctx *ctx, pio_http_request *req, void *userdata)
{
    (void)ctx, (void)req, (void)userdata;
}

static void setup(void)
{
    static const char yaml[] = "server:\n  metrics: { path: /stats }\n"
                               "socket:\n  serverOptions:\n    path: /rt\n";
    cfg = config_load_string(yaml, strlen(yaml), "t.yaml", "/etc/plugio", &diags);
    cr_assert_not_null(cfg, "%s", diags.count ? diags.items[0] : "?");
    routes_set_config(cfg);
    a = (pio_ctx){0};
    b = (pio_ctx){0};
}

static void teardown(void)
{
    routes_clear();
    config_free(cfg);
    cfg = NULL;
    diag_free(&diags);
}

TestSuite(routes, .init = setup, .fini = teardown);

Test(routes, adds_a_path_and_finds_it_exactly)
{
    int x;
    cr_assert_eq(routes_add(&a, "/hook", 10, fn, &x), PIO_OK);
    const plugin_route *r = routes_find("/hook");
    cr_assert_not_null(r);
    cr_assert_eq(r->owner, &a);
    cr_assert_eq(r->max_body, 10);
    cr_assert_eq(r->fn, fn);
    cr_assert_eq(r->userdata, &x);
    cr_assert_null(routes_find("/hook/"), "exact paths only");
    cr_assert_null(routes_find("/hoo"));
    cr_assert_null(routes_find(NULL));
}

Test(routes, copies_the_path)
{
    char path[] = "/copied";
    cr_assert_eq(routes_add(&a, path, 0, fn, NULL), PIO_OK);
    path[1] = 'X';
    cr_assert_not_null(routes_find("/copied"));
}

Test(routes, refuses_paths_without_a_slash_or_under_serverOptions_path)
{
    cr_assert_eq(routes_add(&a, "hook", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, NULL, 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "/x", 0, NULL, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(NULL, "/x", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "/rt", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "/rt/", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "/rt/hook", 0, fn, NULL), PIO_EINVAL);
    cr_assert_eq(routes_add(&a, "/rtx", 0, fn, NULL), PIO_OK, "a prefix of a name is not under it");
}

Test(routes, refuses_what_the_host_serves)
{
    cr_assert_eq(routes_add(&a, "/healthz", 0, fn, NULL), PIO_ESTATE);
    cr_assert_eq(routes_add(&a, "/stats", 0, fn, NULL), PIO_ESTATE);
    cr_assert_eq(routes_add(&a, "/metrics", 0, fn, NULL), PIO_OK, "metrics moved to /stats");
}

Test(routes, another_versions_path_is_refused_its_own_is_replaced)
{
    cr_assert_eq(routes_add(&a, "/hook", 1, fn, NULL), PIO_OK);
    cr_assert_eq(routes_add(&b, "/hook", 2, other_fn, NULL), PIO_ESTATE);
    cr_assert_eq(routes_find("/hook")->fn, fn);
    cr_assert_eq(routes_add(&a, "/hook", 3, other_fn, NULL), PIO_OK);
    const plugin_route *r = routes_find("/hook");
    cr_assert_eq(r->fn, other_fn);
    cr_assert_eq(r->max_body, 3);
    cr_assert_eq(r->owner, &a);
}

Test(routes, a_retired_or_faulted_version_routes_nothing)
{
    a.retired = true;
    cr_assert_eq(routes_add(&a, "/hook", 0, fn, NULL), PIO_ESTATE);
    b.faulted = true;
    cr_assert_eq(routes_add(&b, "/hook", 0, fn, NULL), PIO_ESTATE);
    cr_assert_null(routes_find("/hook"));
}

Test(routes, unroute_only_what_the_version_routes)
{
    cr_assert_eq(routes_add(&a, "/hook", 0, fn, NULL), PIO_OK);
    cr_assert_eq(routes_remove(&b, "/hook"), PIO_EINVAL, "not b's");
    cr_assert_eq(routes_remove(&a, "/other"), PIO_EINVAL);
    cr_assert_eq(routes_remove(&a, NULL), PIO_EINVAL);
    cr_assert_eq(routes_remove(&a, "/hook"), PIO_OK);
    cr_assert_null(routes_find("/hook"));
    cr_assert_eq(routes_remove(&a, "/hook"), PIO_EINVAL, "once");
    cr_assert_eq(routes_add(&b, "/hook", 0, fn, NULL), PIO_OK, "free for another version");
}

Test(routes, a_released_version_takes_its_routes_and_only_its_with_it)
{
    cr_assert_eq(routes_add(&a, "/a1", 0, fn, NULL), PIO_OK);
    cr_assert_eq(routes_add(&b, "/b1", 0, fn, NULL), PIO_OK);
    cr_assert_eq(routes_add(&a, "/a2", 0, fn, NULL), PIO_OK);
    routes_release(&a);
    cr_assert_null(routes_find("/a1"));
    cr_assert_null(routes_find("/a2"));
    cr_assert_not_null(routes_find("/b1"));
    cr_assert_eq(routes_add(&b, "/a1", 0, fn, NULL), PIO_OK, "the next version routes it again");
}

Test(routes, without_a_configuration_only_the_health_path_is_the_hosts)
{
    routes_set_config(NULL);
    cr_assert_eq(routes_add(&a, "/healthz", 0, fn, NULL), PIO_ESTATE);
    cr_assert_eq(routes_add(&a, "/stats", 0, fn, NULL), PIO_OK);
    cr_assert_eq(routes_add(&a, "/rt/x", 0, fn, NULL), PIO_OK);
}

Test(routes, path_under_a_prefix)
{
    cr_assert(routes_path_under("/socket.io", "/socket.io"));
    cr_assert(routes_path_under("/socket.io/", "/socket.io"));
    cr_assert(routes_path_under("/socket.io/x", "/socket.io"));
    cr_assert_not(routes_path_under("/socket.iox", "/socket.io"));
    cr_assert_not(routes_path_under("/sock", "/socket.io"));
    cr_assert(routes_path_under("/anything", ""), "serverOptions.path \"/\" covers every path");
}
