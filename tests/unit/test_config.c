/*
 * test_config.c - the YAML configuration loader (host/config/config.c): what an
 * operator gets for a valid file, and the exact `file:line:column: message`
 * for each kind of mistake.
 */
#include "config/config.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static diag_list diags = DIAG_LIST_INIT;
static config *cfg;

static void teardown(void)
{
    config_free(cfg);
    cfg = NULL;
    diag_free(&diags);
}

TestSuite(config, .fini = teardown);

/* Loads `yaml` as the file "t.yaml" in directory "/etc/plugio", in place
 * of what the test loaded before (its config and diagnostics). */
static config *load(const char *yaml)
{
    teardown();
    cfg = config_load_string(yaml, strlen(yaml), "t.yaml", "/etc/plugio", &diags);
    return cfg;
}

static char *all_diags(void)
{
    static char out[8192];
    out[0] = '\0';
    for (size_t i = 0; i < diags.count; i++) {
        strncat(out, "\n  ", sizeof out - strlen(out) - 1);
        strncat(out, diags.items[i], sizeof out - strlen(out) - 1);
    }
    return out;
}

/* The diagnostic starting with `where` ("t.yaml:3:9: "), or NULL. */
static const char *diag_at(const char *where)
{
    for (size_t i = 0; i < diags.count; i++)
        if (strncmp(diags.items[i], where, strlen(where)) == 0)
            return diags.items[i];
    return NULL;
}

/* Asserts a diagnostic at `where` whose message contains `text`. */
#define expect_diag(where, text)                                                       \
    do {                                                                               \
        const char *d_ = diag_at(where);                                               \
        cr_assert(d_ && strstr(d_, text), "want \"%s...%s\", got:%s", where, text,     \
                  all_diags());                                                        \
    } while (0)

/* Asserts that loading fails with exactly one diagnostic, at `where`,
 * containing `text`. */
#define expect_only_error(yaml, where, text)                                           \
    do {                                                                               \
        cr_assert_null(load(yaml), "loaded although wrong");                           \
        cr_assert_eq(diags.count, 1, "want 1 diagnostic, got %zu:%s", diags.count,     \
                     all_diags());                                                     \
        expect_diag(where, text);                                                      \
    } while (0)

static config *load_ok(const char *yaml)
{
    load(yaml);
    cr_assert_not_null(cfg, "failed:%s", all_diags());
    cr_assert_eq(diags.count, 0);
    return cfg;
}

#define PLUGINS "plugins:\n  chat: chat.so\n"

/* ---- valid files ----------------------------------------------------- */

Test(config, loads_the_spec_example_with_every_value_as_written)
{
    config *c = config_load(TEST_DATA_DIR "/spec_example.yaml", &diags);
    cfg = c;
    cr_assert_not_null(c, "failed:%s", all_diags());
    cr_assert_eq(diags.count, 0);
    cr_assert_str_eq(c->file, TEST_DATA_DIR "/spec_example.yaml");
    cr_assert_str_eq(c->dir, TEST_DATA_DIR);
    cr_assert_str_eq(c->host, "0.0.0.0");
    cr_assert_eq(c->port, 3000);

    cr_assert_eq(c->n_plugins, 2);
    cr_assert_str_eq(c->plugins[0].name, "chat");
    cr_assert_str_eq(c->plugins[0].path, TEST_DATA_DIR "/../build/plugins/chat/libchat.so");
    cr_assert_eq(c->plugins[0].at.line, 5);
    cr_assert_eq(c->plugins[0].at.column, 3);
    cr_assert_eq(c->plugins[0].path_at.line, 5);
    cr_assert_eq(c->plugins[0].path_at.column, 9);
    cr_assert_str_eq(json_object_to_json_string_ext(c->plugins[0].config, JSON_C_TO_STRING_PLAIN),
                     "{}");
    cr_assert_str_eq(c->plugins[1].name, "logger");
    cr_assert_str_eq(c->plugins[1].path, TEST_DATA_DIR "/../build/plugins/logger/liblogger.so");
    cr_assert_eq(c->plugins[1].at.line, 6);
    cr_assert_eq(c->plugins[1].path_at.line, 7);
    cr_assert_eq(c->plugins[1].path_at.column, 11);
    cr_assert_str_eq(json_object_to_json_string_ext(c->plugins[1].config, JSON_C_TO_STRING_PLAIN),
                     "{\"level\":\"info\"}");

    const config_server_options *o = &c->opts;
    cr_assert_str_eq(o->path, "/socket.io");
    cr_assert(o->cors.enabled);
    cr_assert_not(o->cors.any_origin);
    cr_assert_eq(o->cors.n_origins, 1);
    cr_assert_str_eq(o->cors.origins[0], "http://127.0.0.1:8080");
    cr_assert_str_eq(o->cors.methods, "GET,POST");
    cr_assert_not(o->cors.credentials);
    cr_assert_null(o->cors.allowed_headers);
    cr_assert_null(o->cors.exposed_headers);
    cr_assert_eq(o->cors.max_age, -1);
    cr_assert_eq(o->ping_interval, 25000);
    cr_assert_eq(o->ping_timeout, 20000);
    cr_assert_eq(o->connect_timeout, 45000);
    cr_assert_eq(o->upgrade_timeout, 10000);
    cr_assert_eq(o->max_http_buffer_size, 1000000);
    cr_assert_eq(o->transports, CONFIG_TRANSPORT_POLLING | CONFIG_TRANSPORT_WEBSOCKET);
    cr_assert(o->allow_upgrades);
    cr_assert_not(o->allow_eio3);

    cr_assert_eq(c->n_events, 3);
    const config_event *e = c->events;
    cr_assert_str_eq(e[0].name, "connection");
    cr_assert_str_eq(e[0].nsp, "/");
    cr_assert_str_eq(e[0].handler.plugin, "logger");
    cr_assert_str_eq(e[0].handler.symbol, "on_connection");
    cr_assert_eq(e[0].handler.at.line, 21);
    cr_assert_eq(e[0].handler.at.column, 14);
    cr_assert_eq(e[0].at.line, 20);
    cr_assert_eq(e[0].at.column, 5);
    cr_assert_str_eq(e[1].name, "custom-event-name");
    cr_assert_str_eq(e[1].nsp, "/");
    cr_assert_str_eq(e[1].handler.plugin, "chat");
    cr_assert_str_eq(e[1].handler.symbol, "on_custom");
    cr_assert_str_eq(e[2].name, "message");
    cr_assert_str_eq(e[2].nsp, "/custom");
    cr_assert_str_eq(e[2].handler.plugin, "chat");
    cr_assert_str_eq(e[2].handler.symbol, "on_message");
    cr_assert_eq(e[2].handler.at.line, 26);

    cr_assert(c->has_init);
    cr_assert_str_eq(c->init.plugin, "logger");
    cr_assert_str_eq(c->init.symbol, "init");
    cr_assert_eq(c->init.at.line, 28);
    cr_assert_eq(c->init.at.column, 9);

    cr_assert_eq(config_find_plugin(c, "logger"), &c->plugins[1]);
    cr_assert_null(config_find_plugin(c, "nosuch"));
}

Test(config, defaults_equal_socketio_v4)
{
    config *c = load_ok("{}\n");
    cr_assert_str_eq(c->host, "0.0.0.0");
    cr_assert_eq(c->port, 3000);
    cr_assert_str_eq(c->opts.path, "/socket.io");
    cr_assert_eq(c->opts.ping_interval, 25000);
    cr_assert_eq(c->opts.ping_timeout, 20000);
    cr_assert_eq(c->opts.connect_timeout, 45000);
    cr_assert_eq(c->opts.upgrade_timeout, 10000);
    cr_assert_eq(c->opts.max_http_buffer_size, 1000000);
    cr_assert_eq(c->opts.transports, CONFIG_TRANSPORT_POLLING | CONFIG_TRANSPORT_WEBSOCKET);
    cr_assert(c->opts.allow_upgrades);
    cr_assert_not(c->opts.cors.enabled, "socket.io sends no CORS headers unless asked");
    cr_assert_eq(c->opts.cors.max_age, -1);
    cr_assert_eq(c->max_header_size, 16384, "Node's maxHeaderSize");
    cr_assert_eq(c->n_plugins, 0);
    cr_assert_eq(c->n_events, 0);
    cr_assert_not(c->has_init);
}

Test(config, accepts_an_empty_file_and_empty_sections)
{
    load_ok("");
    config *c = load_ok("server:\nplugins:\nsocket:\n  serverOptions:\nevents:\nhooks:\n");
    cr_assert_eq(c->port, 3000);
    cr_assert_eq(c->n_events, 0);
}

Test(config, load_string_uses_the_given_name_and_directory)
{
    const char *yaml = PLUGINS "server: {port: 0}\n";
    cfg = config_load_string(yaml, strlen(yaml), "inline.yaml", "/srv/app", &diags);
    cr_assert_not_null(cfg, "failed:%s", all_diags());
    cr_assert_str_eq(cfg->file, "inline.yaml");
    cr_assert_str_eq(cfg->dir, "/srv/app");
    cr_assert_eq(cfg->port, 0, "port 0 lets the system pick one");
    cr_assert_str_eq(cfg->plugins[0].path, "/srv/app/chat.so");

    /* Only `len` bytes are read: no NUL terminator needed. */
    teardown();
    const char text[] = {'s', 'e', 'r', 'v', 'e', 'r', ':', ' ', '{', 'p', 'o', 'r', 't', ':',
                         ' ', '8', '0', '}', 'X', 'Y', 'Z'};
    cfg = config_load_string(text, 18, "inline.yaml", "/srv/app", &diags);
    cr_assert_not_null(cfg, "failed:%s", all_diags());
    cr_assert_eq(cfg->port, 80);
}

Test(config, resolves_plugin_paths_against_the_config_directory)
{
    config *c = load_ok("plugins:\n"
                        "  a: lib/a.so\n"
                        "  b: /opt/plugins/b.so\n"
                        "  c: {path: ../c.so}\n");
    cr_assert_str_eq(c->plugins[0].path, "/etc/plugio/lib/a.so");
    cr_assert_str_eq(c->plugins[1].path, "/opt/plugins/b.so", "absolute paths stay as written");
    cr_assert_str_eq(c->plugins[2].path, "/etc/plugio/../c.so");
}

Test(config, load_takes_the_directory_from_the_file_name)
{
    config *c = config_load(TEST_DATA_DIR "/spec_example.yaml", &diags);
    cfg = c;
    cr_assert_not_null(c, "failed:%s", all_diags());
    cr_assert_eq(strncmp(c->plugins[0].path, TEST_DATA_DIR "/", strlen(TEST_DATA_DIR) + 1), 0,
                 "%s", c->plugins[0].path);
}

/* The member `key` of `obj`, asserted present and of `type`. */
static json_object *member(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(obj, key, &v), "no member '%s'", key);
    cr_assert(json_object_is_type(v, type), "'%s' is a %s, want a %s", key,
              json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
    return v;
}

Test(config, converts_a_plugin_config_block_to_typed_json)
{
    config *c = load_ok("plugins:\n"
                        "  p:\n"
                        "    path: p.so\n"
                        "    config:\n"
                        "      name: chat\n"
                        "      quoted: \"123\"\n"
                        "      single: 'true'\n"
                        "      count: 42\n"
                        "      hex: 0x1F\n"
                        "      negative: -7\n"
                        "      ratio: 0.5\n"
                        "      big: 1e3\n"
                        "      on: true\n"
                        "      off: False\n"
                        "      nothing: ~\n"
                        "      empty:\n"
                        "      list: [1, two, 3.0, null]\n"
                        "      nested: {deep: {deeper: [yes]}}\n");
    json_object *j = c->plugins[0].config;
    cr_assert(json_object_is_type(j, json_type_object));
    cr_assert_str_eq(json_object_get_string(member(j, "name", json_type_string)), "chat");
    cr_assert_str_eq(json_object_get_string(member(j, "quoted", json_type_string)), "123",
                     "a quoted scalar is a string");
    cr_assert_str_eq(json_object_get_string(member(j, "single", json_type_string)), "true");
    cr_assert_eq(json_object_get_int64(member(j, "count", json_type_int)), 42);
    cr_assert_eq(json_object_get_int64(member(j, "hex", json_type_int)), 31);
    cr_assert_eq(json_object_get_int64(member(j, "negative", json_type_int)), -7);
    cr_assert_float_eq(json_object_get_double(member(j, "ratio", json_type_double)), 0.5, 1e-12);
    cr_assert_float_eq(json_object_get_double(member(j, "big", json_type_double)), 1000.0, 1e-9);
    cr_assert(json_object_get_boolean(member(j, "on", json_type_boolean)));
    cr_assert_not(json_object_get_boolean(member(j, "off", json_type_boolean)));
    member(j, "nothing", json_type_null);
    member(j, "empty", json_type_null);
    /* The whole thing, as a plugin would see it: */
    cr_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
                     "{\"name\":\"chat\",\"quoted\":\"123\",\"single\":\"true\",\"count\":42,"
                     "\"hex\":31,\"negative\":-7,\"ratio\":0.5,\"big\":1000.0,\"on\":true,"
                     "\"off\":false,\"nothing\":null,\"empty\":null,"
                     "\"list\":[1,\"two\",3.0,null],\"nested\":{\"deep\":{\"deeper\":[\"yes\"]}}}");
}

Test(config, reads_cors_like_the_cors_package)
{
    config *c = load_ok("socket:\n"
                        "  serverOptions:\n"
                        "    cors:\n"
                        "      origin: [\"https://a.example\", \"https://b.example\"]\n"
                        "      methods: GET,POST,OPTIONS\n"
                        "      allowedHeaders: [Content-Type, Authorization]\n"
                        "      exposedHeaders: X-Total\n"
                        "      credentials: true\n"
                        "      maxAge: 600\n");
    const config_cors *k = &c->opts.cors;
    cr_assert(k->enabled);
    cr_assert_not(k->any_origin);
    cr_assert_eq(k->n_origins, 2);
    cr_assert_str_eq(k->origins[0], "https://a.example");
    cr_assert_str_eq(k->origins[1], "https://b.example");
    cr_assert_str_eq(k->methods, "GET,POST,OPTIONS");
    cr_assert_str_eq(k->allowed_headers, "Content-Type,Authorization");
    cr_assert_str_eq(k->exposed_headers, "X-Total");
    cr_assert(k->credentials);
    cr_assert_eq(k->max_age, 600);
}

Test(config, cors_defaults_follow_the_cors_package)
{
    config *c = load_ok("socket: {serverOptions: {cors: {credentials: true}}}\n");
    cr_assert(c->opts.cors.enabled);
    cr_assert(c->opts.cors.any_origin, "the package's default origin is *");
    cr_assert_not(c->opts.cors.reflect_origin);
    cr_assert_str_eq(c->opts.cors.methods, "GET,HEAD,PUT,PATCH,POST,DELETE");
    cr_assert_eq(c->opts.cors.max_age, -1);
}

Test(config, cors_origin_star_true_and_false)
{
    config *c = load_ok("socket: {serverOptions: {cors: {origin: \"*\"}}}\n");
    cr_assert(c->opts.cors.enabled && c->opts.cors.any_origin && !c->opts.cors.reflect_origin);
    cr_assert_eq(c->opts.cors.n_origins, 0);

    c = load_ok("socket: {serverOptions: {cors: {origin: true}}}\n");
    cr_assert(c->opts.cors.enabled && c->opts.cors.any_origin && c->opts.cors.reflect_origin);

    c = load_ok("socket: {serverOptions: {cors: {origin: false}}}\n");
    cr_assert_not(c->opts.cors.enabled, "origin: false turns CORS off");

    c = load_ok("socket: {serverOptions: {cors: true}}\n");
    cr_assert(c->opts.cors.enabled && c->opts.cors.any_origin);
    cr_assert_str_eq(c->opts.cors.methods, "GET,HEAD,PUT,PATCH,POST,DELETE");

    c = load_ok("socket: {serverOptions: {cors: false}}\n");
    cr_assert_not(c->opts.cors.enabled);
}

Test(config, normalizes_a_trailing_slash_in_path)
{
    config *c = load_ok("socket: {serverOptions: {path: /realtime/}}\n");
    cr_assert_str_eq(c->opts.path, "/realtime");
}

Test(config, accepts_whole_numbers_written_as_floats_for_sizes)
{
    config *c = load_ok("socket:\n"
                        "  serverOptions:\n"
                        "    maxHttpBufferSize: 1e8\n"
                        "    pingInterval: 3e4\n");
    cr_assert_eq(c->opts.max_http_buffer_size, 100000000);
    cr_assert_eq(c->opts.ping_interval, 30000);
    c = load_ok("socket: {serverOptions: {maxHttpBufferSize: 1e6}}\n");
    cr_assert_eq(c->opts.max_http_buffer_size, 1000000);
}

Test(config, accepts_harmless_values_of_unsupported_socketio_options)
{
    config *c = load_ok("socket:\n"
                        "  serverOptions:\n"
                        "    serveClient: false\n"
                        "    allowEIO3: false\n"
                        "    perMessageDeflate: false\n"
                        "    httpCompression: true\n"
                        "    cookie: false\n"
                        "    transports: [websocket]\n"
                        "    allowUpgrades: false\n"
                        "    upgradeTimeout: 5000\n");
    cr_assert_eq(c->opts.transports, CONFIG_TRANSPORT_WEBSOCKET);
    cr_assert_not(c->opts.allow_upgrades);
    cr_assert_eq(c->opts.upgrade_timeout, 5000);
}

Test(config, allows_the_lifecycle_events_and_one_event_per_namespace)
{
    config *c = load_ok(PLUGINS "events:\n"
                                "  - {name: connection, handler: chat:a}\n"
                                "  - {name: disconnect, handler: chat:b}\n"
                                "  - {name: message, handler: chat:c}\n"
                                "  - {name: message, handler: chat:d, namespace: /admin}\n");
    cr_assert_eq(c->n_events, 4);
    cr_assert_str_eq(c->events[1].name, "disconnect");
    cr_assert_str_eq(c->events[3].nsp, "/admin");
}

Test(config, resolves_references_to_plugins_declared_later)
{
    config *c = load_ok("hooks: {init: chat:setup}\n"
                        "events: [{name: hi, handler: chat:hi}]\n" PLUGINS);
    cr_assert(c->has_init);
    cr_assert_str_eq(c->init.symbol, "setup");
}

Test(config, free_of_null_is_a_no_op)
{
    config_free(NULL);
}

/* ---- reading the file ------------------------------------------------- */

Test(config, reports_a_missing_file)
{
    cr_assert_null(config_load(TEST_DATA_DIR "/no-such-file.yaml", &diags));
    cr_assert_eq(diags.count, 1);
    cr_assert_str_eq(diags.items[0],
                     TEST_DATA_DIR "/no-such-file.yaml: cannot read: No such file or directory");
}

Test(config, reports_malformed_yaml_where_libyaml_found_it)
{
    cr_assert_null(config_load(TEST_DATA_DIR "/malformed.yaml", &diags));
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    /* "   host: x" is indented deeper than "port": its ':' is at 3:8. */
    expect_diag(TEST_DATA_DIR "/malformed.yaml:3:8: ",
                "invalid YAML: mapping values are not allowed in this context");
}

Test(config, reports_an_unclosed_flow_mapping)
{
    cr_assert_null(load("server: {port: 3000\nevents: []\n"));
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    cr_assert(strstr(diags.items[0], "t.yaml:2:") == diags.items[0], "%s", diags.items[0]);
    cr_assert(strstr(diags.items[0], "invalid YAML: "), "%s", diags.items[0]);
    cr_assert(strstr(diags.items[0], "flow mapping at line 1"), "%s", diags.items[0]);
}

Test(config, rejects_a_second_document)
{
    expect_only_error("server: {port: 1}\n---\nserver: {port: 2}\n", "t.yaml:3:1: ",
                      "only one YAML document");
}

Test(config, rejects_a_root_that_is_not_a_mapping)
{
    expect_only_error("- server\n", "t.yaml:1:1: ", "expected a mapping, got a list");
}

/* ---- unknown keys, at every level -------------------------------------- */

Test(config, rejects_unknown_top_level_key)
{
    expect_only_error("server: {}\nlisteners: 3\n", "t.yaml:2:1: ",
                      "unknown top-level key 'listeners'");
}

Test(config, rejects_unknown_server_key)
{
    expect_only_error("server:\n  host: localhost\n  prot: 80\n", "t.yaml:3:3: ",
                      "unknown server key 'prot' (expected one of: host, port, headers, maxHeaderSize, "
                      "maxConnections, headersTimeout, requestTimeout, static, metrics, log)");
}

Test(config, log_defaults_to_text_at_no_level_of_its_own)
{
    config *c = load_ok("server: {}\n");
    cr_assert_eq(c->log.format, LOG_TEXT);
    cr_assert_not(c->log.has_level, "info unless --log-level says otherwise");
}

Test(config, reads_the_log_format_and_level)
{
    config *c = load_ok("server:\n  log: {format: json, level: debug}\n");
    cr_assert_eq(c->log.format, LOG_JSON);
    cr_assert(c->log.has_level);
    cr_assert_eq(c->log.level, PIO_LOG_DEBUG);
    c = load_ok("server:\n  log:\n    format: text\n    level: error\n");
    cr_assert_eq(c->log.format, LOG_TEXT);
    cr_assert_eq(c->log.level, PIO_LOG_ERROR);
}

Test(config, rejects_an_unknown_log_format_or_level_where_written)
{
    cr_assert_null(load("server:\n  log:\n    format: xml\n    level: loud\n"));
    cr_assert_eq(diags.count, 2, "%s", all_diags());
    expect_diag("t.yaml:3:13: ", "unknown log format 'xml' (plugio has text and json)");
    expect_diag("t.yaml:4:12: ", "unknown log level 'loud' (debug, info, warn or error)");
    expect_only_error("server:\n  log: {format: json, colour: true}\n", "t.yaml:2:23: ",
                      "unknown log key 'colour' (expected one of: format, level)");
    expect_only_error("server:\n  log: json\n", "t.yaml:2:8: ", "log: expected a mapping");
    expect_only_error("server:\n  log: {level: 3}\n", "t.yaml:2:16: ", "level");
}

Test(config, keeps_named_custom_headers_lower_case)
{
    config *c = load_ok("server:\n  headers: [X-Test, X-Api-Key]\n");
    cr_assert_str_eq(c->custom_headers, "x-test,x-api-key");
}

Test(config, keeps_no_custom_headers_by_default)
{
    cr_assert_null(load_ok("server: {}\n")->custom_headers);
}

Test(config, reads_the_max_header_size)
{
    cr_assert_eq(load_ok("server:\n  maxHeaderSize: 32768\n")->max_header_size, 32768);
}

Test(config, reads_max_connections)
{
    cr_assert_eq(load_ok("server:\n  maxConnections: 50000\n")->max_connections, 50000);
}

Test(config, max_connections_defaults_to_what_the_descriptor_limit_allows)
{
    cr_assert_eq(load_ok("{}\n")->max_connections, 0, "0: decided by the descriptor limit");
}

Test(config, rejects_zero_max_connections)
{
    expect_only_error("server:\n  maxConnections: 0\n", "t.yaml:2:19: ",
                      "maxConnections: 0 is out of range");
}

Test(config, rejects_a_max_header_size_below_its_range)
{
    expect_only_error("server:\n  maxHeaderSize: 100\n", "t.yaml:2:18: ",
                      "maxHeaderSize: 100 is out of range (1024 to 65536)");
}

Test(config, rejects_a_max_header_size_above_what_libwebsockets_keeps)
{
    expect_only_error("server:\n  maxHeaderSize: 70000\n", "t.yaml:2:18: ",
                      "maxHeaderSize: 70000 is out of range (1024 to 65536)");
}

Test(config, slow_request_timeouts_default_to_60_and_30_seconds)
{
    config *c = load_ok("{}\n");
    cr_assert_eq(c->headers_timeout, 60000, "Node's headersTimeout");
    cr_assert_eq(c->request_timeout, 30000);
}

Test(config, reads_the_slow_request_timeouts)
{
    config *c = load_ok("server:\n  headersTimeout: 1000\n  requestTimeout: 1500\n");
    cr_assert_eq(c->headers_timeout, 1000);
    cr_assert_eq(c->request_timeout, 1500);
}

Test(config, rejects_slow_request_timeouts_out_of_range_or_of_wrong_type)
{
    cr_assert_null(load("server:\n  headersTimeout: 99\n  requestTimeout: 3600001\n"));
    cr_assert_eq(diags.count, 2, "%s", all_diags());
    expect_diag("t.yaml:2:19: ", "headersTimeout: 99 is out of range (100 to 3600000)");
    expect_diag("t.yaml:3:19: ", "requestTimeout: 3600001 is out of range (100 to 3600000)");
    expect_only_error("server:\n  requestTimeout: soon\n", "t.yaml:2:19: ", "requestTimeout");
}

Test(config, rejects_a_max_header_size_of_wrong_type)
{
    expect_only_error("server:\n  maxHeaderSize: big\n", "t.yaml:2:18: ", "maxHeaderSize");
}

Test(config, rejects_custom_headers_of_wrong_type)
{
    expect_only_error("server:\n  headers: 12\n", "t.yaml:2:12: ", "headers");
}

Test(config, rejects_unknown_plugin_entry_key)
{
    expect_only_error("plugins:\n  chat:\n    path: chat.so\n    conf: {}\n", "t.yaml:4:5: ",
                      "unknown plugin key 'conf'");
}

Test(config, rejects_unknown_socket_key)
{
    expect_only_error("socket:\n  options: {}\n", "t.yaml:2:3: ", "unknown socket key 'options'");
}

Test(config, rejects_unknown_server_option)
{
    expect_only_error("socket:\n  serverOptions:\n    pingIntervall: 100\n", "t.yaml:3:5: ",
                      "unknown server option 'pingIntervall'");
}

Test(config, rejects_unknown_cors_option)
{
    expect_only_error("socket:\n  serverOptions:\n    cors:\n      origins: \"*\"\n",
                      "t.yaml:4:7: ", "unknown cors option 'origins'");
}

Test(config, rejects_unknown_event_key)
{
    expect_only_error(PLUGINS "events:\n  - name: a\n    handler: chat:a\n    nsp: /x\n",
                      "t.yaml:6:5: ", "unknown event key 'nsp'");
}

Test(config, rejects_unknown_hook)
{
    expect_only_error(PLUGINS "hooks:\n  init: chat:init\n  shutdown: chat:bye\n", "t.yaml:5:3: ",
                      "unknown hook 'shutdown'");
}

/* ---- wrong types ------------------------------------------------------- */

Test(config, rejects_a_string_port)
{
    expect_only_error("server:\n  port: \"abc\"\n", "t.yaml:2:9: ",
                      "port: expected an integer, got a string ('abc')");
}

Test(config, rejects_a_quoted_number_for_an_integer_option)
{
    expect_only_error("socket: {serverOptions: {pingInterval: \"25000\"}}\n", "t.yaml:1:40: ",
                      "pingInterval: expected an integer, got a string ('25000')");
}

Test(config, rejects_a_fraction_for_an_integer_option)
{
    expect_only_error("socket:\n  serverOptions:\n    pingTimeout: 2.5\n", "t.yaml:3:18: ",
                      "pingTimeout: expected an integer, got a number ('2.5')");
}

Test(config, rejects_a_float_port)
{
    expect_only_error("server: {port: 3e3}\n", "t.yaml:1:16: ", "port: expected an integer");
}

Test(config, rejects_events_that_are_not_a_list)
{
    expect_only_error(PLUGINS "events:\n  name: a\n  handler: chat:a\n", "t.yaml:4:3: ",
                      "events: expected a list, got a mapping");
}

Test(config, rejects_an_event_item_that_is_not_a_mapping)
{
    expect_only_error(PLUGINS "events:\n  - message\n", "t.yaml:4:5: ",
                      "event: expected a mapping with name and handler, got a string ('message')");
}

Test(config, rejects_a_non_boolean_for_a_boolean_option)
{
    expect_only_error("socket:\n  serverOptions:\n    allowUpgrades: yes\n", "t.yaml:3:20: ",
                      "allowUpgrades: expected true or false, got a string ('yes')");
}

Test(config, rejects_a_plugin_that_is_neither_path_nor_mapping)
{
    expect_only_error("plugins:\n  chat: [a.so]\n", "t.yaml:2:9: ",
                      "chat: expected a path or a mapping with path and config, got a list");
}

Test(config, rejects_a_plugin_config_that_is_not_a_mapping)
{
    expect_only_error("plugins:\n  chat: {path: c.so, config: [1]}\n", "t.yaml:2:30: ",
                      "config: expected a mapping, got a list");
}

Test(config, rejects_a_transports_string)
{
    expect_only_error("socket: {serverOptions: {transports: websocket}}\n", "t.yaml:1:38: ",
                      "transports: expected a list");
}

Test(config, rejects_a_non_string_cors_origin)
{
    expect_only_error("socket: {serverOptions: {cors: {origin: 8080}}}\n", "t.yaml:1:41: ",
                      "origin: expected a string, a list of strings or a boolean");
}

/* ---- values out of range ----------------------------------------------- */

Test(config, rejects_a_port_above_65535)
{
    expect_only_error("server:\n  port: 65536\n", "t.yaml:2:9: ",
                      "port: 65536 is out of range (0 to 65535)");
}

Test(config, rejects_a_negative_port)
{
    expect_only_error("server:\n  port: -1\n", "t.yaml:2:9: ", "port: -1 is out of range");
}

Test(config, rejects_a_zero_ping_interval)
{
    expect_only_error("socket:\n  serverOptions:\n    pingInterval: 0\n", "t.yaml:3:19: ",
                      "pingInterval: 0 is out of range (1 to 2147483647)");
}

Test(config, rejects_negative_and_zero_timeouts)
{
    cr_assert_null(load("socket:\n"
                        "  serverOptions:\n"
                        "    pingTimeout: -5\n"
                        "    connectTimeout: 0\n"
                        "    upgradeTimeout: 4294967296\n"));
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    expect_diag("t.yaml:3:18: ", "pingTimeout: -5 is out of range");
    expect_diag("t.yaml:4:21: ", "connectTimeout: 0 is out of range");
    expect_diag("t.yaml:5:21: ", "upgradeTimeout: 4294967296 is out of range");
}

Test(config, rejects_a_non_positive_max_http_buffer_size)
{
    expect_only_error("socket:\n  serverOptions:\n    maxHttpBufferSize: 0\n", "t.yaml:3:24: ",
                      "maxHttpBufferSize: 0 is out of range");
}

Test(config, rejects_an_unknown_transport)
{
    expect_only_error("socket:\n  serverOptions:\n    transports: [polling, webtransport]\n",
                      "t.yaml:3:27: ", "unknown transport 'webtransport'");
}

Test(config, reads_the_parser_option)
{
    cr_assert_eq(load_ok("socket:\n  serverOptions:\n    parser: msgpack\n")->opts.parser,
                 CONFIG_PARSER_MSGPACK);
    cr_assert_eq(load_ok("socket:\n  serverOptions:\n    parser: default\n")->opts.parser,
                 CONFIG_PARSER_DEFAULT);
    cr_assert_eq(load_ok("socket:\n  serverOptions: {}\n")->opts.parser, CONFIG_PARSER_DEFAULT);
}

Test(config, rejects_an_unknown_parser)
{
    expect_only_error("socket:\n  serverOptions:\n    parser: protobuf\n", "t.yaml:3:13: ",
                      "unknown parser 'protobuf' (plugio has default and msgpack)");
}

Test(config, rejects_a_parser_that_is_not_a_name)
{
    expect_only_error("socket:\n  serverOptions:\n    parser: [msgpack]\n", "t.yaml:3:13: ",
                      "parser: expected a string");
}

Test(config, rejects_empty_transports)
{
    expect_only_error("socket:\n  serverOptions:\n    transports: []\n", "t.yaml:3:17: ",
                      "transports: the list is empty");
}

Test(config, rejects_a_negative_cors_max_age)
{
    expect_only_error("socket: {serverOptions: {cors: {maxAge: -1}}}\n", "t.yaml:1:41: ",
                      "maxAge: -1 is out of range");
}

/* ---- handler references ------------------------------------------------ */

Test(config, rejects_unknown_plugin)
{
    expect_only_error(PLUGINS "events:\n  - name: message\n    handler: nosuch:fn\n",
                      "t.yaml:5:14: ", "unknown plugin 'nosuch' in handler 'nosuch:fn'");
}

Test(config, rejects_unknown_plugin_in_init_hook)
{
    expect_only_error(PLUGINS "hooks:\n  init: logger:init\n", "t.yaml:4:9: ",
                      "unknown plugin 'logger'");
}

Test(config, rejects_a_handler_without_a_colon)
{
    expect_only_error(PLUGINS "events:\n  - name: message\n    handler: on_message\n",
                      "t.yaml:5:14: ", "'on_message' is not a reference of the form plugin:symbol");
}

Test(config, rejects_a_handler_with_an_empty_part)
{
    cr_assert_null(load(PLUGINS "events:\n"
                                "  - {name: a, handler: \":fn\"}\n"
                                "  - {name: b, handler: \"chat:\"}\n"
                                "  - {name: c, handler: \"chat:on-c\"}\n"));
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    expect_diag("t.yaml:4:24: ", "':fn' has an empty plugin name");
    expect_diag("t.yaml:5:24: ", "'chat:' has an empty symbol name");
    expect_diag("t.yaml:6:24: ", "'on-c' is not a C identifier");
}

/* ---- events ------------------------------------------------------------ */

Test(config, rejects_a_duplicate_event_in_a_namespace)
{
    expect_only_error(PLUGINS "events:\n"
                              "  - name: message\n"
                              "    handler: chat:a\n"
                              "  - name: message\n"
                              "    namespace: /\n"
                              "    handler: chat:b\n",
                      "t.yaml:6:5: ",
                      "duplicate event 'message' in namespace '/' (first at line 4)");
}

Test(config, rejects_an_event_without_name_or_handler)
{
    cr_assert_null(load(PLUGINS "events:\n"
                                "  - handler: chat:a\n"
                                "  - name: b\n"));
    cr_assert_eq(diags.count, 2, "%s", all_diags());
    expect_diag("t.yaml:4:5: ", "event has no name");
    expect_diag("t.yaml:5:5: ", "event has no handler");
}

Test(config, rejects_a_namespace_without_a_leading_slash)
{
    expect_only_error(PLUGINS "events:\n  - {name: a, handler: chat:a, namespace: admin}\n",
                      "t.yaml:4:43: ", "namespace: 'admin' must start with '/'");
}

Test(config, rejects_an_empty_event_name)
{
    expect_only_error(PLUGINS "events:\n  - {name: \"\", handler: chat:a}\n", "t.yaml:4:12: ",
                      "an event name must not be empty");
}

Test(config, rejects_reserved_event_names_saying_why)
{
    cr_assert_null(load(PLUGINS "events:\n"
                                "  - {name: connect, handler: chat:a}\n"
                                "  - {name: connect_error, handler: chat:a}\n"
                                "  - {name: disconnecting, handler: chat:a}\n"
                                "  - {name: newListener, handler: chat:a}\n"
                                "  - {name: removeListener, handler: chat:a}\n"));
    cr_assert_eq(diags.count, 5, "%s", all_diags());
    expect_diag("t.yaml:4:12: ", "event name 'connect' is reserved: socket.io uses it for the "
                                 "namespace handshake; use 'connection'");
    expect_diag("t.yaml:5:12: ", "event name 'connect_error' is reserved");
    expect_diag("t.yaml:6:12: ", "event name 'disconnecting' is reserved");
    expect_diag("t.yaml:7:12: ", "event name 'newListener' is reserved");
    expect_diag("t.yaml:8:12: ", "event name 'removeListener' is reserved");
}

/* ---- plugins ----------------------------------------------------------- */

Test(config, rejects_a_plugin_without_a_path)
{
    expect_only_error("plugins:\n  chat:\n    config: {a: 1}\n", "t.yaml:2:3: ",
                      "plugin 'chat' has no path");
}

Test(config, rejects_a_bad_plugin_name)
{
    expect_only_error("plugins:\n  \"my plugin\": x.so\n", "t.yaml:2:3: ",
                      "plugin name 'my plugin' may only contain letters, digits, '_' and '-'");
}

Test(config, rejects_an_empty_plugin_path)
{
    expect_only_error("plugins:\n  chat: \"\"\n", "t.yaml:2:9: ",
                      "plugin 'chat': the path is empty");
}

/* ---- server options ---------------------------------------------------- */

Test(config, rejects_a_path_without_a_leading_slash)
{
    expect_only_error("socket:\n  serverOptions:\n    path: socket.io\n", "t.yaml:3:11: ",
                      "path: 'socket.io' must start with '/'");
}

Test(config, rejects_unsupported_values_of_socketio_options)
{
    cr_assert_null(load("socket:\n"
                        "  serverOptions:\n"
                        "    cookie: io\n"));
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    expect_diag("t.yaml:3:13: ", "cookie: plugio does not set the io cookie; only false");
}

Test(config, reads_allow_eio3)
{
    config *c = load_ok("socket:\n  serverOptions:\n    allowEIO3: true\n");
    cr_assert(c->opts.allow_eio3);
    teardown();
    c = load_ok("socket:\n  serverOptions:\n    allowEIO3: false\n");
    cr_assert_not(c->opts.allow_eio3);
    teardown();
    expect_only_error("socket:\n  serverOptions:\n    allowEIO3: 3\n", "t.yaml:3:16: ",
                      "allowEIO3: expected true or false");
}

Test(config, compression_defaults_are_socketios)
{
    config *c = load_ok("socket: {serverOptions: {}}\n");
    cr_assert_not(c->opts.per_message_deflate.enabled);
    cr_assert(c->opts.http_compression.enabled);
    cr_assert_eq(c->opts.http_compression.threshold, 1024);
    cr_assert_eq(c->opts.per_message_deflate.threshold, 1024);
    cr_assert_eq(c->opts.per_message_deflate.level, -1);
    cr_assert_eq(c->opts.per_message_deflate.mem_level, 8);
    cr_assert_eq(c->opts.per_message_deflate.window_bits, 15);
}

Test(config, reads_compression_options)
{
    config *c = load_ok("socket:\n"
                        "  serverOptions:\n"
                        "    perMessageDeflate: true\n"
                        "    httpCompression: false\n");
    cr_assert(c->opts.per_message_deflate.enabled);
    cr_assert_eq(c->opts.per_message_deflate.threshold, 1024);
    cr_assert_not(c->opts.http_compression.enabled);
    c = load_ok("socket:\n"
                "  serverOptions:\n"
                "    perMessageDeflate:\n"
                "      threshold: 0\n"
                "      zlibDeflateOptions: {level: 1, memLevel: 4}\n"
                "      serverMaxWindowBits: 10\n"
                "      serverNoContextTakeover: true\n"
                "      concurrencyLimit: 10\n"
                "    httpCompression: {threshold: 2e3, level: 9, windowBits: 12}\n");
    const config_compression *p = &c->opts.per_message_deflate, *h = &c->opts.http_compression;
    cr_assert(p->enabled);
    cr_assert_eq(p->threshold, 0);
    cr_assert_eq(p->level, 1);
    cr_assert_eq(p->mem_level, 4);
    cr_assert_eq(p->window_bits, 10);
    cr_assert(h->enabled);
    cr_assert_eq(h->threshold, 2000);
    cr_assert_eq(h->level, 9);
    cr_assert_eq(h->mem_level, 8);
    cr_assert_eq(h->window_bits, 12);
}

Test(config, rejects_wrong_compression_options_where_they_are)
{
    cr_assert_null(load("socket:\n"
                        "  serverOptions:\n"
                        "    perMessageDeflate: {threshold: -1, zlibDeflateOptions: {level: x}}\n"
                        "    httpCompression: 1\n"));
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    expect_diag("t.yaml:3:36: ", "threshold: -1 is out of range");
    expect_diag("t.yaml:3:68: ", "level: expected an integer, got a string");
    expect_diag("t.yaml:4:22: ", "httpCompression: expected true, false or a mapping");
}

Test(config, refuses_compression_options_libwebsockets_cannot_honour)
{
    cr_assert_null(load("socket:\n"
                        "  serverOptions:\n"
                        "    perMessageDeflate: {clientNoContextTakeover: true}\n"
                        "    httpCompression: {windowBits: 8, chunkSize: 1}\n"));
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    expect_diag("t.yaml:3:25: ", "unknown perMessageDeflate option 'clientNoContextTakeover'");
    expect_diag("t.yaml:4:35: ", "windowBits: 8 is out of range (9 to 15)");
    expect_diag("t.yaml:4:38: ", "unknown httpCompression option 'chunkSize'");
}

/* ---- duplicate keys ---------------------------------------------------- */

Test(config, rejects_duplicate_keys_at_any_level)
{
    cr_assert_null(load("server:\n"
                        "  port: 1\n"
                        "  port: 2\n"
                        "plugins:\n"
                        "  chat: a.so\n"
                        "  chat: b.so\n"
                        "  p:\n"
                        "    path: p.so\n"
                        "    config: {a: 1, a: 2}\n"
                        "server: {}\n"));
    cr_assert_eq(diags.count, 4, "%s", all_diags());
    expect_diag("t.yaml:3:3: ", "duplicate key 'port' (first at line 2)");
    expect_diag("t.yaml:6:3: ", "duplicate key 'chat' (first at line 5)");
    expect_diag("t.yaml:9:20: ", "duplicate key 'a' (first at line 9)");
    expect_diag("t.yaml:10:1: ", "duplicate key 'server' (first at line 1)");
}

/* ---- every error at once ------------------------------------------------ */

Test(config, reports_every_mistake_in_file_order)
{
    cr_assert_null(config_load(TEST_DATA_DIR "/several_mistakes.yaml", &diags));
    const char *f = TEST_DATA_DIR "/several_mistakes.yaml";
    const char *want[][2] = {
        {":2:9: ", "port: expected an integer, got a string ('abc')"},
        {":3:3: ", "unknown server key 'colour'"},
        {":8:14: ", "unknown plugin 'nosuch' in handler 'nosuch:on_message'"},
        {":9:5: ", "duplicate event 'message' in namespace '/' (first at line 7)"},
        {":11:5: ", "event has no name"},
        {":14:19: ", "pingInterval: 0 is out of range"},
    };
    size_t n = sizeof want / sizeof *want;
    cr_assert_eq(diags.count, n, "%s", all_diags());
    for (size_t i = 0; i < n; i++) {
        char prefix[PATH_MAX + 32];
        snprintf(prefix, sizeof prefix, "%s%s", f, want[i][0]);
        cr_assert(strncmp(diags.items[i], prefix, strlen(prefix)) == 0,
                  "diagnostic %zu: want %s, got:%s", i, prefix, all_diags());
        cr_assert(strstr(diags.items[i], want[i][1]), "diagnostic %zu: want %s, got:%s", i,
                  want[i][1], all_diags());
    }
}

/* ---- robustness -------------------------------------------------------- */

Test(config, survives_a_recursive_alias_in_a_plugin_config)
{
    cr_assert_null(load("plugins:\n  p:\n    path: p.so\n    config: &a {self: *a}\n"));
    cr_assert_geq(diags.count, 1);
    cr_assert(strstr(all_diags(), "t.yaml:") != NULL);
}

Test(config, rejects_infinity_in_a_plugin_config)
{
    expect_only_error("plugins:\n  p: {path: p.so, config: {x: .inf}}\n", "t.yaml:2:31: ",
                      "'.inf' cannot be represented in JSON");
}

/* ---- dynamic namespaces (namespace: {match: regex}) --------------------- */

#include "config/nsp_pattern.h"

Test(config, reads_a_namespace_pattern_for_events_and_middleware)
{
    config *c = load_ok(PLUGINS "events:\n"
                                "  - name: hello\n"
                                "    namespace: {match: \"^/tenant-[0-9]+$\"}\n"
                                "    handler: chat:a\n"
                                "  - name: hello\n"
                                "    namespace: /tenant-1\n"
                                "    handler: chat:b\n"
                                "  - name: bye\n"
                                "    namespace:\n"
                                "      match: ^/tenant-[0-9]+$\n"
                                "    handler: chat:c\n"
                                "middleware:\n"
                                "  - handler: chat:m\n"
                                "    namespace: {match: '^/room-\\w+$'}\n");
    cr_assert_eq(c->n_events, 3);
    cr_assert_str_eq(c->events[0].nsp, "^/tenant-[0-9]+$");
    cr_assert(c->events[0].nsp_match);
    cr_assert_str_eq(c->events[1].nsp, "/tenant-1");
    cr_assert_not(c->events[1].nsp_match, "a plain string stays an exact namespace");
    cr_assert(c->events[2].nsp_match);
    cr_assert_eq(c->n_middleware, 1);
    cr_assert_str_eq(c->middleware[0].nsp, "^/room-\\w+$");
    cr_assert(c->middleware[0].nsp_match);
    /* Two distinct patterns, in configuration order, each compiled once. */
    cr_assert_eq(c->n_patterns, 2);
    cr_assert_str_eq(c->patterns[0].source, "^/tenant-[0-9]+$");
    cr_assert_eq(c->patterns[0].at.line, 5);
    cr_assert_eq(c->patterns[0].at.column, 24);
    cr_assert_str_eq(c->patterns[1].source, "^/room-\\w+$");
    cr_assert(nsp_pattern_match(c->patterns[0].re, "/tenant-42"));
    cr_assert_not(nsp_pattern_match(c->patterns[0].re, "/tenant-x"));
    cr_assert(nsp_pattern_match(c->patterns[1].re, "/room-abc_1"));
}

Test(config, matches_a_pattern_anywhere_unless_anchored_as_regexp_test)
{
    config *c = load_ok(PLUGINS "events:\n"
                                "  - {name: a, handler: chat:a, namespace: {match: tenant}}\n"
                                "  - {name: a, handler: chat:a, namespace: {match: \"^/(?:a|b)\\\\d{2}$\"}}\n");
    cr_assert(nsp_pattern_match(c->patterns[0].re, "/my-tenant/x"));
    cr_assert(nsp_pattern_match(c->patterns[1].re, "/a12"));
    cr_assert_not(nsp_pattern_match(c->patterns[1].re, "/a123"));
    cr_assert_not(nsp_pattern_match(c->patterns[1].re, "/c12"));
}

Test(config, gives_up_on_a_catastrophic_pattern_instead_of_stalling)
{
    config *c = load_ok(PLUGINS "events:\n"
                                "  - {name: a, handler: chat:a, namespace: {match: \"^/(a+)+$\"}}\n");
    char name[64];
    memset(name, 'a', sizeof name - 2);
    name[0] = '/';
    name[sizeof name - 2] = '!';
    name[sizeof name - 1] = '\0';
    cr_assert_not(nsp_pattern_match(c->patterns[0].re, name));
    cr_assert(nsp_pattern_match(c->patterns[0].re, "/aaa"));
}

Test(config, reports_an_invalid_pattern_where_pcre2_found_it)
{
    expect_only_error(PLUGINS "events:\n"
                              "  - name: a\n"
                              "    handler: chat:a\n"
                              "    namespace: {match: \"^/tenant-(x\"}\n",
                      "t.yaml:6:36: ", /* PCRE2 finds it at the end */
                      "namespace: invalid pattern '^/tenant-(x': missing closing parenthesis");
    teardown();
    expect_only_error(PLUGINS "middleware:\n"
                              "  - handler: chat:a\n"
                              "    namespace:\n"
                              "      match: /[z-a]/\n",
                      "t.yaml:6:18: " /* the "a" */, "invalid pattern '/[z-a]/': range out of order");
}

Test(config, reports_a_bad_pattern_once_however_often_it_is_used)
{
    cr_assert_null(load(PLUGINS "events:\n"
                                "  - {name: a, handler: chat:a, namespace: {match: \"(\"}}\n"
                                "  - {name: b, handler: chat:a, namespace: {match: \"(\"}}\n"));
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    expect_diag("t.yaml:4:53: ", "missing closing parenthesis");
}

Test(config, rejects_a_namespace_of_the_wrong_type)
{
    cr_assert_null(load(PLUGINS "events:\n"
                                "  - {name: a, handler: chat:a, namespace: 5}\n"
                                "  - {name: b, handler: chat:a, namespace: [/a]}\n"
                                "  - {name: c, handler: chat:a, namespace: {match: 5}}\n"
                                "  - {name: d, handler: chat:a, namespace: {regex: x}}\n"
                                "  - {name: e, handler: chat:a, namespace: {}}\n"));
    cr_assert_eq(diags.count, 6, "%s", all_diags());
    expect_diag("t.yaml:4:43: ", "namespace: expected a string or {match: regex}, got an integer");
    expect_diag("t.yaml:5:43: ", "namespace: expected a string or {match: regex}, got a list");
    expect_diag("t.yaml:6:51: ", "match: expected a string, got an integer ('5')");
    expect_diag("t.yaml:7:44: ", "unknown namespace key 'regex' (expected one of: match)");
    expect_diag("t.yaml:7:43: ", "namespace: a pattern is written {match: regex}");
    expect_diag("t.yaml:8:43: ", "namespace: a pattern is written {match: regex}");
}

Test(config, treats_identical_patterns_as_one_namespace_for_duplicates)
{
    expect_only_error(PLUGINS "events:\n"
                              "  - {name: m, handler: chat:a, namespace: {match: '^/t-[0-9]+$'}}\n"
                              "  - name: m\n"
                              "    handler: chat:b\n"
                              "    namespace:\n"
                              "      match: ^/t-[0-9]+$\n",
                      "t.yaml:5:5: ",
                      "duplicate event 'm' in namespace {match: '^/t-[0-9]+$'} (first at line 4)");
    teardown();
    /* A name and a pattern with the same text are different namespaces, and
     * so are two patterns that happen to match the same names. */
    config *c = load_ok(PLUGINS "events:\n"
                                "  - {name: m, handler: chat:a, namespace: /t}\n"
                                "  - {name: m, handler: chat:a, namespace: {match: /t}}\n"
                                "  - {name: m, handler: chat:a, namespace: {match: ^/t$}}\n");
    cr_assert_eq(c->n_patterns, 2);
}

Test(config, reads_the_child_namespace_options)
{
    config *c = load_ok("{}\n");
    cr_assert_not(c->opts.cleanup_empty_child_namespaces, "socket.io's default");
    cr_assert_eq(c->opts.max_child_namespaces, 1000);
    c = load_ok("socket:\n  serverOptions:\n    cleanupEmptyChildNamespaces: true\n"
                "    maxChildNamespaces: 5\n");
    cr_assert(c->opts.cleanup_empty_child_namespaces);
    cr_assert_eq(c->opts.max_child_namespaces, 5);
}

Test(config, rejects_bad_child_namespace_options)
{
    cr_assert_null(load("socket:\n  serverOptions:\n    cleanupEmptyChildNamespaces: 1\n"
                        "    maxChildNamespaces: 0\n"));
    cr_assert_eq(diags.count, 2, "%s", all_diags());
    expect_diag("t.yaml:3:34: ", "cleanupEmptyChildNamespaces: expected true or false");
    expect_diag("t.yaml:4:25: ", "maxChildNamespaces: 0 is out of range (1 to 1000000)");
}

Test(config, the_send_queue_cap_defaults_to_64_mib)
{
    cr_assert_eq(load_ok("{}\n")->opts.max_queue_bytes, 64u << 20);
    cr_assert_eq(load_ok("socket:\n  serverOptions:\n    maxQueueBytes: 65536\n")
                     ->opts.max_queue_bytes,
                 65536);
}

Test(config, rejects_a_send_queue_cap_out_of_range_or_of_wrong_type)
{
    expect_only_error("socket:\n  serverOptions:\n    maxQueueBytes: 1000\n", "t.yaml:3:20: ",
                      "maxQueueBytes: 1000 is out of range (65536 to 1073741824)");
    expect_only_error("socket:\n  serverOptions:\n    maxQueueBytes: 2147483648\n",
                      "t.yaml:3:20: ", "maxQueueBytes: 2147483648 is out of range");
    expect_only_error("socket:\n  serverOptions:\n    maxQueueBytes: -1\n", "t.yaml:3:20: ",
                      "maxQueueBytes");
    expect_only_error("socket:\n  serverOptions:\n    maxQueueBytes: lots\n", "t.yaml:3:20: ",
                      "maxQueueBytes");
}

/* ---- serverOptions.connectionStateRecovery ------------------------------ */

static const config_server_options *opts_ok(const char *yaml) { return &load_ok(yaml)->opts; }

Test(config, recovery_is_off_unless_the_option_is_given)
{
    cr_assert_not(opts_ok("socket: {serverOptions: {pingInterval: 1000}}\n")->csr.enabled);
    cr_assert_not(opts_ok("socket:\n  serverOptions:\n    connectionStateRecovery: false\n")
                      ->csr.enabled);
}

Test(config, recovery_takes_socketio_defaults_for_what_is_left_out)
{
    const config_server_options *o =
        opts_ok("socket:\n  serverOptions:\n    connectionStateRecovery: {}\n");
    cr_assert(o->csr.enabled);
    cr_assert_eq(o->csr.max_disconnection, 120000);
    cr_assert(o->csr.skip_middlewares);
    o = opts_ok("socket:\n  serverOptions:\n    connectionStateRecovery: true\n");
    cr_assert(o->csr.enabled && o->csr.max_disconnection == 120000 && o->csr.skip_middlewares);
    o = opts_ok("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                "      skipMiddlewares: false\n");
    cr_assert(o->csr.enabled && o->csr.max_disconnection == 120000 && !o->csr.skip_middlewares);
}

Test(config, recovery_reads_both_values)
{
    const config_server_options *o =
        opts_ok("socket:\n"
                "  serverOptions:\n"
                "    connectionStateRecovery:\n"
                "      maxDisconnectionDuration: 3e4\n"
                "      skipMiddlewares: false\n");
    cr_assert(o->csr.enabled);
    cr_assert_eq(o->csr.max_disconnection, 30000);
    cr_assert_not(o->csr.skip_middlewares);
}

Test(config, recovery_reports_a_value_of_the_wrong_type_where_it_is)
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

Test(config, recovery_reports_an_out_of_range_duration)
{
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectionDuration: 0\n",
                      "t.yaml:4:33: ",
                      "maxDisconnectionDuration: 0 is out of range (1 to 2147483647)");
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectionDuration: 2147483648\n",
                      "t.yaml:4:33: ", "maxDisconnectionDuration: 2147483648 is out of range");
}

Test(config, recovery_reports_an_unknown_key_naming_the_known_ones)
{
    expect_only_error("socket:\n  serverOptions:\n    connectionStateRecovery:\n"
                      "      maxDisconnectDuration: 1000\n",
                      "t.yaml:4:7: ",
                      "unknown connectionStateRecovery option 'maxDisconnectDuration' (expected "
                      "one of: maxDisconnectionDuration, skipMiddlewares)");
}

/* ---- serverEvents -------------------------------------------------------- */

Test(config, reads_server_events_apart_from_client_events)
{
    cr_assert_not_null(load(PLUGINS "events:\n"
                                    "  - {name: sync, handler: chat:a}\n"
                                    "serverEvents:\n"
                                    "  - {name: sync, handler: chat:b}\n"
                                    "  - {name: sync, namespace: /chat, handler: chat:c}\n"),
                       "%s", all_diags());
    cr_assert_eq(cfg->n_events, 3);
    cr_assert(!cfg->events[0].server);
    cr_assert(cfg->events[1].server);
    cr_assert_str_eq(cfg->events[1].nsp, "/");
    cr_assert_str_eq(cfg->events[2].nsp, "/chat");
    cr_assert_str_eq(cfg->events[2].handler.symbol, "c");
}

Test(config, rejects_a_duplicate_server_event)
{
    expect_only_error(PLUGINS "serverEvents:\n"
                              "  - {name: sync, handler: chat:a}\n"
                              "  - {name: sync, handler: chat:b}\n",
                      "t.yaml:5:5: ", "duplicate server event 'sync' in namespace '/' (first at line 4)");
}

Test(config, rejects_a_server_event_on_a_pattern_or_reserved)
{
    cr_assert_null(load(PLUGINS "serverEvents:\n"
                                "  - name: sync\n"
                                "    handler: chat:a\n"
                                "    namespace: {match: ^/t$}\n"
                                "  - {name: disconnect, handler: chat:b}\n"));
    cr_assert_eq(diags.count, 2, "%s", all_diags());
    expect_diag("t.yaml:4:5: ", "server event 'sync': its namespace must be a name, not a pattern");
    expect_diag("t.yaml:7:5: ", "server event name 'disconnect' is reserved");
}

/* ---- security: abuse limits -------------------------------------------- */

Test(config, security_is_off_by_default)
{
    config *c = load_ok("{}\n");
    cr_assert_eq(c->security.events_per_second, 0);
    cr_assert_eq(c->security.max_connections_per_address, 0);
    cr_assert_not(c->security.has_allow);
    cr_assert_null(c->security.allow);
}

Test(config, reads_security)
{
    config *c = load_ok("security:\n"
                        "  rateLimit: {eventsPerSecond: 50, burst: 100, disconnectAfter: 500}\n"
                        "  maxConnectionsPerAddress: 20\n"
                        "  allow: [127.0.0.1, 10.0.0.0/8, \"::1\", \"fd00::/8\"]\n");
    cr_assert_eq(c->security.events_per_second, 50);
    cr_assert_eq(c->security.burst, 100);
    cr_assert_eq(c->security.disconnect_after, 500);
    cr_assert_eq(c->security.max_connections_per_address, 20);
    cr_assert(c->security.has_allow);
    cr_assert_eq(c->security.n_allow, 4);
    cr_assert_eq(c->security.allow[1].prefix, 96 + 8);
    cr_assert_eq(c->security.allow[2].prefix, 128);
}

Test(config, a_rate_limit_burst_defaults_to_the_rate_rounded_up)
{
    cr_assert_eq(load_ok("security: {rateLimit: {eventsPerSecond: 50}}\n")->security.burst, 50);
    cr_assert_eq(load_ok("security: {rateLimit: {eventsPerSecond: 2.5}}\n")->security.burst, 3);
    cr_assert_eq(load_ok("security: {rateLimit: {eventsPerSecond: 0.2}}\n")->security.burst, 1);
    cr_assert_eq(load_ok("security: {rateLimit: {eventsPerSecond: 0.2}}\n")
                     ->security.events_per_second,
                 0.2);
}

Test(config, rejects_a_rate_that_is_not_above_zero_or_not_a_number)
{
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: -5}\n", "t.yaml:2:32: ",
                      "eventsPerSecond: -5 is out of range (more than 0, at most 1000000)");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 0}\n", "t.yaml:2:32: ",
                      "eventsPerSecond: 0 is out of range");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 2000000}\n", "t.yaml:2:32: ",
                      "eventsPerSecond: 2000000 is out of range");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: .nan}\n", "t.yaml:2:32: ",
                      "out of range");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: fast}\n", "t.yaml:2:32: ",
                      "eventsPerSecond: expected a number of events a second");
}

Test(config, rejects_a_rate_limit_without_a_rate_or_with_a_bad_burst)
{
    expect_only_error("security:\n  rateLimit: {burst: 10}\n", "t.yaml:2:14: ",
                      "rateLimit has no eventsPerSecond");
    expect_only_error("security:\n  rateLimit: 50\n", "t.yaml:2:14: ", "rateLimit: expected a mapping");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 5, burst: 0}\n", "t.yaml:2:42: ",
                      "burst: 0 is out of range");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 5, burst: -3}\n", "t.yaml:2:42: ",
                      "burst");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 5, disconnectAfter: -1}\n",
                      "t.yaml:2:52: ", "disconnectAfter");
    expect_only_error("security:\n  rateLimit: {eventsPerSecond: 5, perMinute: 3}\n",
                      "t.yaml:2:35: ", "unknown rateLimit key 'perMinute'");
}

Test(config, rejects_a_bad_max_connections_per_address)
{
    expect_only_error("security:\n  maxConnectionsPerAddress: -1\n", "t.yaml:2:29: ",
                      "maxConnectionsPerAddress");
    expect_only_error("security:\n  maxConnectionsPerAddress: many\n", "t.yaml:2:29: ",
                      "maxConnectionsPerAddress");
    cr_assert_eq(load_ok("security:\n  maxConnectionsPerAddress: 0\n")
                     ->security.max_connections_per_address,
                 0, "0 is no limit");
}

Test(config, rejects_a_bad_cidr_block_at_its_place)
{
    cr_assert_null(load("security:\n"
                        "  allow:\n"
                        "    - 10.0.0.0/8\n"
                        "    - 10.0.0.0/33\n"
                        "    - localhost\n"
                        "    - 10.1.2.3/16\n"
                        "    - 3\n"));
    cr_assert_eq(diags.count, 4, "%s", all_diags());
    expect_diag("t.yaml:4:7: ", "allow: the prefix '33' is not a number from 0 to 32 "
                                "(expected an address or a CIDR block");
    expect_diag("t.yaml:5:7: ", "allow: 'localhost' is not an IPv4 or IPv6 address");
    expect_diag("t.yaml:6:7: ", "allow: 10.1.2.3/16 has bits set past its prefix: 10.1.0.0/16?");
    expect_diag("t.yaml:7:7: ", "allow: expected a string");
}

Test(config, rejects_an_empty_or_misshapen_allow_list)
{
    expect_only_error("security:\n  allow: []\n", "t.yaml:2:10: ", "allow: the list is empty");
    expect_only_error("security:\n  allow: 10.0.0.0/8\n", "t.yaml:2:10: ", "allow: expected a list");
    expect_only_error("security:\n  allow:\n", "t.yaml:2:9: ", "allow: expected a list");
    expect_only_error("security:\n  deny: [1.2.3.4]\n", "t.yaml:2:3: ",
                      "unknown security key 'deny' (expected one of: rateLimit, "
                      "maxConnectionsPerAddress, allow)");
}

/* ---- server.static and serveClient --------------------------------------- */

/* Loads `yaml` as "t.yaml" in TEST_DATA_DIR, a directory that exists
 * (static dirs are checked on disk). */
static config *load_in_data(const char *yaml)
{
    teardown();
    cfg = config_load_string(yaml, strlen(yaml), "t.yaml", TEST_DATA_DIR, &diags);
    return cfg;
}

#define expect_only_error_in_data(yaml, where, text)                                   \
    do {                                                                               \
        cr_assert_null(load_in_data(yaml), "loaded although wrong");                   \
        cr_assert_eq(diags.count, 1, "want 1 diagnostic, got %zu:%s", diags.count,     \
                     all_diags());                                                     \
        expect_diag(where, text);                                                      \
    } while (0)

Test(config, reads_static_mounts_against_the_config_directory)
{
    load_in_data("server:\n"
                 "  static:\n"
                 "    - {path: /, dir: .}\n"
                 "    - path: /docs/\n"
                 "      dir: " TEST_DATA_DIR "\n");
    cr_assert_not_null(cfg, "%s", all_diags());
    cr_assert_eq(cfg->statics.n_mounts, 2);
    cr_assert_str_eq(cfg->statics.mounts[0].path, "/");
    cr_assert_str_eq(cfg->statics.mounts[0].dir, TEST_DATA_DIR "/.");
    cr_assert_str_eq(cfg->statics.mounts[1].path, "/docs", "the trailing slash is dropped");
    cr_assert_str_eq(cfg->statics.mounts[1].dir, TEST_DATA_DIR);
    cr_assert_eq(cfg->statics.mounts[1].path_at.line, 4);
}

Test(config, has_no_static_mounts_by_default)
{
    cr_assert_eq(load_ok("server: {}\n")->statics.n_mounts, 0);
    cr_assert_eq(load_ok("server:\n  static: []\n")->statics.n_mounts, 0);
}

Test(config, rejects_a_static_dir_that_does_not_exist)
{
    expect_only_error_in_data("server:\n  static:\n    - {path: /, dir: nowhere}\n",
                              "t.yaml:3:22: ", "static dir: cannot serve '" TEST_DATA_DIR
                              "/nowhere': No such file or directory");
}

Test(config, rejects_a_static_dir_that_is_a_file)
{
    expect_only_error_in_data("server:\n  static:\n    - {path: /, dir: spec_example.yaml}\n",
                              "t.yaml:3:22: ", "static dir: cannot serve '" TEST_DATA_DIR
                              "/spec_example.yaml': not a directory");
}

Test(config, rejects_a_duplicate_static_path_naming_the_first)
{
    expect_only_error_in_data("server:\n"
                              "  static:\n"
                              "    - {path: /docs, dir: .}\n"
                              "    - {path: /docs/, dir: .}\n",
                              "t.yaml:4:14: ", "duplicate static path '/docs' (first at line 3)");
}

Test(config, rejects_static_paths_that_are_not_plain_url_paths)
{
    const char *bad[] = {"docs", "/a/../b", "/./a", "/a//b", "//", "/a%20b", "/a?x", "/a#b",
                         "'/a b'", "/a\\\\b", "/..", "''"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "server:\n  static:\n    - {path: %s, dir: .}\n", bad[i]);
        cr_assert_null(load_in_data(yaml), "accepted %s", bad[i]);
        cr_assert_eq(diags.count, 1, "%s:%s", bad[i], all_diags());
        expect_diag("t.yaml:3:14: ", "must start with '/' and be a plain URL path");
    }
}

Test(config, rejects_a_static_entry_without_path_or_dir_or_with_unknown_keys)
{
    load_in_data("server:\n"
                 "  static:\n"
                 "    - {dir: .}\n"
                 "    - {path: /a}\n"
                 "    - {path: /b, dir: ., index: no}\n"
                 "    - /c\n"
                 "  port: 1\n");
    cr_assert_null(cfg);
    cr_assert_eq(diags.count, 4, "%s", all_diags());
    expect_diag("t.yaml:3:7: ", "static entry has no path");
    expect_diag("t.yaml:4:7: ", "static entry has no dir");
    expect_diag("t.yaml:5:26: ", "unknown static key 'index' (expected one of: path, dir)");
    expect_diag("t.yaml:6:7: ", "static entry: expected a mapping with path and dir");
    expect_only_error_in_data("server:\n  static: {path: /, dir: .}\n", "t.yaml:2:11: ",
                              "static: expected a list");
}

Test(config, rejects_a_static_path_inside_the_socketio_path_in_either_order)
{
    expect_only_error_in_data("server:\n  static:\n    - {path: /socket.io/x, dir: .}\n",
                              "t.yaml:3:14: ",
                              "static path '/socket.io/x' is inside socket.serverOptions.path "
                              "'/socket.io', which Socket.IO answers");
    expect_only_error_in_data("socket:\n  serverOptions:\n    path: /io\n"
                              "server:\n  static:\n    - {path: /io, dir: .}\n",
                              "t.yaml:6:14: ", "static path '/io' is inside");
    expect_only_error_in_data("server:\n  static:\n    - {path: /docs, dir: .}\n"
                              "socket:\n  serverOptions:\n    path: /\n",
                              "t.yaml:3:14: ", "static path '/docs' is inside "
                              "socket.serverOptions.path '/'");
}

Test(config, allows_a_static_path_beside_or_above_the_socketio_path)
{
    load_in_data("server:\n  static:\n    - {path: /, dir: .}\n    - {path: /socket, dir: .}\n"
                 "    - {path: /socket.io2, dir: .}\n");
    cr_assert_not_null(cfg, "%s", all_diags());
    cr_assert_eq(cfg->statics.n_mounts, 3);
}

Test(config, serve_client_is_on_by_default_with_the_built_in_directory)
{
    const config_server_options *o = opts_ok("server: {}\n");
    cr_assert(o->serve_client.enabled);
    cr_assert_null(o->serve_client.dir);
}

Test(config, reads_serve_client_as_a_boolean_or_a_directory)
{
    cr_assert_not(opts_ok("socket:\n  serverOptions:\n    serveClient: false\n")
                      ->serve_client.enabled);
    load_in_data("socket:\n  serverOptions:\n    serveClient: {dir: .}\n");
    cr_assert_not_null(cfg, "%s", all_diags());
    cr_assert(cfg->opts.serve_client.enabled);
    cr_assert_str_eq(cfg->opts.serve_client.dir, TEST_DATA_DIR "/.");
    load_in_data("socket:\n  serverOptions:\n    serveClient: {}\n");
    cr_assert_not_null(cfg, "%s", all_diags());
    cr_assert(cfg->opts.serve_client.enabled);
    cr_assert_null(cfg->opts.serve_client.dir);
}

Test(config, rejects_wrong_serve_client_values)
{
    expect_only_error_in_data("socket:\n  serverOptions:\n    serveClient: {dir: gone}\n",
                              "t.yaml:3:24: ", "serveClient dir: cannot serve '" TEST_DATA_DIR
                              "/gone': No such file or directory");
    expect_only_error_in_data("socket:\n  serverOptions:\n    serveClient: 1\n", "t.yaml:3:18: ",
                              "serveClient: expected true, false or {dir: path}");
    expect_only_error_in_data("socket:\n  serverOptions:\n    serveClient: {path: x}\n",
                              "t.yaml:3:19: ", "unknown serveClient key 'path'");
}

/* ---- admin: the Admin UI ---------------------------------------------- */

#define HASH "$2a$04$jKZFrXIMXwLZ4rXEPBIpp.at2.OvMjK4kHwjB9HoG9lG6NJCH1bgC"

Test(config, admin_is_off_unless_given)
{
    load_ok("server: {port: 1}\n");
    cr_assert_not(cfg->admin.enabled);
}

Test(config, reads_admin_with_its_defaults)
{
    load_ok("admin:\n  auth: {username: admin, password: \"" HASH "\"}\n");
    cr_assert(cfg->admin.enabled);
    cr_assert_str_eq(cfg->admin.nsp, "/admin");
    cr_assert(cfg->admin.auth);
    cr_assert_str_eq(cfg->admin.username, "admin");
    cr_assert_str_eq(cfg->admin.password, HASH);
    cr_assert_not(cfg->admin.readonly);
    cr_assert_not(cfg->admin.production);
    cr_assert_null(cfg->admin.server_id);
    cr_assert_eq(cfg->admin.session_ttl, 86400);
}

Test(config, reads_every_admin_key)
{
    load_ok("admin:\n  namespace: /ops\n  auth: false\n  readonly: true\n  mode: production\n"
            "  serverId: node-1\n  sessionDuration: 60\n");
    cr_assert_str_eq(cfg->admin.nsp, "/ops");
    cr_assert_not(cfg->admin.auth);
    cr_assert(cfg->admin.readonly);
    cr_assert(cfg->admin.production);
    cr_assert_str_eq(cfg->admin.server_id, "node-1");
    cr_assert_eq(cfg->admin.session_ttl, 60);
}

Test(config, admin_auth_takes_type_basic)
{
    load_ok("admin:\n  auth: {type: basic, username: a, password: \"" HASH "\"}\n");
    expect_only_error("admin:\n  auth: {type: oauth, username: a, password: \"" HASH "\"}\n",
                      "t.yaml:2:16: ", "admin.auth.type: 'oauth' is not known");
}

Test(config, admin_requires_auth)
{
    expect_only_error("admin: {mode: development}\n", "t.yaml:1:8: ",
                      "admin: auth must be given");
    expect_only_error("admin:\n", "t.yaml:1:7: ", "admin: auth must be given");
}

Test(config, admin_auth_true_is_not_a_login)
{
    expect_only_error("admin: {auth: true}\n", "t.yaml:1:15: ",
                      "auth: expected {username, password} or false");
}

Test(config, admin_password_must_be_a_bcrypt_hash)
{
    expect_only_error("admin:\n  auth:\n    username: admin\n    password: secret\n", "t.yaml:4:15: ",
                      "admin.auth.password: must be a valid bcrypt hash");
}

Test(config, admin_auth_needs_username_and_password)
{
    expect_only_error("admin:\n  auth: {username: admin}\n", "t.yaml:2:9: ",
                      "admin.auth needs both username and password");
}

Test(config, admin_mode_is_development_or_production)
{
    expect_only_error("admin: {auth: false, mode: staging}\n", "t.yaml:1:28: ",
                      "admin.mode: 'staging' is neither development nor production");
}

Test(config, admin_namespace_is_a_namespace_of_its_own)
{
    expect_only_error("admin: {auth: false, namespace: admin}\n", "t.yaml:1:33: ",
                      "must start with '/'");
    expect_only_error("admin: {auth: false, namespace: /}\n", "t.yaml:1:33: ",
                      "'/' is the main namespace");
}

Test(config, admin_namespace_must_not_be_an_events)
{
    expect_only_error(PLUGINS "events:\n  - name: message\n    namespace: /admin\n"
                              "    handler: chat:on\nadmin:\n  auth: false\n",
                      "t.yaml:8:3: ", "'/admin' is the Admin UI's own, but the event at line 4");
    expect_only_error(PLUGINS "admin: {auth: false, namespace: /ops}\n"
                              "middleware:\n  - namespace: /ops\n    handler: chat:gate\n",
                      "t.yaml:3:33: ", "'/ops' is the Admin UI's own, but the middleware at line 5");
}

Test(config, rejects_unknown_admin_key)
{
    expect_only_error("admin: {auth: false, user: x}\n", "t.yaml:1:22: ", "unknown admin key 'user'");
}

/* ---- server.metrics ------------------------------------------------------ */

Test(config, metrics_is_off_by_default_with_the_usual_path)
{
    cr_assert_not_null(load("server: {port: 0}\n"), "%s", all_diags());
    cr_assert_not(cfg->metrics.enabled);
    cr_assert_str_eq(cfg->metrics.path, "/metrics");
}

Test(config, metrics_true_and_false_turn_it_on_and_off)
{
    cr_assert(load("server: {metrics: true}\n")->metrics.enabled);
    cr_assert_str_eq(cfg->metrics.path, "/metrics");
    cr_assert_not(load("server: {metrics: false}\n")->metrics.enabled);
}

Test(config, metrics_a_block_turns_it_on_unless_it_says_enabled_false)
{
    cr_assert_not_null(load("server:\n  metrics: {path: /internal/prom}\n"), "%s", all_diags());
    cr_assert(cfg->metrics.enabled);
    cr_assert_str_eq(cfg->metrics.path, "/internal/prom");
    cr_assert_not(load("server:\n  metrics: {enabled: false, path: /p}\n")->metrics.enabled);
}

Test(config, metrics_refuses_a_path_inside_the_socketio_path_where_it_is_written)
{
    cr_assert_null(load("server:\n  metrics:\n    path: /socket.io/metrics\n"));
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    cr_assert_str_eq(diags.items[0], "t.yaml:3:11: metrics.path '/socket.io/metrics' is inside "
                                     "socket.serverOptions.path '/socket.io'");
}

Test(config, metrics_refuses_the_socketio_path_itself_and_any_path_under_a_root_one)
{
    cr_assert_null(load("socket: {serverOptions: {path: /rt}}\nserver: {metrics: {path: /rt}}\n"));
    cr_assert_null(load("server: {metrics: true}\nsocket: {serverOptions: {path: /}}\n"));
    cr_assert_eq(diags.count, 1);
    cr_assert(strstr(diags.items[0], "t.yaml:1:19: metrics.path '/metrics' is inside "
                                     "socket.serverOptions.path '/'"),
              "%s", diags.items[0]);
}

Test(config, metrics_allows_a_path_that_only_shares_a_prefix_or_when_off)
{
    cr_assert_not_null(load("server: {metrics: {path: /socket.iox}}\n"), "%s", all_diags());
    cr_assert_not_null(load("server: {metrics: {enabled: false, path: /socket.io/m}}\n"),
                       "%s", all_diags());
}

Test(config, metrics_refuses_a_bad_path_a_bad_type_and_an_unknown_key)
{
    cr_assert_null(load("server: {metrics: {path: metrics}}\n"));
    cr_assert(strstr(all_diags(), "t.yaml:1:26: metrics.path: 'metrics' must start with '/'"),
              "%s", all_diags());
    cr_assert_null(load("server: {metrics: {path: '/m?x=1'}}\n"));
    cr_assert(strstr(all_diags(), "must start with '/' and have no '?' or '#'"), "%s",
              all_diags());
    cr_assert_null(load("server: {metrics: {path: /healthz}}\n"));
    cr_assert(strstr(all_diags(), "'/healthz' is the health check's"), "%s", all_diags());
    cr_assert_null(load("server: {metrics: 3}\n"));
    cr_assert(strstr(all_diags(), "t.yaml:1:19: "), "%s", all_diags());
    cr_assert_null(load("server: {metrics: {enable: true}}\n"));
    cr_assert(strstr(all_diags(), "unknown metrics key 'enable'"), "%s", all_diags());
}
