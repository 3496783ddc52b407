/*
 * test_config_recovery.c - serverOptions.connectionStateRecovery in the
 * YAML loader (host/config.c): off unless given, socket.io's defaults for
 * what is left out, and `file:line:column` for each mistake.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

static diag_list diags = DIAG_LIST_INIT;
static config *cfg;

static void teardown(void)
{
    config_free(cfg);
    cfg = NULL;
    diag_free(&diags);
}

TestSuite(config_recovery, .fini = teardown);

static config *load(const char *yaml)
{
    config_free(cfg);
    diag_free(&diags);
    cfg = config_load_string(yaml, strlen(yaml), "t.yaml", "/etc/plugio", &diags);
    return cfg;
}

static const config_server_options *opts_of(const char *yaml)
{
    load(yaml);
    cr_assert_not_null(cfg, "failed: %s", diags.count ? diags.items[0] : "");
    return &cfg->opts;
}

#define expect_only_error(yaml, where, text)                                           \
    do {                                                                               \
        cr_assert_null(load(yaml), "loaded although wrong");                           \
        cr_assert_eq(diags.count, 1, "want 1 diagnostic, got %zu", diags.count);       \
        cr_assert(strncmp(diags.items[0], where, strlen(where)) == 0 &&                \
                      strstr(diags.items[0], text),                                    \
                  "want \"%s...%s\", got \"%s\"", where, text, diags.items[0]);        \
    } while (0)

Test(config_recovery, is_off_unless_the_option_is_given)
{
    cr_assert_not(opts_of("socket: {serverOptions: {pingInterval: 1000}}\n")->csr.enabled);
    cr_assert_not(opts_of("socket:\n  serverOptions:\n    connectionStateRecovery: false\n")
                      ->csr.enabled);
}

Test(config_recovery, takes_socketio_defaults_for_what_is_left_out)
{
    const config_server_options *o =
        opts_of("socket:\n  serverOptions:\n    connectionStateRecovery: {}\n");
    cr_assert(o->csr.enabled);
    cr_assert_eq(o->csr.max_disconnection, 120000);
    cr_assert(o->csr.skip_middlewares);
    o = opts_of("socket:\n  serverOptions:\n    connectionStateRecovery: true\n");
    cr_assert(o->csr.enabled && o->csr.max_disconnection == 120000 && o->csr.skip_middlewares);
    o = opts_of("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                "      skipMiddlewares: false\n");
    cr_assert(o->csr.enabled && o->csr.max_disconnection == 120000 && !o->csr.skip_middlewares);
}

Test(config_recovery, reads_both_values)
{
    const config_server_options *o =
        opts_of("socket:\n"
                "  serverOptions:\n"
                "    connectionStateRecovery:\n"
                "      maxDisconnectionDuration: 3e4\n"
                "      skipMiddlewares: false\n");
    cr_assert(o->csr.enabled);
    cr_assert_eq(o->csr.max_disconnection, 30000);
    cr_assert_not(o->csr.skip_middlewares);
}

Test(config_recovery, reports_a_value_of_the_wrong_type_where_it_is)
{
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery: yes please\n",
                      "t.yaml:3:30: ",
                      "connectionStateRecovery: expected a mapping, got a string");
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery: [1]\n",
                      "t.yaml:3:30: ", "connectionStateRecovery: expected a mapping, got a list");
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      skipMiddlewares: 1\n",
                      "t.yaml:4:24: ", "skipMiddlewares: expected true or false");
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectionDuration: two minutes\n",
                      "t.yaml:4:33: ", "maxDisconnectionDuration: expected an integer");
}

Test(config_recovery, reports_an_out_of_range_duration)
{
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectionDuration: 0\n",
                      "t.yaml:4:33: ",
                      "maxDisconnectionDuration: 0 is out of range (1 to 2147483647)");
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectionDuration: 2147483648\n",
                      "t.yaml:4:33: ", "maxDisconnectionDuration: 2147483648 is out of range");
}

Test(config_recovery, reports_an_unknown_key_naming_the_known_ones)
{
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectDuration: 1000\n",
                      "t.yaml:4:7: ",
                      "unknown connectionStateRecovery option 'maxDisconnectDuration' (expected "
                      "one of: maxDisconnectionDuration, skipMiddlewares)");
}
