/*
 * config.c - reading the `config:` block (see config.h).  Every key is
 * checked for its type and range, and an unknown key is refused: a typo
 * such as `requestTimeout` would otherwise run with the default unseen.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_KEYS                                                                                \
    "host, port, socket, username, password, db, key, requestsTimeout, "                       \
    "publishOnSpecificResponseChannel"

typedef struct reader {
    char *err;
    size_t cap;
    int failed;
} reader;

/* The first failure is the one reported. */
static void fail(reader *r, const char *fmt, ...) PIO_PRINTF(2, 3);
static void fail(reader *r, const char *fmt, ...)
{
    if (!r->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->cap, fmt, ap);
        va_end(ap);
    }
    r->failed = 1;
}

/* A non-empty string without NUL bytes, copied. */
static char *read_string(reader *r, const char *key, const pio_value *v)
{
    const char *s;
    size_t len;
    if (pio_value_string(v, &s, &len) != PIO_OK || len == 0 || strlen(s) != len) {
        fail(r, "config.%s must be a non-empty string", key);
        return NULL;
    }
    char *copy = strdup(s);
    if (!copy)
        fail(r, "config.%s: out of memory", key);
    return copy;
}

static int64_t read_integer(reader *r, const char *key, const pio_value *v, int64_t min,
                            int64_t max, const char *range)
{
    int64_t n;
    if (pio_value_int64(v, &n) != PIO_OK || n < min || n > max) {
        fail(r, "config.%s must be an integer %s", key, range);
        return min;
    }
    return n;
}

static void read_key(reader *r, ra_config *c, const char *key, const pio_value *v)
{
    if (strcmp(key, "host") == 0) {
        free(c->host);
        c->host = read_string(r, key, v);
    } else if (strcmp(key, "port") == 0) {
        c->port = (int)read_integer(r, key, v, 1, 65535, "from 1 to 65535");
    } else if (strcmp(key, "socket") == 0) {
        c->socket = read_string(r, key, v);
    } else if (strcmp(key, "username") == 0) {
        c->username = read_string(r, key, v);
    } else if (strcmp(key, "password") == 0) {
        c->password = read_string(r, key, v);
    } else if (strcmp(key, "db") == 0) {
        c->db = (int)read_integer(r, key, v, 0, 1 << 30, "from 0 (a Redis database number)");
    } else if (strcmp(key, "key") == 0) {
        free(c->key);
        c->key = read_string(r, key, v);
    } else if (strcmp(key, "requestsTimeout") == 0) {
        c->requests_timeout =
            (uint32_t)read_integer(r, key, v, 1, UINT32_MAX, "of milliseconds, at least 1");
    } else if (strcmp(key, "publishOnSpecificResponseChannel") == 0) {
        int on;
        if (pio_value_bool(v, &on) != PIO_OK)
            fail(r, "config.%s must be true or false", key);
        else
            c->specific_response_channel = on;
    } else {
        fail(r, "config: unknown key '%s' (known: " KNOWN_KEYS ")", key);
    }
}

const char *ra_config_read(ra_config *c, const pio_value *block, char *err, size_t cap)
{
    reader r = {err, cap, 0};
    memset(c, 0, sizeof *c);
    c->port = 6379;
    c->db = -1;
    c->requests_timeout = 5000;
    c->host = strdup("127.0.0.1");
    c->key = strdup("socket.io");
    if (!c->host || !c->key)
        fail(&r, "config: out of memory");

    int has_host = 0, has_port = 0;
    void *cursor = NULL;
    const char *key;
    for (const pio_value *v; !r.failed && (v = pio_value_next(block, &cursor, &key));) {
        has_host |= strcmp(key, "host") == 0;
        has_port |= strcmp(key, "port") == 0;
        read_key(&r, c, key, v);
    }
    if (!r.failed && c->socket && (has_host || has_port))
        fail(&r, "config.socket: give either socket or host and port, not both");
    if (!r.failed && c->username && !c->password)
        fail(&r, "config.username needs config.password");
    if (r.failed) {
        ra_config_free(c);
        return err;
    }
    if (c->socket) {
        free(c->host);
        c->host = NULL;
    }
    return NULL;
}

void ra_config_free(ra_config *c)
{
    free(c->host);
    free(c->socket);
    free(c->username);
    free(c->password);
    free(c->key);
    memset(c, 0, sizeof *c);
}

void ra_config_where(const ra_config *c, char *buf, size_t cap)
{
    if (c->socket)
        snprintf(buf, cap, "unix:%s", c->socket);
    else
        snprintf(buf, cap, "%s:%d", c->host, c->port);
}
