/*
 * config.h - plugio's configuration: the YAML file an operator writes,
 * read into plain structs.  The loader (config.c) checks the schema and
 * reports every mistake it finds as `file:line:column: message`; it does
 * not load plugins - the binder (binding.c) does that and reports symbol
 * and file errors at the marks recorded here.
 *
 * Schema (see SPEC.md): server {host, port, log}; plugins {name: path | {path,
 * config}}; socket.serverOptions (socket.io v4 names and defaults);
 * events [{name, handler: "plugin:symbol", namespace}];
 * middleware [{handler, namespace}]; hooks {init}; security {rateLimit,
 * maxConnectionsPerAddress, allow}; server.static [{path, dir}] and
 * serverOptions.serveClient (web/static.c); admin {namespace, auth,
 * readonly, mode, serverId, sessionDuration}.  A namespace is a name
 * ("/chat") or a pattern ({match: "^/tenant-[0-9]+$"}, a dynamic namespace).
 */
#ifndef PIO_CONFIG_H
#define PIO_CONFIG_H

#include "base/cidr.h"
#include "base/diag.h"
#include "base/log.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* server.maxHeaderSize's default, Node's HTTP server's (16 KiB). */
#define CONFIG_MAX_HEADER_SIZE 16384
#define CONFIG_MAX_HEADER_SIZE_MAX 65536 /* lws keeps one header value in at most 64 KiB */
/* server.headersTimeout's default, Node's HTTP server's (60 s), and
 * server.requestTimeout's (30 s: see config.c). */
#define CONFIG_HEADERS_TIMEOUT 60000
#define CONFIG_REQUEST_TIMEOUT 30000
/* socket.serverOptions.maxQueueBytes' default: 64 MiB. */
#define CONFIG_MAX_QUEUE_BYTES (64u << 20)

/* A reference to a plugin function: "plugin:symbol". */
typedef struct config_ref {
    char *plugin;         /* owned */
    char *symbol;         /* owned */
    pio_mark at;          /* where the reference is written */
} config_ref;

typedef struct config_plugin {
    char *name;           /* owned; the key in `plugins:` */
    char *path;           /* owned; resolved against the config file's directory */
    json_object *config;  /* owned; the `config:` block as JSON (an empty object when absent) */
    pio_mark at;          /* the plugin's entry */
    pio_mark path_at;     /* the path scalar */
    uint32_t timeout_ms;  /* timeoutMs: the longest one call into it may run
                             before it counts as a fault; 0: no limit */
} config_plugin;

/* A dynamic namespace's pattern (`namespace: {match: regex}`), compiled
 * once per load; every event and middleware writing the same regex shares
 * it, as one socket.io parent namespace. */
typedef struct config_pattern {
    char *source;         /* owned; the regex as written */
    struct nsp_pattern *re; /* owned (nsp_pattern.h); NULL when it did not compile */
    pio_mark at;          /* its first appearance */
} config_pattern;

typedef struct config_event {
    char *name;           /* owned; the event name ("connection", "disconnect", or a client event) */
    char *nsp;            /* owned; the namespace, "/" by default, or a pattern's source */
    bool nsp_match;       /* nsp is a pattern (config.patterns has it) */
    bool server;          /* of `serverEvents:`: sent by another server
                             (serverSideEmit), not by a client */
    config_ref handler;
    pio_mark at;          /* the list item */
} config_event;

/* A connection middleware: runs, in list order, before `connection` on
 * its namespace. */
typedef struct config_middleware {
    char *nsp;            /* owned; "/" by default, or a pattern's source */
    bool nsp_match;       /* nsp is a pattern */
    config_ref handler;
    pio_mark at;          /* the list item */
} config_middleware;

/* Transports a client may use (serverOptions.transports). */
enum {
    CONFIG_TRANSPORT_POLLING = 1 << 0,
    CONFIG_TRANSPORT_WEBSOCKET = 1 << 1,
};

typedef struct config_cors {
    bool enabled;         /* false: no CORS headers at all (socket.io's default) */
    bool any_origin;      /* origin "*" or true: allow every origin */
    char **origins;       /* owned; the allowed origins when !any_origin */
    size_t n_origins;
    char *methods;        /* owned; "GET,POST" - the Access-Control-Allow-Methods value */
    char *allowed_headers;/* owned or NULL: echo the request's headers */
    char *exposed_headers;/* owned or NULL */
    bool credentials;
    int64_t max_age;      /* seconds, -1 when unset */
    bool reflect_origin;  /* origin: true - answer with the request's Origin rather than "*"
                             (any_origin is set too), as the cors package does */
} config_cors;

/* The Socket.IO parser (serverOptions.parser): socket.io-parser's JSON
 * text, or socket.io-msgpack-parser's MessagePack. */
enum { CONFIG_PARSER_DEFAULT = 0, CONFIG_PARSER_MSGPACK = 1 };
/* socket.io's perMessageDeflate and httpCompression: messages or responses
 * of `threshold` bytes or more are compressed with zlib at these settings. */
typedef struct config_compression {
    bool enabled;
    uint32_t threshold;         /* bytes, 1024 */
    int level;                  /* zlib level, -1 (zlib's default, 6) */
    int mem_level;              /* 1-9, 8 */
    int window_bits;            /* 9-15, 15 */
} config_compression;

/* serveClient (socket.io's, true by default): the client bundles served
 * under serverOptions.path (web/static.c), from `dir` - NULL for the
 * socket.io-client package plugio was built with (PLUGIO_CLIENT_DIR). */
typedef struct config_serve_client {
    bool enabled;
    char *dir;                  /* owned or NULL; resolved against the config file's directory */
    pio_mark dir_at;            /* the dir scalar, when given */
} config_serve_client;

typedef struct config_server_options {
    char *path;                 /* "/socket.io" (no trailing slash; "" when given as "/") */
    uint32_t ping_interval;     /* ms, 25000 */
    uint32_t ping_timeout;      /* ms, 20000 */
    uint32_t connect_timeout;   /* ms, 45000 */
    uint32_t upgrade_timeout;   /* ms, 10000 */
    uint64_t max_http_buffer_size; /* bytes, 1e6 */
    unsigned transports;        /* CONFIG_TRANSPORT_* bits, both by default */
    bool allow_upgrades;        /* true */
    bool allow_eio3;            /* false; true also serves Engine.IO v3 (Socket.IO v2) clients */
    config_cors cors;
    bool cleanup_empty_child_namespaces; /* false, as socket.io 4.6+ */
    uint32_t max_child_namespaces; /* plugio's own bound on dynamic namespaces, 1000 */
    /* connectionStateRecovery: off unless the option is given. */
    struct {
        bool enabled;
        uint32_t max_disconnection; /* ms, 120000 */
        bool skip_middlewares;      /* true */
    } csr;
    unsigned parser;            /* CONFIG_PARSER_*, default */
    config_compression per_message_deflate; /* off */
    config_compression http_compression;    /* on */
    uint32_t max_queue_bytes;   /* plugio's own: bytes queued for one session
                                   before it is closed, CONFIG_MAX_QUEUE_BYTES */
    config_serve_client serve_client;
} config_server_options;

/* server.static: directories served under URL prefixes (web/static.c). */
typedef struct config_static_mount {
    char *path;                 /* owned; the URL prefix: "/" or "/docs", no trailing slash */
    char *dir;                  /* owned; resolved against the config file's directory */
    pio_mark at;                /* the list item */
    pio_mark path_at;           /* the path scalar */
} config_static_mount;

typedef struct config_static {
    config_static_mount *mounts;
    size_t n_mounts;
    size_t cap;                 /* the loader's */
} config_static;

/* security: abuse limits (engineio/limits.c), each off unless given.  Read
 * at each event and each handshake, so a reload applies them to the next. */
typedef struct config_security {
    double events_per_second;   /* rateLimit.eventsPerSecond, per connection; 0: no limit */
    uint32_t burst;             /* rateLimit.burst; by default eventsPerSecond rounded up */
    uint32_t disconnect_after;  /* rateLimit.disconnectAfter: events refused in a row that
                                   disconnect the client; 0 (the default): never */
    uint32_t max_connections_per_address; /* sessions open from one address; 0: no limit */
    cidr *allow;                /* owned; the blocks of security.allow */
    size_t n_allow;
    bool has_allow;             /* false: every address may connect */
} config_security;

/* admin: the Socket.IO Admin UI's server side (web/admin.c), as
 * @socket.io/admin-ui's instrument() takes its options. */
typedef struct config_admin {
    bool enabled;               /* the section is there */
    char *nsp;                  /* owned; "/admin" (namespaceName) */
    bool auth;                  /* false: anyone may log in (auth: false) */
    bool has_auth;              /* auth was given, as instrument() requires */
    char *username;             /* owned; auth.username */
    char *password;             /* owned; auth.password, a bcrypt hash */
    bool readonly;              /* false */
    bool production;            /* mode: production (development by default) */
    char *server_id;            /* owned or NULL: the host name */
    uint32_t session_ttl;       /* s a login's sessionId stays valid, 86400 */
    pio_mark at;                /* the section */
    pio_mark nsp_at;            /* its namespace, for a clash */
} config_admin;

/* server.metrics: Prometheus metrics over HTTP (web/metrics.c), off
 * unless asked for.  `metrics: true` serves them at CONFIG_METRICS_PATH. */
#define CONFIG_METRICS_PATH "/metrics"
/* The health check's path (web/metrics.c), always served. */
#define CONFIG_HEALTH_PATH "/healthz"
typedef struct config_metrics {
    bool enabled;
    char *path;                 /* owned; CONFIG_METRICS_PATH unless given */
    pio_mark at;                /* where path (or the key) is written */
} config_metrics;

/* server.log: how the host writes its log (base/log.h).  A reload applies
 * it at once; the command line's --log-level wins over `level`. */
typedef struct config_log {
    log_format format;          /* text (the default) or json */
    bool has_level;             /* level was given; else info */
    pio_log_level level;
} config_log;

typedef struct config {
    unsigned refs;              /* config_retain / config_free */
    char *file;                 /* owned; the path as given, for messages */
    char *dir;                  /* owned; its directory, for relative plugin paths */
    char *host;                 /* owned; "0.0.0.0" */
    uint16_t port;              /* 3000; 0 lets the system pick one */
    char *custom_headers;       /* owned or NULL; server.headers, lower-case,
                                   comma-separated: custom request headers
                                   kept for plugins besides the standard ones */
    uint32_t max_header_size;   /* server.maxHeaderSize: bytes of a request head
                                   (URL and header values) served; more is 431 */
    uint32_t headers_timeout;   /* server.headersTimeout: ms for a request head */
    uint32_t request_timeout;   /* server.requestTimeout: ms for a whole request */
    uint32_t max_connections;   /* server.maxConnections; 0 (the default): what the
                                   descriptor limit allows, less a reserve */
    config_log log;             /* server.log */
    config_plugin *plugins;
    size_t n_plugins;
    config_server_options opts;
    config_security security;
    config_static statics;      /* server.static */
    config_metrics metrics;
    config_event *events;
    size_t n_events;
    config_middleware *middleware;
    size_t n_middleware;
    config_pattern *patterns;   /* distinct namespace patterns, in configuration order */
    size_t n_patterns;
    bool has_init;
    config_ref init;            /* hooks.init */
    config_admin admin;
} config;

/* Read and check a configuration file.  Returns a config (free it with
 * config_free) when the file has no error; otherwise returns NULL and adds
 * every error found to `diags`. */
config *config_load(const char *file, diag_list *diags);
/* With keep_on_error, a file with errors still gives a config (what could
 * be read of it; entries may lack fields) so that `plugio --check` can go
 * on to load its plugins and report their errors too. Never served. */
config *config_load_ex(const char *file, diag_list *diags, bool keep_on_error);
/* The same from a string (`len` bytes, no terminator needed); `file` names
 * it in messages ("<string>" if NULL), and relative plugin paths resolve
 * against `dir` ("." if NULL). */
config *config_load_string(const char *text, size_t len, const char *file,
                           const char *dir, diag_list *diags);
/* A configuration is reference counted: a plugin reload shares the
 * current one with the binding it builds (config_retain); config_free
 * drops a reference. */
config *config_retain(config *c);
void config_free(config *c);

/* The plugin entry called `name`, or NULL. */
const config_plugin *config_find_plugin(const config *c, const char *name);

#endif
