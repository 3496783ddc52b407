/*
 * static.h - files served over HTTP (see static.c): server.static's
 * directories and, under serverOptions.path, the Socket.IO client
 * bundles (serveClient).
 */
#ifndef PIO_STATIC_H
#define PIO_STATIC_H

#include <libwebsockets.h>
#include <stdbool.h>

struct config;

/* site.c's route: a client bundle, or a file of a server.static mount;
 * HTTP_SITE_DECLINED for anything else, a file that is not there
 * included (site.c's 404 answers it). */
int static_route(struct lws *wsi, const char *path, const struct config *c);
/* The configuration in force (site_set_config): reads the client
 * bundles' version, and warns once when they cannot be served.  NULL
 * frees what it kept. */
void static_configure(const struct config *c);

/* ---- pure helpers, tested on their own ------------------------------- */

/* Whether `rel`, a request path below a mount (as libwebsockets decoded
 * it: "", "/", "/a/b.html"), may be looked up: no empty segment (a
 * trailing '/' is fine), none that starts with '.' (".", "..", dotfiles
 * such as ".git" or ".env"), no backslash, no control byte. */
bool static_path_safe(const char *rel);
/* The Content-Type for a file name, by its extension (case-insensitive);
 * "application/octet-stream" when unknown.  Text types carry
 * "; charset=utf-8". */
const char *static_mime_type(const char *name);
/* Whether an If-None-Match value names `etag` (a quoted entity tag):
 * "*", or any element of the list, compared weakly (W/ ignored), as
 * RFC 9110 13.1.2 says. */
bool static_etag_matches(const char *if_none_match, const char *etag);
/* `rel` (a path static_path_safe accepted) below the directory `dir`,
 * opened read-only and non-blocking without leaving it: openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, or (`resolved`, or when the
 * kernel has no openat2) realpath, a containment check and open.  The
 * descriptor, which the caller closes; -EXDEV when the way leaves dir (a
 * symlink out of it), another -errno (-ENOENT...) when there is nothing. */
int static_open_beneath(const char *dir, const char *rel, bool resolved);
/* Whether `name` is one of the files socket.io serves as its client:
 * socket.io(.min|.esm.min|.msgpack.min).js and their .map. */
bool static_client_file(const char *name);

#endif
