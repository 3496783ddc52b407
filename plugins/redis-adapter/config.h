/*
 * config.h - the redis-adapter's `config:` block, read and checked.
 *
 *     config:
 *       host: 127.0.0.1        # or socket: /run/redis/redis.sock
 *       port: 6379
 *       username: app          # optional, Redis 6 ACL (AUTH user pass)
 *       password: secret       # optional (AUTH pass)
 *       db: 0                  # optional: SELECT on the publishing connection
 *       key: socket.io         # the channel prefix every server must share
 *       requestsTimeout: 5000  # ms: fetchSockets, allRooms, serverSideEmit acks
 *       publishOnSpecificResponseChannel: false
 *
 * The names and defaults are @socket.io/redis-adapter's where it has them.
 * `host` is best an address: hiredis resolves a name with getaddrinfo on
 * the event loop, which blocks it for the lookup at every (re)connection.
 */
#ifndef RA_CONFIG_H
#define RA_CONFIG_H

#include <plugio/plugio.h>

#include <stddef.h>
#include <stdint.h>

typedef struct ra_config {
    char *host;                     /* NULL when socket is set */
    int port;
    char *socket;                   /* a Unix socket path, or NULL */
    char *username;                 /* NULL: AUTH with the password alone */
    char *password;                 /* NULL: no AUTH */
    int db;                         /* -1: no SELECT */
    char *key;                      /* the channel prefix */
    uint32_t requests_timeout;      /* ms */
    int specific_response_channel;  /* publishOnSpecificResponseChannel */
} ra_config;

/* Reads `block` (the plugin's config object) into c, defaults filled in.
 * Returns NULL, or a message written to err (cap bytes) naming the key at
 * fault; c is then left empty. */
const char *ra_config_read(ra_config *c, const pio_value *block, char *err, size_t cap);
void ra_config_free(ra_config *c);

/* Where Redis is, for log lines: "127.0.0.1:6379" or "unix:/path". */
void ra_config_where(const ra_config *c, char *buf, size_t cap);

#endif
