/*
 * config.c - plugio's configuration schema: what each key of the YAML file
 * means and which values it takes, read into a `config` (config.h).
 *
 * Each fixed mapping (server, serverOptions, an event ...) is a table of
 * the keys it accepts, walked by config_yaml.c, which checks "unknown key"
 * and "duplicate key" in one place; every key's setter only checks its
 * value.  Most setters are shared by the type of value (milliseconds,
 * booleans, bounded integers, header lists) and write the member the table
 * names by offsetof; an option with a rule of its own has a setter of its
 * own.
 *
 * A mistake is recorded and the walk goes on, so one run reports every error
 * in the file.  Handler references are checked against `plugins:` only once
 * the whole file is read, since sections may come in any order.
 */
#include "config.h"

#include "base/array.h"
#include "base/bcrypt.h"
#include "base/buf.h"
#include "config_yaml.h"
#include "nsp_pattern.h"
#include "protocol/sio_packet.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Socket.IO's option defaults (socket.io v4 / engine.io v6). */
#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_PORT 3000
#define DEFAULT_PATH "/socket.io"
#define DEFAULT_PING_INTERVAL 25000
#define DEFAULT_PING_TIMEOUT 20000
#define DEFAULT_CONNECT_TIMEOUT 45000
#define DEFAULT_UPGRADE_TIMEOUT 10000
#define DEFAULT_MAX_HTTP_BUFFER_SIZE 1000000
/* plugio's own: socket.io lets clients create child namespaces without end. */
#define DEFAULT_MAX_CHILD_NAMESPACES 1000
#define MAX_MAX_CHILD_NAMESPACES 1000000
/* The npm `cors` package's default Access-Control-Allow-Methods. */
#define DEFAULT_CORS_METHODS "GET,HEAD,PUT,PATCH,POST,DELETE"

/* plugins.<name>.timeoutMs: a handler that runs this long is stuck. */
#define DEFAULT_PLUGIN_TIMEOUT_MS 2000
/* Timers are armed in milliseconds; Node's setTimeout caps at 2^31-1 too. */
#define MAX_MS 2147483647

/* One load: the YAML being read and the config built from it.  Setters
 * that add to the config's arrays reach it through the reader's `data`. */
typedef struct loader {
    cy_reader yaml;
    config *c;
    size_t cap_plugins, cap_events, cap_middleware, cap_patterns;
} loader;

static loader *loader_of(cy_reader *r)
{
    return r->data;
}

/* ---- setters for plugio's kinds of value ------------------------------- */

/* Milliseconds, a uint32_t: timers are armed in them, up to MAX_MS. */
static void set_ms(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    int64_t ms;
    if (cy_int(r, f->key, val, true, 1, MAX_MS, &ms))
        *(uint32_t *)cy_member(f, obj) = (uint32_t)ms;
}

/* socket.io options for features plugio does not have (f->arg says why):
 * their "off" value is accepted so a configuration written for socket.io
 * that spells it out still loads; anything else is an error rather than
 * silently ignored. */
static void set_false_only(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    cy_scalar sc = cy_resolve(val);
    if (!(sc.kind == CY_BOOL && !sc.b))
        cy_report(r, val, "%s: %s; only false is supported", f->key, (const char *)f->arg);
}

/* A list of strings, or one comma-separated string, as one header value. */
static bool get_header_list(cy_reader *r, const char *what, yaml_node_t *val, char **out)
{
    if (val->type == YAML_SCALAR_NODE) {
        const char *s = cy_string(r, what, val);
        if (!s)
            return false;
        cy_set_str(r, out, s);
        return true;
    }
    if (!cy_want_list(r, what, val, false))
        return false;
    buf b = BUF_INIT;
    bool ok = true;
    for (size_t i = 0; i < cy_len(val); i++) {
        const char *s = cy_string(r, what, cy_item(r, val, i));
        if (!s)
            ok = false;
        else
            buf_printf(&b, "%s%s", b.len ? "," : "", s);
    }
    if (ok && b.failed)
        r->oom = true;
    if (!ok || b.failed) {
        buf_free(&b);
        return false;
    }
    free(*out);
    *out = b.data ? buf_steal(&b, NULL) : cy_strdup(r, "");
    return true;
}

static void set_header_list(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    get_header_list(r, f->key, val, cy_member(f, obj));
}

/* ---- handler references ------------------------------------------------ */

static bool is_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] == '\0';
}

static bool is_plugin_name(const char *s)
{
    return *s && s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] ==
                     '\0';
}

/* "plugin:symbol".  Whether the plugin exists is checked by check_refs()
 * once all of `plugins:` is known; whether it exports the symbol, by the
 * binder. */
static bool parse_ref(cy_reader *r, const char *what, yaml_node_t *val, config_ref *ref)
{
    const char *s = cy_string(r, what, val);
    if (!s)
        return false;
    const char *colon = strchr(s, ':');
    if (!colon) {
        cy_report(r, val, "%s: '%s' is not a reference of the form plugin:symbol", what, s);
        return false;
    }
    size_t plen = (size_t)(colon - s);
    const char *sym = colon + 1;
    if (plen == 0 || *sym == '\0') {
        cy_report(r, val, "%s: '%s' has an empty %s name (expected plugin:symbol)", what, s,
                  plen == 0 ? "plugin" : "symbol");
        return false;
    }
    if (!is_identifier(sym)) {
        cy_report(r, val, "%s: '%s' is not a C identifier (in '%s')", what, sym, s);
        return false;
    }
    char *plugin = strndup(s, plen);
    char *symbol = cy_strdup(r, sym);
    if (!plugin || !symbol) {
        r->oom = true;
        free(plugin);
        free(symbol);
        return false;
    }
    free(ref->plugin);
    free(ref->symbol);
    *ref = (config_ref){plugin, symbol, cy_mark(val)};
    return true;
}

static void set_ref(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    parse_ref(r, f->key, val, cy_member(f, obj));
}

/* ---- server ------------------------------------------------------------- */

static void server_host(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s && !*s)
        cy_report(r, val, "host: must not be empty");
    else if (s)
        cy_set_str(r, &((config *)obj)->host, s);
}

/* Custom request headers to keep for plugins: libwebsockets only
 * enumerates the headers it knows, so others must be named. */
static void server_headers(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    char **headers = &((config *)obj)->custom_headers;
    if (get_header_list(r, f->key, val, headers))
        for (char *p = *headers; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

/* ---- server.metrics ------------------------------------------------------
 * `metrics: true|false`, or `{enabled, path}` (a block enables them unless
 * it says `enabled: false`).  Off by default: a scrape names the
 * configuration's plugins and events and counts the clients, which is not
 * for every visitor of a public port - an operator turns it on, and keeps
 * the path to the network Prometheus scrapes from (a proxy rule).  The
 * path must be outside serverOptions.path (Engine.IO's requests are
 * there), checked once the whole file is read (check_metrics). */

static void metrics_path(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_metrics *m = obj;
    const char *s = cy_string(r, f->key, val);
    if (!s)
        return;
    if (s[0] != '/' || strcspn(s, "?#") != strlen(s)) {
        cy_report(r, val, "metrics.path: '%s' must start with '/' and have no '?' or '#'", s);
        return;
    }
    if (strcmp(s, CONFIG_HEALTH_PATH) == 0) {
        cy_report(r, val, "metrics.path: '/healthz' is the health check's");
        return;
    }
    cy_set_str(r, &m->path, s);
    m->at = cy_mark(val);
}

static const cy_section metrics_section = {
    "metrics key",
    (const cy_field[]){
        {"enabled", .set = cy_set_bool, .offset = offsetof(config_metrics, enabled)},
        {"path", .set = metrics_path},
        {0},
    },
};

/* server.log: {format: text|json, level: debug|info|warn|error}. */
static void log_format_key(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s && !log_parse_format(s, &((config_log *)obj)->format))
        cy_report(r, val, "unknown log format '%s' (plugio has text and json)", s);
}

static void log_level_key(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_log *l = obj;
    const char *s = cy_string(r, f->key, val);
    if (s && !log_parse_level(s, &l->level))
        cy_report(r, val, "unknown log level '%s' (debug, info, warn or error)", s);
    else if (s)
        l->has_level = true;
}

static const cy_section log_section = {
    "log key",
    (const cy_field[]){
        {"format", .set = log_format_key},
        {"level", .set = log_level_key},
        {0},
    },
};

static void server_metrics(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_metrics *m = &((config *)obj)->metrics;
    m->at = cy_mark(val);
    if (cy_resolve(val).kind == CY_BOOL) {
        cy_bool(r, f->key, val, &m->enabled);
    } else if (cy_want_mapping(r, f->key, val, false)) {
        m->enabled = true;
        cy_walk(r, val, &metrics_section, m);
    }
}

/* maxHeaderSize is Node's: libwebsockets keeps a request head in a buffer
 * sized from it (server.c), so it takes effect at start only.  Beyond
 * maxConnections, new sessions are refused with 503 (http.c); the host
 * caps it to what its descriptor limit allows (server.c).
 *
 * headersTimeout and requestTimeout bound a request that trickles in
 * (http.c): the head must have arrived within headersTimeout (Node's
 * default, 60 s) and the whole request, body included, within
 * requestTimeout.  Node 18 allows 300 s for the latter; plugio's bodies
 * are Engine.IO payloads of at most maxHttpBufferSize (1 MB) that a
 * client sends at once, so 30 s is ample for a slow link and holds a
 * trickling POST a tenth as long.  Both take effect on reload for
 * requests that start after it. */
#define TIMEOUT_MIN 100
#define TIMEOUT_MAX 3600000
static void server_static(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj);
static const cy_section server_section = {
    "server key",
    (const cy_field[]){
        {"host", .set = server_host},
        {"port", .set = cy_set_u16, .offset = offsetof(config, port), .min = 0, .max = 65535,
         .literal = true},
        {"headers", .set = server_headers},
        {"maxHeaderSize", .set = cy_set_u32, .offset = offsetof(config, max_header_size),
         .min = 1024, .max = CONFIG_MAX_HEADER_SIZE_MAX},
        {"maxConnections", .set = cy_set_u32, .offset = offsetof(config, max_connections), .min = 1,
         .max = UINT32_MAX},
        {"headersTimeout", .set = cy_set_u32, .offset = offsetof(config, headers_timeout),
         .min = TIMEOUT_MIN, .max = TIMEOUT_MAX},
        {"requestTimeout", .set = cy_set_u32, .offset = offsetof(config, request_timeout),
         .min = TIMEOUT_MIN, .max = TIMEOUT_MAX},
        {"static", .set = server_static},
        {"metrics", .set = server_metrics},
        {"log", .set = cy_set_section, .offset = offsetof(config, log), .arg = &log_section},
        {0},
    },
};

/* ---- plugins ------------------------------------------------------------ */

/* Relative paths are relative to the configuration file, not to the
 * directory the host happens to start in. */
static char *resolve_path(cy_reader *r, const char *path)
{
    if (path[0] == '/')
        return cy_strdup(r, path);
    buf b = BUF_INIT;
    buf_printf(&b, "%s/%s", loader_of(r)->c->dir, path);
    if (b.failed) {
        r->oom = true;
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}

static void read_plugin_path(cy_reader *r, config_plugin *p, yaml_node_t *val)
{
    const char *s = cy_string(r, "plugin path", val);
    if (!s)
        return;
    if (!*s) {
        cy_report(r, val, "plugin '%s': the path is empty", p->name);
        return;
    }
    char *path = resolve_path(r, s);
    if (!path)
        return;
    free(p->path);
    p->path = path;
    p->path_at = cy_mark(val);
}

static void plugin_path(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)f;
    read_plugin_path(r, obj, val);
}

static void plugin_config(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_plugin *p = obj;
    if (!cy_want_mapping(r, f->key, val, true))
        return;
    json_object *json;
    if (cy_to_json(r, "config", val, &json)) {
        json_object_put(p->config);
        p->config = json;
    }
}

static const cy_section plugin_section = {
    "plugin key",
    (const cy_field[]){
        {"path", .set = plugin_path},
        {"config", .set = plugin_config},
        {"timeoutMs", .set = cy_set_u32, .offset = offsetof(config_plugin, timeout_ms), .min = 0,
         .max = MAX_MS},
        {0},
    },
};

/* Room for one more element in one of the config's arrays (ARRAY_RESERVE;
 * running out of memory is reported by the loader). */
#define ROOM_FOR_ONE(ld, items, n, cap) \
    (ARRAY_RESERVE(items, (n) + 1, cap, 4) || ((ld)->yaml.oom = true, false))

static config_plugin *add_plugin(loader *ld)
{
    config *c = ld->c;
    if (!ROOM_FOR_ONE(ld, c->plugins, c->n_plugins, ld->cap_plugins))
        return NULL;
    config_plugin *p = &c->plugins[c->n_plugins++];
    *p = (config_plugin){.timeout_ms = DEFAULT_PLUGIN_TIMEOUT_MS};
    return p;
}

/* `name: path` or `name: {path, config}`. */
static void plugin_entry(cy_reader *r, yaml_node_t *key, const char *name, yaml_node_t *val,
                         void *ctx)
{
    (void)ctx;
    /* Still recorded when misnamed, so references to it don't also fail. */
    if (!is_plugin_name(name))
        cy_report(r, key, "plugin name '%s' may only contain letters, digits, '_' and '-'", name);
    config_plugin *p = add_plugin(loader_of(r));
    if (!p || !(p->name = cy_strdup(r, name)))
        return;
    p->at = cy_mark(key);
    if (val->type == YAML_MAPPING_NODE) {
        cy_walk(r, val, &plugin_section, p);
        if (!cy_has_key(r, val, "path"))
            cy_report(r, key, "plugin '%s' has no path", name);
    } else if (cy_resolve(val).kind == CY_STR) {
        read_plugin_path(r, p, val);
    } else {
        cy_expected(r, name, val, "a path or a mapping with path and config");
    }
    if (!p->config && !(p->config = json_object_new_object()))
        r->oom = true;
}

static void read_plugins(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    if (cy_want_mapping(r, f->key, val, true))
        cy_each_pair(r, val, plugin_entry, NULL);
}

/* ---- server.static and serveClient (web/static.c) ---------------------- */

/* A directory to serve, relative to the configuration file.  One that is
 * missing or is not a directory is an error, as a missing plugin file is:
 * it is a mistake in what the operator wrote (a typo would otherwise
 * only show as 404s), and a reload that hits it keeps the previous
 * configuration serving.  The default client bundle directory, which
 * the operator did not write, is only warned about (web/static.c). */
static char *read_dir(cy_reader *r, const char *what, yaml_node_t *val)
{
    const char *s = cy_string(r, what, val);
    if (!s)
        return NULL;
    if (!*s) {
        cy_report(r, val, "%s: the path is empty", what);
        return NULL;
    }
    char *dir = resolve_path(r, s);
    struct stat st;
    if (dir && stat(dir, &st) != 0)
        cy_report(r, val, "%s: cannot serve '%s': %s", what, dir, strerror(errno));
    else if (dir && !S_ISDIR(st.st_mode))
        cy_report(r, val, "%s: cannot serve '%s': not a directory", what, dir);
    return dir;
}

/* A mount's URL prefix is a plain path the static route can compare
 * with a request's: it starts with '/', has no empty, '.' or '..'
 * segment, and nothing a URL would have encoded or cut. */
static bool static_path_ok(const char *s)
{
    if (s[0] != '/')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("%?#\\", *p))
            return false;
    for (const char *seg = s + 1; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg += n + (seg[n] == '/');
    }
    return true;
}

static void mount_path(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_static_mount *m = obj;
    const char *s = cy_string(r, f->key, val);
    if (!s)
        return;
    if (!static_path_ok(s)) {
        cy_report(r, val, "static path '%s' must start with '/' and be a plain URL path (no "
                          "empty, '.' or '..' segment, no '%%', '?', '#', '\\', space or "
                          "control character)", s);
        return;
    }
    size_t len = strlen(s);
    while (len > 1 && s[len - 1] == '/')
        len--;
    char *path = strndup(s, len);
    if (!path) {
        r->oom = true;
        return;
    }
    free(m->path);
    m->path = path;
    m->path_at = cy_mark(val);
}

static void mount_dir(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_static_mount *m = obj;
    char *dir = read_dir(r, "static dir", val);
    (void)f;
    if (dir) {
        free(m->dir);
        m->dir = dir;
    }
}

static const cy_section static_mount_section = {
    "static key",
    (const cy_field[]){
        {"path", .set = mount_path},
        {"dir", .set = mount_dir},
        {0},
    },
};

static void static_mount(cy_reader *r, config_static *st, yaml_node_t *item)
{
    if (item->type != YAML_MAPPING_NODE) {
        cy_expected(r, "static entry", item, "a mapping with path and dir");
        return;
    }
    if (!ROOM_FOR_ONE(loader_of(r), st->mounts, st->n_mounts, st->cap))
        return;
    config_static_mount *m = &st->mounts[st->n_mounts++];
    *m = (config_static_mount){.at = cy_mark(item)};
    cy_walk(r, item, &static_mount_section, m);
    for (const char *const *key = (const char *const[]){"path", "dir", NULL}; *key; key++)
        if (!cy_has_key(r, item, *key))
            cy_report(r, item, "static entry has no %s", *key);
    for (const config_static_mount *o = st->mounts; m->path && o < m; o++)
        if (o->path && strcmp(o->path, m->path) == 0)
            cy_report_at(r, m->path_at, "duplicate static path '%s' (first at line %u)", m->path,
                         o->path_at.line);
}

/* server.static: [{path: /docs, dir: ../site}] */
static void server_static(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_static *st = &((config *)obj)->statics;
    if (!cy_want_list(r, f->key, val, true))
        return;
    for (size_t i = 0; i < cy_len(val); i++)
        static_mount(r, st, cy_item(r, val, i));
}

/* Engine.IO answers everything under serverOptions.path: a mount there
 * could never be reached.  Checked once the whole file is read, since
 * `socket:` may come after `server:`. */
static void check_static(loader *ld)
{
    const char *eio = ld->c->opts.path;
    size_t elen = eio ? strlen(eio) : 0;
    for (size_t i = 0; eio && i < ld->c->statics.n_mounts; i++) {
        const config_static_mount *m = &ld->c->statics.mounts[i];
        if (m->path && strncmp(m->path, eio, elen) == 0 &&
            (m->path[elen] == '\0' || m->path[elen] == '/' || elen == 0))
            cy_report_at(&ld->yaml, m->path_at,
                         "static path '%s' is inside socket.serverOptions.path '%s', which "
                         "Socket.IO answers", m->path, elen ? eio : "/");
    }
}

static void static_free(config_static *st)
{
    for (size_t i = 0; i < st->n_mounts; i++) {
        free(st->mounts[i].path);
        free(st->mounts[i].dir);
    }
    free(st->mounts);
}

static void serve_client_dir(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_serve_client *sc = obj;
    char *dir = read_dir(r, "serveClient dir", val);
    (void)f;
    if (dir) {
        free(sc->dir);
        sc->dir = dir;
        sc->dir_at = cy_mark(val);
    }
}

static const cy_section serve_client_section = {
    "serveClient key",
    (const cy_field[]){
        {"dir", .set = serve_client_dir},
        {0},
    },
};

/* serveClient: true | false | {dir: path}; the mapping serves the
 * bundles of that directory (a socket.io-client package's dist/). */
static void opt_serve_client(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_serve_client *sc = &((config_server_options *)obj)->serve_client;
    if (cy_resolve(val).kind == CY_BOOL) {
        cy_bool(r, f->key, val, &sc->enabled);
    } else if (val->type == YAML_MAPPING_NODE) {
        sc->enabled = true;
        cy_walk(r, val, &serve_client_section, sc);
    } else {
        cy_expected(r, f->key, val, "true, false or {dir: path}");
    }
}

/* ---- socket.serverOptions --------------------------------------------- */

static void opt_path(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_server_options *o = obj;
    const char *s = cy_string(r, f->key, val);
    if (!s)
        return;
    if (s[0] != '/') {
        cy_report(r, val, "path: '%s' must start with '/'", s);
        return;
    }
    /* socket.io strips the trailing slash ("/" becomes "", the root). */
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '/')
        len--;
    char *path = strndup(s, len);
    if (!path) {
        r->oom = true;
        return;
    }
    free(o->path);
    o->path = path;
}

static void opt_transports(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    if (!cy_want_list(r, f->key, val, false))
        return;
    unsigned set = 0;
    bool ok = true;
    for (size_t i = 0; i < cy_len(val); i++) {
        yaml_node_t *item = cy_item(r, val, i);
        const char *s = cy_string(r, "transport", item);
        if (!s)
            ok = false;
        else if (strcmp(s, "polling") == 0)
            set |= CONFIG_TRANSPORT_POLLING;
        else if (strcmp(s, "websocket") == 0)
            set |= CONFIG_TRANSPORT_WEBSOCKET;
        else {
            cy_report(r, item, "unknown transport '%s' (plugio supports polling and websocket)", s);
            ok = false;
        }
    }
    if (ok && set == 0)
        cy_report(r, val, "transports: the list is empty; name polling, websocket or both");
    else if (ok)
        ((config_server_options *)obj)->transports = set;
}

/* socket.io takes a parser module; the YAML names one of those plugio has. */
static void opt_parser(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_server_options *o = obj;
    const char *s = cy_string(r, f->key, val);
    if (s && strcmp(s, "default") == 0)
        o->parser = CONFIG_PARSER_DEFAULT;
    else if (s && strcmp(s, "msgpack") == 0)
        o->parser = CONFIG_PARSER_MSGPACK;
    else if (s)
        cy_report(r, val, "unknown parser '%s' (plugio has default and msgpack)", s);
}

/* ---- compression: perMessageDeflate and httpCompression ---------------- */

/* Each is `true`, `false` or an object of options (socket.io merges it over
 * {threshold: 1024}); the zlib settings are those of Node's zlib options.
 * zlib turns a raw deflate window of 8 bits into 9: windowBits is 9-15. */
#define DEFAULT_COMPRESSION_THRESHOLD 1024
#define COMPRESSION_DEFAULTS(on) \
    ((config_compression){(on), DEFAULT_COMPRESSION_THRESHOLD, -1, 8, 15})

/* zlib's options: perMessageDeflate takes them under zlibDeflateOptions,
 * httpCompression flat, as Node does. */
#define ZLIB_FIELDS                                                                                \
    {"level", .set = cy_set_int, .offset = offsetof(config_compression, level), .min = -1,         \
     .max = 9},                                                                                    \
    {"memLevel", .set = cy_set_int, .offset = offsetof(config_compression, mem_level), .min = 1,   \
     .max = 9},                                                                                    \
    {"windowBits", .set = cy_set_int, .offset = offsetof(config_compression, window_bits),         \
     .min = 9, .max = 15}

static const cy_section zlib_section = {
    "zlib option",
    (const cy_field[]){
        ZLIB_FIELDS,
        {0},
    },
};

/* plugio compresses every message on its own, the promise
 * server_no_context_takeover makes, whether or not the client asked for it;
 * compression runs in the event loop, with no pool to limit.  The client's
 * window and context are what it offers: libwebsockets 4.1.6 cannot ask
 * for less, so clientMaxWindowBits, clientNoContextTakeover and
 * zlibInflateOptions are unknown keys here. */
static const cy_section pmd_section = {
    "perMessageDeflate option",
    (const cy_field[]){
        {"threshold", .set = cy_set_u32, .offset = offsetof(config_compression, threshold),
         .min = 0, .max = UINT32_MAX},
        {"zlibDeflateOptions", .set = cy_set_section, .arg = &zlib_section},
        {"serverMaxWindowBits", .set = cy_set_int,
         .offset = offsetof(config_compression, window_bits), .min = 9, .max = 15},
        {"serverNoContextTakeover", .set = cy_check_bool},
        {"concurrencyLimit", .set = cy_check_int, .min = 1, .max = INT64_MAX},
        {0},
    },
};

static const cy_section http_compression_section = {
    "httpCompression option",
    (const cy_field[]){
        {"threshold", .set = cy_set_u32, .offset = offsetof(config_compression, threshold),
         .min = 0, .max = UINT32_MAX},
        ZLIB_FIELDS,
        {0},
    },
};

/* A config_compression, whose options are the section f->arg.  Set only
 * when the whole value is right. */
static void set_compression(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_compression c = COMPRESSION_DEFAULTS(true);
    size_t errors = cy_problems(r);
    cy_scalar sc = cy_resolve(val);
    if (val->type == YAML_MAPPING_NODE)
        cy_walk(r, val, f->arg, &c);
    else if (sc.kind == CY_BOOL)
        c.enabled = sc.b;
    else
        cy_expected(r, f->key, val, "true, false or a mapping");
    if (cy_problems(r) == errors)
        *(config_compression *)cy_member(f, obj) = c;
}

/* ---- connectionStateRecovery ------------------------------------------- */

/* {maxDisconnectionDuration, skipMiddlewares}, with socket.io's defaults
 * (120000 ms, true) for what is left out; `true` is every default, `false`
 * (or no option) keeps it off, as in socket.io. */
static const cy_section csr_section = {
    "connectionStateRecovery option",
    (const cy_field[]){
        {"maxDisconnectionDuration", .set = set_ms,
         .offset = offsetof(config_server_options, csr.max_disconnection)},
        {"skipMiddlewares", .set = cy_set_bool,
         .offset = offsetof(config_server_options, csr.skip_middlewares)},
        {0},
    },
};

static void opt_connection_state_recovery(cy_reader *r, const cy_field *f, yaml_node_t *val,
                                          void *obj)
{
    config_server_options *o = obj;
    o->csr.max_disconnection = 120000;
    o->csr.skip_middlewares = true;
    if (cy_resolve(val).kind == CY_BOOL)
        cy_bool(r, f->key, val, &o->csr.enabled);
    else if (cy_want_mapping(r, f->key, val, false)) {
        o->csr.enabled = true;
        cy_walk(r, val, &csr_section, o);
    }
}

/* ---- cors (the npm `cors` package's options, as socket.io passes them) -- */

/* Copies the origins `val` names (a string or a list of them); false after
 * reporting. */
static bool set_origins(cy_reader *r, config_cors *cors, yaml_node_t *val)
{
    bool list = val->type == YAML_SEQUENCE_NODE;
    size_t n = list ? cy_len(val) : 1;
    char **origins = n ? calloc(n, sizeof *origins) : NULL;
    if (n && !origins) {
        r->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = list ? cy_item(r, val, i) : val;
        const char *s = cy_string(r, "origin", item);
        if (!s || !(origins[i] = cy_strdup(r, s)))
            ok = false;
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(origins[i]);
        free(origins);
        return false;
    }
    cors->origins = origins;
    cors->n_origins = n;
    return true;
}

/* origin: "*" | "https://a.example" | [list] | true | false */
static void cors_origin(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_cors *cors = obj;
    cy_scalar sc = cy_resolve(val);
    if (val->type == YAML_SEQUENCE_NODE) {
        set_origins(r, cors, val);
    } else if (sc.kind == CY_BOOL) {
        /* As in the cors package: true reflects the request's Origin,
         * false turns CORS off. */
        cors->any_origin = cors->reflect_origin = sc.b;
        if (!sc.b)
            cors->enabled = false;
    } else if (sc.kind == CY_STR && strcmp(sc.text, "*") == 0) {
        cors->any_origin = true;
    } else if (sc.kind == CY_STR) {
        set_origins(r, cors, val);
    } else {
        cy_expected(r, f->key, val, "a string, a list of strings or a boolean");
    }
}

static const cy_section cors_section = {
    "cors option",
    (const cy_field[]){
        {"origin", .set = cors_origin},
        {"methods", .set = set_header_list, .offset = offsetof(config_cors, methods)},
        {"allowedHeaders", .set = set_header_list,
         .offset = offsetof(config_cors, allowed_headers)},
        {"exposedHeaders", .set = set_header_list,
         .offset = offsetof(config_cors, exposed_headers)},
        {"credentials", .set = cy_set_bool, .offset = offsetof(config_cors, credentials)},
        {"maxAge", .set = cy_set_i64, .offset = offsetof(config_cors, max_age), .min = 0,
         .max = INT64_MAX, .literal = true},
        {0},
    },
};

/* `cors: {...}`, or `cors: true` for the package's defaults, or false. */
static void opt_cors(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_cors *cors = &((config_server_options *)obj)->cors;
    bool has_origin = false;
    if (cy_resolve(val).kind == CY_BOOL) {
        cy_bool(r, f->key, val, &cors->enabled);
    } else if (cy_want_mapping(r, f->key, val, false)) {
        cors->enabled = true;
        cy_walk(r, val, &cors_section, cors);
        has_origin = cy_has_key(r, val, "origin");
    }
    if (!cors->enabled)
        return;
    if (!has_origin) /* the package's default origin is "*" */
        cors->any_origin = true;
    if (!cors->methods)
        cy_set_str(r, &cors->methods, DEFAULT_CORS_METHODS);
}

/* ---- socket ------------------------------------------------------------ */

/* allowEIO3 also serves Socket.IO v2 clients (Engine.IO protocol 3). */
static const cy_section server_option_section = {
    "server option",
    (const cy_field[]){
        {"path", .set = opt_path},
        {"pingInterval", .set = set_ms, .offset = offsetof(config_server_options, ping_interval)},
        {"pingTimeout", .set = set_ms, .offset = offsetof(config_server_options, ping_timeout)},
        {"connectTimeout", .set = set_ms,
         .offset = offsetof(config_server_options, connect_timeout)},
        {"upgradeTimeout", .set = set_ms,
         .offset = offsetof(config_server_options, upgrade_timeout)},
        {"maxHttpBufferSize", .set = cy_set_u64,
         .offset = offsetof(config_server_options, max_http_buffer_size), .min = 1,
         .max = INT64_MAX},
        {"transports", .set = opt_transports},
        {"allowUpgrades", .set = cy_set_bool,
         .offset = offsetof(config_server_options, allow_upgrades)},
        {"cors", .set = opt_cors},
        {"connectionStateRecovery", .set = opt_connection_state_recovery},
        {"parser", .set = opt_parser},
        {"serveClient", .set = opt_serve_client},
        {"allowEIO3", .set = cy_set_bool, .offset = offsetof(config_server_options, allow_eio3)},
        {"perMessageDeflate", .set = set_compression,
         .offset = offsetof(config_server_options, per_message_deflate), .arg = &pmd_section},
        {"httpCompression", .set = set_compression,
         .offset = offsetof(config_server_options, http_compression),
         .arg = &http_compression_section},
        {"cookie", .set = set_false_only, .arg = "plugio does not set the io cookie"},
        {"cleanupEmptyChildNamespaces", .set = cy_set_bool,
         .offset = offsetof(config_server_options, cleanup_empty_child_namespaces)},
        {"maxChildNamespaces", .set = cy_set_u32,
         .offset = offsetof(config_server_options, max_child_namespaces), .min = 1,
         .max = MAX_MAX_CHILD_NAMESPACES},
        /* Not a socket.io option: what one session may have queued and
         * unsent (a client that does not read) before it is closed with
         * "transport error".  From 64 KiB (one large message) to 1 GiB. */
        {"maxQueueBytes", .set = cy_set_u32,
         .offset = offsetof(config_server_options, max_queue_bytes), .min = 65536,
         .max = 1u << 30},
        {0},
    },
};

static const cy_section socket_section = {
    "socket key",
    (const cy_field[]){
        {"serverOptions", .set = cy_set_section, .offset = offsetof(config, opts),
         .arg = &server_option_section},
        {0},
    },
};

/* ---- events ------------------------------------------------------------ */

/* socket.io's reserved event names, but 'disconnect': a handler may bind
 * that lifecycle event (and 'connection', which is not reserved). */
static const char *reserved_reason(const char *name)
{
    return strcmp(name, "disconnect") == 0 ? NULL : sio_event_reserved_why(name, strlen(name));
}

static void event_name(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_event *ev = obj;
    const char *s = cy_string(r, f->key, val);
    const char *why = s ? reserved_reason(s) : NULL;
    if (s && !*s)
        cy_report(r, val, "name: an event name must not be empty");
    else if (why)
        cy_report(r, val, "event name '%s' is reserved: %s", s, why);
    else if (s)
        cy_set_str(r, &ev->name, s);
}

/* ---- namespaces: a name, or a pattern (dynamic namespaces) ------------ */

/* Records the pattern `source` (compiled when first seen; identical
 * patterns are one namespace).  False once it is known not to compile. */
static bool add_pattern(loader *ld, const char *source, yaml_node_t *val)
{
    config *c = ld->c;
    for (size_t i = 0; i < c->n_patterns; i++)
        if (strcmp(c->patterns[i].source, source) == 0)
            return c->patterns[i].re != NULL; /* reported at its first use */
    if (!ROOM_FOR_ONE(ld, c->patterns, c->n_patterns, ld->cap_patterns))
        return false;
    char err[256];
    size_t offset;
    nsp_pattern *re = nsp_pattern_compile(source, err, sizeof err, &offset);
    if (!re)
        cy_report_at(&ld->yaml, cy_mark_in_scalar(val, offset),
                     "namespace: invalid pattern '%s': %s", source, err);
    char *copy = cy_strdup(&ld->yaml, source);
    if (!copy) {
        nsp_pattern_free(re);
        return false;
    }
    c->patterns[c->n_patterns++] = (config_pattern){copy, re, cy_mark(val)};
    return re != NULL;
}

static void namespace_match(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_event *e = obj;
    const char *s = cy_string(r, f->key, val);
    if (s && add_pattern(loader_of(r), s, val)) {
        cy_set_str(r, &e->nsp, s);
        e->nsp_match = true;
    }
}

static const cy_section namespace_section = {
    "namespace key",
    (const cy_field[]){
        {"match", .set = namespace_match},
        {0},
    },
};

/* An entry's namespace: a name, or {match: regex} - the regex, with
 * nsp_match set. */
static void set_namespace(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_event *e = obj;
    if (val->type == YAML_MAPPING_NODE) {
        cy_walk(r, val, &namespace_section, e);
        if (!cy_has_key(r, val, "match"))
            cy_report(r, val, "namespace: a pattern is written {match: regex}");
        return;
    }
    if (cy_resolve(val).kind != CY_STR) {
        cy_expected(r, f->key, val, "a string or {match: regex}");
        return;
    }
    const char *s = cy_string(r, f->key, val);
    if (s && s[0] != '/')
        cy_report(r, val, "namespace: '%s' must start with '/'", s);
    else if (s)
        cy_set_str(r, &e->nsp, s);
}

/* ---- events and middleware: one reader ----------------------------------
 * Both are written alike - a handler, a namespace ("/" when left out) and,
 * for an event, a name - and read alike, into a config_event (a
 * middleware's name stays NULL); an entry_kind says what differs. */

typedef struct entry_kind {
    const char *what;             /* "event", "middleware": in messages */
    const char *shape;            /* what a list item must be, for messages */
    const cy_section *keys;
    const char *const *required;  /* keys an entry must have */
    void (*add)(loader *ld, config_event *e); /* stores e, taking its strings */
} entry_kind;

static void ref_free(config_ref *r)
{
    free(r->plugin);
    free(r->symbol);
}

static void event_free(config_event *e)
{
    free(e->name);
    free(e->nsp);
    ref_free(&e->handler);
}

static const cy_section event_section = {
    "event key",
    (const cy_field[]){
        {"name", .set = event_name},
        {"handler", .set = set_ref, .offset = offsetof(config_event, handler)},
        {"namespace", .set = set_namespace},
        {0},
    },
};

static const cy_section middleware_section = {
    "middleware key",
    (const cy_field[]){
        {"handler", .set = set_ref, .offset = offsetof(config_event, handler)},
        {"namespace", .set = set_namespace},
        {0},
    },
};

/* "'/chat'" or "{match: '^/t-[0-9]+$'}", for messages. */
static const char *nsp_label(const char *nsp, bool match, char *out, size_t size)
{
    snprintf(out, size, match ? "{match: '%.200s'}" : "'%.200s'", nsp);
    return out;
}

/* One handler per (namespace, event): a second would be ambiguous.  The
 * same pattern written twice is the same (parent) namespace. */
static void check_duplicate_event(loader *ld, const config_event *ev)
{
    for (const config_event *e = ld->c->events; e < ev; e++) {
        if (e->name && e->nsp && strcmp(e->name, ev->name) == 0 && strcmp(e->nsp, ev->nsp) == 0 &&
            e->nsp_match == ev->nsp_match && e->server == ev->server) {
            char label[256];
            cy_report_at(&ld->yaml, ev->at,
                         "duplicate %s '%s' in namespace %s (first at line %u)",
                         ev->server ? "server event" : "event", ev->name,
                         nsp_label(ev->nsp, ev->nsp_match, label, sizeof label), e->at.line);
            return;
        }
    }
}

static void add_event(loader *ld, config_event *e)
{
    config *c = ld->c;
    if (!ROOM_FOR_ONE(ld, c->events, c->n_events, ld->cap_events)) {
        event_free(e);
        return;
    }
    c->events[c->n_events++] = *e;
    if (e->name && e->nsp)
        check_duplicate_event(ld, &c->events[c->n_events - 1]);
}

/* An entry of `serverEvents:`: an event as another server sends it, on a
 * namespace that is a name (a pattern's children are created by
 * clients; other servers address a namespace by its name). */
static void add_server_event(loader *ld, config_event *e)
{
    if (e->nsp_match) {
        cy_report_at(&ld->yaml, e->at, "server event '%s': its namespace must be a name, not a pattern",
                     e->name ? e->name : "");
        event_free(e);
        return;
    }
    if (e->name && (strcmp(e->name, "connection") == 0 || strcmp(e->name, "disconnect") == 0)) {
        cy_report_at(&ld->yaml, e->at, "server event name '%s' is reserved: it names a socket's life, "
                     "not a message between servers", e->name);
        event_free(e);
        return;
    }
    e->server = true;
    add_event(ld, e);
}

static void add_middleware(loader *ld, config_event *e)
{
    config *c = ld->c;
    if (!ROOM_FOR_ONE(ld, c->middleware, c->n_middleware, ld->cap_middleware)) {
        event_free(e);
        return;
    }
    c->middleware[c->n_middleware++] =
        (config_middleware){.nsp = e->nsp, .nsp_match = e->nsp_match, .handler = e->handler,
                            .at = e->at};
}

static const entry_kind event_kind = {
    "event", "a mapping with name and handler", &event_section,
    (const char *const[]){"name", "handler", NULL}, add_event,
};

static const entry_kind server_event_kind = {
    "server event", "a mapping with name and handler", &event_section,
    (const char *const[]){"name", "handler", NULL}, add_server_event,
};

static const entry_kind middleware_kind = {
    "middleware", "a mapping with handler (and namespace)", &middleware_section,
    (const char *const[]){"handler", NULL}, add_middleware,
};

/* One entry of `events:` or `middleware:`. */
static void read_entry(cy_reader *r, const entry_kind *kind, yaml_node_t *item)
{
    if (item->type != YAML_MAPPING_NODE) {
        cy_expected(r, kind->what, item, kind->shape);
        return;
    }
    config_event e = {.at = cy_mark(item)};
    cy_walk(r, item, kind->keys, &e);
    for (const char *const *key = kind->required; *key; key++)
        if (!cy_has_key(r, item, *key))
            cy_report(r, item, "%s has no %s", kind->what, *key);
    if (!e.nsp)
        e.nsp = cy_strdup(r, "/");
    kind->add(loader_of(r), &e);
}

/* `events:` or `middleware:`, a list of entries of the kind f->arg. */
static void read_entries(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    if (!cy_want_list(r, f->key, val, true))
        return;
    for (size_t i = 0; i < cy_len(val); i++)
        read_entry(r, f->arg, cy_item(r, val, i));
}

/* ---- security: abuse limits (engineio/limits.c) ------------------------ */

/* A client's events (security.rateLimit), per connection: every namespace
 * it joined draws on one bucket, so joining more buys no more.  A rate
 * below one a second is fine (0.5: one event every two seconds); the burst
 * defaults to the rate rounded up, at least 1. */
#define MAX_EVENTS_PER_SECOND 1000000
#define MAX_BURST 1000000000

static void rate_events_per_second(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    cy_scalar sc = cy_resolve(val);
    if (sc.kind != CY_INT && sc.kind != CY_FLOAT) {
        cy_expected(r, f->key, val, "a number of events a second");
        return;
    }
    if (!(sc.d > 0 && sc.d <= MAX_EVENTS_PER_SECOND)) {
        cy_report(r, val, "%s: %s is out of range (more than 0, at most %d)", f->key, sc.text,
                  MAX_EVENTS_PER_SECOND);
        return;
    }
    ((config_security *)obj)->events_per_second = sc.d;
}

static const cy_section rate_limit_section = {
    "rateLimit key",
    (const cy_field[]){
        {"eventsPerSecond", .set = rate_events_per_second},
        {"burst", .set = cy_set_u32, .offset = offsetof(config_security, burst), .min = 1,
         .max = MAX_BURST},
        {"disconnectAfter", .set = cy_set_u32,
         .offset = offsetof(config_security, disconnect_after), .min = 0, .max = MAX_BURST},
        {0},
    },
};

static void security_rate_limit(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_security *sec = obj;
    if (!cy_want_mapping(r, f->key, val, false))
        return;
    cy_walk(r, val, &rate_limit_section, sec);
    if (!cy_has_key(r, val, "eventsPerSecond")) {
        cy_report(r, val, "rateLimit has no eventsPerSecond");
        return;
    }
    if (!cy_has_key(r, val, "burst") && sec->events_per_second > 0) {
        sec->burst = (uint32_t)sec->events_per_second;
        if (sec->burst < sec->events_per_second || sec->burst == 0)
            sec->burst++;
    }
}

/* The addresses that may connect, as CIDR blocks or single addresses.  An
 * empty list would lock every client out: an error, not a policy. */
static void security_allow(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_security *sec = obj;
    if (!cy_want_list(r, f->key, val, false))
        return;
    size_t n = cy_len(val);
    if (n == 0) {
        cy_report(r, val, "allow: the list is empty, so no client could connect; "
                          "leave allow out to let every address connect");
        return;
    }
    cidr *blocks = calloc(n, sizeof *blocks);
    if (!blocks) {
        r->oom = true;
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cy_item(r, val, i);
        const char *s = cy_string(r, "allow", item);
        char why[200];
        if (!s) {
            ok = false;
        } else if (!cidr_parse(s, &blocks[i], why, sizeof why)) {
            cy_report(r, item, "allow: %s (expected an address or a CIDR block: 10.0.0.0/8, "
                               "fd00::/8)", why);
            ok = false;
        }
    }
    if (!ok) {
        free(blocks);
        return;
    }
    free(sec->allow);
    sec->allow = blocks;
    sec->n_allow = n;
    sec->has_allow = true;
}

static const cy_section security_section = {
    "security key",
    (const cy_field[]){
        {"rateLimit", .set = security_rate_limit},
        {"maxConnectionsPerAddress", .set = cy_set_u32,
         .offset = offsetof(config_security, max_connections_per_address), .min = 0,
         .max = UINT32_MAX},
        {"allow", .set = security_allow},
        {0},
    },
};

/* ---- admin: the Socket.IO Admin UI (web/admin.c) -------------------------
 * instrument()'s options: namespaceName, auth ({type: basic, username,
 * password} or false, and required), readonly, mode, serverId; and
 * sessionDuration, RedisStore's: how long a login's sessionId is valid. */

#define DEFAULT_ADMIN_NSP "/admin"
#define DEFAULT_ADMIN_SESSION_TTL 86400

static void admin_namespace(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_admin *a = obj;
    const char *s = cy_string(r, f->key, val);
    if (s && s[0] != '/')
        cy_report(r, val, "admin.namespace: '%s' must start with '/'", s);
    else if (s && strcmp(s, "/") == 0)
        cy_report(r, val, "admin.namespace: '/' is the main namespace; the Admin UI needs one "
                          "of its own, such as /admin");
    else if (s) {
        cy_set_str(r, &a->nsp, s);
        a->nsp_at = cy_mark(val);
    }
}

static void admin_auth_type(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    const char *s = cy_string(r, f->key, val);
    if (s && strcmp(s, "basic") != 0)
        cy_report(r, val, "admin.auth.type: '%s' is not known; the only type is basic", s);
}

static void admin_username(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s)
        cy_set_str(r, &((config_admin *)obj)->username, s);
}

static void admin_password(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s && !bcrypt_hash_ok(s))
        cy_report(r, val, "admin.auth.password: must be a valid bcrypt hash ($2b$10$ and 53 "
                          "characters: for example the output of "
                          "`node -e \"console.log(require('bcryptjs').hashSync('secret', 10))\"`)");
    else if (s)
        cy_set_str(r, &((config_admin *)obj)->password, s);
}

static const cy_section admin_auth_section = {
    "admin.auth key",
    (const cy_field[]){
        {"type", .set = admin_auth_type},
        {"username", .set = admin_username},
        {"password", .set = admin_password},
        {0},
    },
};

static void admin_auth(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_admin *a = obj;
    cy_scalar sc = cy_resolve(val);
    a->has_auth = true; /* given, if wrong: said once, below */
    if (sc.kind == CY_BOOL && !sc.b) {
        a->auth = false;
        return;
    }
    if (val->type != YAML_MAPPING_NODE) {
        cy_expected(r, f->key, val, "{username, password} or false");
        return;
    }
    cy_walk(r, val, &admin_auth_section, a);
    a->auth = true;
    if (!cy_has_key(r, val, "username") || !cy_has_key(r, val, "password"))
        cy_report(r, val, "admin.auth needs both username and password");
}

static void admin_mode(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s && strcmp(s, "development") != 0 && strcmp(s, "production") != 0)
        cy_report(r, val, "admin.mode: '%s' is neither development nor production", s);
    else if (s)
        ((config_admin *)obj)->production = strcmp(s, "production") == 0;
}

static void admin_server_id(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    const char *s = cy_string(r, f->key, val);
    if (s)
        cy_set_str(r, &((config_admin *)obj)->server_id, s);
}

static const cy_section admin_section = {
    "admin key",
    (const cy_field[]){
        {"namespace", .set = admin_namespace},
        {"auth", .set = admin_auth},
        {"readonly", .set = cy_set_bool, .offset = offsetof(config_admin, readonly)},
        {"mode", .set = admin_mode},
        {"serverId", .set = admin_server_id},
        {"sessionDuration", .set = cy_set_u32, .offset = offsetof(config_admin, session_ttl),
         .min = 1, .max = 365 * 86400},
        {0},
    },
};

static void read_admin(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config_admin *a = &((config *)obj)->admin;
    bool empty = val->type == YAML_SCALAR_NODE && cy_resolve(val).kind == CY_NULL;
    if (!empty && !cy_want_mapping(r, f->key, val, false))
        return;
    a->enabled = true;
    a->at = cy_mark(val);
    a->nsp = cy_strdup(r, DEFAULT_ADMIN_NSP);
    a->nsp_at = a->at;
    a->session_ttl = DEFAULT_ADMIN_SESSION_TTL;
    if (val->type == YAML_MAPPING_NODE)
        cy_walk(r, val, &admin_section, a);
    if (!a->has_auth)
        cy_report(r, val, "admin: auth must be given ({username, password: a bcrypt hash}) or "
                          "set to false explicitly");
}

/* The Admin UI's namespace is the host's own: no event or middleware of
 * the configuration may name it. */
static void check_admin(loader *ld)
{
    const config *c = ld->c;
    if (!c->admin.enabled || !c->admin.nsp)
        return;
    for (size_t i = 0; i < c->n_events + c->n_middleware; i++) {
        bool ev = i < c->n_events;
        const char *nsp = ev ? c->events[i].nsp : c->middleware[i - c->n_events].nsp;
        bool match = ev ? c->events[i].nsp_match : c->middleware[i - c->n_events].nsp_match;
        pio_mark at = ev ? c->events[i].at : c->middleware[i - c->n_events].at;
        if (!match && nsp && strcmp(nsp, c->admin.nsp) == 0)
            cy_report_at(&ld->yaml, c->admin.nsp_at,
                         "admin.namespace: '%s' is the Admin UI's own, but the %s at line %u "
                         "names it too",
                         nsp, ev ? "event" : "middleware", at.line);
    }
}

/* ---- top level ---------------------------------------------------------- */

static void hook_init(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    config *c = obj;
    if (parse_ref(r, f->key, val, &c->init))
        c->has_init = true;
}

static const cy_section hooks_section = {
    "hook",
    (const cy_field[]){
        {"init", .set = hook_init},
        {0},
    },
};

static const cy_section top_section = {
    "top-level key",
    (const cy_field[]){
        {"server", .set = cy_set_section, .arg = &server_section},
        {"plugins", .set = read_plugins},
        {"socket", .set = cy_set_section, .arg = &socket_section},
        {"events", .set = read_entries, .arg = &event_kind},
        {"middleware", .set = read_entries, .arg = &middleware_kind},
        {"serverEvents", .set = read_entries, .arg = &server_event_kind},
        {"hooks", .set = cy_set_section, .arg = &hooks_section},
        {"security", .set = cy_set_section, .offset = offsetof(config, security),
         .arg = &security_section},
        {"admin", .set = read_admin},
        {0},
    },
};

/* Every reference must name a plugin of `plugins:`, wherever it is written. */
static void check_ref(loader *ld, const config_ref *ref)
{
    if (!ref->plugin || config_find_plugin(ld->c, ref->plugin))
        return;
    cy_report_at(&ld->yaml, ref->at, "unknown plugin '%s' in handler '%s:%s'", ref->plugin,
                 ref->plugin, ref->symbol);
}

/* The metrics path, once serverOptions.path is known: a path Engine.IO
 * answers under (the root "" takes them all) is refused where it is. */
static void check_metrics(loader *ld)
{
    const config *c = ld->c;
    const char *sp = c->opts.path, *mp = c->metrics.path;
    if (!c->metrics.enabled || !sp || !mp)
        return;
    size_t n = strlen(sp);
    if (strncmp(mp, sp, n) == 0 && (mp[n] == '/' || mp[n] == '\0'))
        cy_report_at(&ld->yaml, c->metrics.at,
                     "metrics.path '%s' is inside socket.serverOptions.path '%s'", mp,
                     n ? sp : "/");
}

static void check_refs(loader *ld)
{
    for (size_t i = 0; i < ld->c->n_events; i++)
        check_ref(ld, &ld->c->events[i].handler);
    for (size_t i = 0; i < ld->c->n_middleware; i++)
        check_ref(ld, &ld->c->middleware[i].handler);
    if (ld->c->has_init)
        check_ref(ld, &ld->c->init);
}

/* ---- loading ------------------------------------------------------------ */

static config *config_new(loader *ld, const char *file, const char *dir)
{
    config *c = calloc(1, sizeof *c);
    if (!c) {
        ld->yaml.oom = true;
        return NULL;
    }
    c->refs = 1;
    ld->c = c;
    c->file = cy_strdup(&ld->yaml, file);
    c->dir = cy_strdup(&ld->yaml, dir);
    c->host = cy_strdup(&ld->yaml, DEFAULT_HOST);
    c->port = DEFAULT_PORT;
    c->max_header_size = CONFIG_MAX_HEADER_SIZE;
    c->headers_timeout = CONFIG_HEADERS_TIMEOUT;
    c->request_timeout = CONFIG_REQUEST_TIMEOUT;
    c->metrics.path = cy_strdup(&ld->yaml, CONFIG_METRICS_PATH);
    c->opts = (config_server_options){
        .path = cy_strdup(&ld->yaml, DEFAULT_PATH),
        .ping_interval = DEFAULT_PING_INTERVAL,
        .ping_timeout = DEFAULT_PING_TIMEOUT,
        .connect_timeout = DEFAULT_CONNECT_TIMEOUT,
        .upgrade_timeout = DEFAULT_UPGRADE_TIMEOUT,
        .max_http_buffer_size = DEFAULT_MAX_HTTP_BUFFER_SIZE,
        .transports = CONFIG_TRANSPORT_POLLING | CONFIG_TRANSPORT_WEBSOCKET,
        .allow_upgrades = true,
        .cors = {.max_age = -1},
        .max_child_namespaces = DEFAULT_MAX_CHILD_NAMESPACES,
        .per_message_deflate = COMPRESSION_DEFAULTS(false),
        .http_compression = COMPRESSION_DEFAULTS(true),
        .max_queue_bytes = CONFIG_MAX_QUEUE_BYTES,
        .serve_client = {.enabled = true},
    };
    return c;
}

static config *load_text(const char *text, size_t len, const char *file, const char *dir,
                         diag_list *diags, bool keep_on_error)
{
    loader ld = {0};
    cy_init(&ld.yaml, &ld);
    file = file ? file : "<string>";
    config *c = config_new(&ld, file, dir ? dir : ".");
    if (c && cy_parse(&ld.yaml, text, len)) {
        yaml_node_t *root = cy_root(&ld.yaml);
        if (root && cy_want_mapping(&ld.yaml, "the configuration", root, true))
            cy_walk(&ld.yaml, root, &top_section, c);
        check_refs(&ld);
        check_static(&ld);
        check_admin(&ld);
        check_metrics(&ld);
    }
    bool oom = ld.yaml.oom;
    if (oom)
        cy_report_at(&ld.yaml, (pio_mark){0, 0}, "out of memory");
    bool failed = cy_problems(&ld.yaml) > 0;
    cy_done(&ld.yaml, file, diags);
    if (failed && (!keep_on_error || oom)) {
        config_free(c);
        return NULL;
    }
    return c;
}

config *config_load_string(const char *text, size_t len, const char *file, const char *dir,
                           diag_list *diags)
{
    return load_text(text, len, file, dir, diags, false);
}

/* The directory part of `file`: "." when it has none. */
/* The file's directory, made absolute: plugin paths resolved against it
 * stay valid whatever the working directory, and the watcher needs them
 * absolute. */
static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir = !slash ? strdup(".") : slash == file ? strdup("/")
                                                     : strndup(file, (size_t)(slash - file));
    char *abs = dir ? realpath(dir, NULL) : NULL;
    if (!abs)
        return dir;
    free(dir);
    return abs;
}

static bool read_file(const char *file, buf *b)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    int saved = ferror(f) ? errno : 0;
    fclose(f);
    if (b->failed)
        saved = ENOMEM;
    errno = saved;
    return saved == 0;
}

config *config_load(const char *file, diag_list *diags)
{
    return config_load_ex(file, diags, false);
}

config *config_load_ex(const char *file, diag_list *diags, bool keep_on_error)
{
    buf text = BUF_INIT;
    if (!read_file(file, &text)) {
        diag_add(diags, file, (pio_mark){0, 0}, "cannot read: %s", strerror(errno));
        buf_free(&text);
        return NULL;
    }
    char *dir = dir_of(file);
    config *c = NULL;
    if (!dir)
        diag_add(diags, file, (pio_mark){0, 0}, "out of memory");
    else
        c = load_text(text.data ? text.data : "", text.len, file, dir, diags, keep_on_error);
    free(dir);
    buf_free(&text);
    return c;
}

static void cors_free(config_cors *cors)
{
    for (size_t i = 0; i < cors->n_origins; i++)
        free(cors->origins[i]);
    free(cors->origins);
    free(cors->methods);
    free(cors->allowed_headers);
    free(cors->exposed_headers);
}

config *config_retain(config *c)
{
    c->refs++;
    return c;
}

void config_free(config *c)
{
    if (!c || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->n_plugins; i++) {
        free(c->plugins[i].name);
        free(c->plugins[i].path);
        json_object_put(c->plugins[i].config);
    }
    free(c->plugins);
    for (size_t i = 0; i < c->n_events; i++)
        event_free(&c->events[i]);
    free(c->events);
    for (size_t i = 0; i < c->n_middleware; i++) {
        free(c->middleware[i].nsp);
        ref_free(&c->middleware[i].handler);
    }
    free(c->middleware);
    free(c->security.allow);
    for (size_t i = 0; i < c->n_patterns; i++) {
        free(c->patterns[i].source);
        nsp_pattern_free(c->patterns[i].re);
    }
    free(c->patterns);
    ref_free(&c->init);
    free(c->admin.nsp);
    free(c->admin.username);
    free(c->admin.password);
    free(c->admin.server_id);
    cors_free(&c->opts.cors);
    free(c->opts.serve_client.dir);
    static_free(&c->statics);
    free(c->opts.path);
    free(c->metrics.path);
    free(c->host);
    free(c->custom_headers);
    free(c->dir);
    free(c->file);
    free(c);
}

const config_plugin *config_find_plugin(const config *c, const char *name)
{
    for (size_t i = 0; i < c->n_plugins; i++)
        if (c->plugins[i].name && strcmp(c->plugins[i].name, name) == 0)
            return &c->plugins[i];
    return NULL;
}
