/*
 * static.c - files over HTTP: the directories of server.static, and the
 * Socket.IO client bundles under serverOptions.path (serveClient).
 *
 * Written by hand rather than with libwebsockets' mounts: lws 4.1.6
 * opens whatever a mount's path names, following symlinks out of the
 * directory, has no ETag of its own making nor If-None-Match for it, and
 * could not share the connection handling of http.c (keep-alive,
 * Connection: close, slow-request deadlines), which every response here
 * goes through (http_send).  Content types come from a small table of
 * web types, not libmagic: browsers need the type the extension promises
 * (a .js is a script whatever its bytes look like), and guessing from
 * content is how sniffing attacks work.
 *
 * Containment: a request path is refused (404) when, as libwebsockets
 * decoded it, it has a segment that starts with '.' (".", "..", and the
 * dotfiles ".git", ".env": serve-static's default dotfiles: 'ignore'), an
 * empty one, a backslash or a control byte.  The rest is opened with
 * openat2(2) below a descriptor of the mount's directory, RESOLVE_BENEATH
 * and RESOLVE_NO_MAGICLINKS: the kernel resolves every component, so a
 * symlink inside that points out of the directory (or a directory renamed
 * or swapped for a symlink while the request runs) is refused, EXDEV, and
 * answered 404; one that stays inside is served.  What was opened is what
 * is checked (fstat: a regular file, its size) and read.  On kernels
 * before 5.6 (ENOSYS) the path is resolved with realpath(3), checked to
 * stay inside, and opened with O_NOFOLLOW: the same answers, but a rename
 * between the check and the open could win.  Files are opened with
 * O_NONBLOCK: a FIFO must not block the loop (it is no regular file: 404).
 *
 * A response is read whole into memory and written at once: lws keeps
 * what the socket cannot take yet and sends it as it drains.  Files over
 * STATIC_MAX_FILE are refused (500, logged): plugio serves a web page's
 * assets, not downloads.  Each file has an ETag of its size and
 * modification time, Last-Modified, and "Cache-Control: public,
 * max-age=0" (revalidate each time, as Express's static files), so a
 * browser's If-None-Match gets 304.  A directory's path serves its
 * index.html; without its trailing slash it is redirected (301) to it,
 * so that the page's relative links resolve.  Text files (the types
 * with a charset) are gzipped or deflated as Accept-Encoding allows,
 * under serverOptions.httpCompression (its switch, threshold and zlib
 * settings), with an ETag of their own and "Vary: Accept-Encoding"; a
 * compressed body is kept for the next request (static_cache.c), and a
 * file over 4 MiB is always sent as it is.
 *
 * The client bundles are served as socket.io 4.8 serves them (its
 * Server#serve and sendFile): any method but a CORS preflight, ETag
 * "<version>" of the socket.io-client package (its package.json, next
 * to dist/), 304 for that tag or its weak form, "Cache-Control: public,
 * max-age=0", gzip or deflate as Accept-Encoding allows (brotli is not
 * offered: plugio has no brotli), with serverOptions.cors' headers.
 * With serveClient off, they are left to Engine.IO, as in socket.io.
 */
#include "static.h"

#include "base/buf.h"
#include "base/log.h"
#include "config/config.h"
#include "engineio/http.h"
#include "engineio/zip.h"
#include "reply.h"
#include "static_cache.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PLUGIO_CLIENT_DIR
#define PLUGIO_CLIENT_DIR "web/node_modules/socket.io-client/dist"
#endif

/* The largest file served: it is held in memory while it is sent. */
#define STATIC_MAX_FILE (64u << 20)

/* ---- pure helpers ------------------------------------------------------ */

bool static_path_safe(const char *rel)
{
    for (const char *p = rel; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
            return false;
    const char *seg = rel[0] == '/' ? rel + 1 : rel;
    while (*seg) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || seg[0] == '.') /* ".", ".." and dotfiles */
            return false;
        seg += n + (seg[n] == '/');
    }
    return true;
}

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
};

const char *static_mime_type(const char *name)
{
    const char *slash = strrchr(name, '/'), *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base && dot[1]) /* ".html" is a hidden file, not an extension */
        for (size_t i = 0; i < sizeof mime_types / sizeof *mime_types; i++)
            if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
                return mime_types[i].type;
    return "application/octet-stream";
}

/* A tag without its weakness: `"x"` of `W/"x"`; *len its length. */
static const char *opaque_tag(const char *tag, size_t len, size_t *out_len)
{
    if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
        tag += 2;
        len -= 2;
    }
    *out_len = len;
    return tag;
}

bool static_etag_matches(const char *header, const char *etag)
{
    size_t elen;
    const char *want = opaque_tag(etag, strlen(etag), &elen);
    for (const char *p = header; *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t end = n;
        while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        size_t tlen;
        const char *tag = opaque_tag(p, end, &tlen);
        if ((end == 1 && p[0] == '*') || (tlen == elen && tlen && memcmp(tag, want, elen) == 0))
            return true;
        p += n;
    }
    return false;
}

static const char *const client_files[] = {
    "socket.io.js",         "socket.io.js.map",         "socket.io.min.js",
    "socket.io.min.js.map", "socket.io.esm.min.js",     "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map",
};

bool static_client_file(const char *name)
{
    for (size_t i = 0; i < sizeof client_files / sizeof *client_files; i++)
        if (strcmp(name, client_files[i]) == 0)
            return true;
    return false;
}

/* ---- reading a file ---------------------------------------------------- */

/* A request header's value (NULL when absent); the caller frees it. */
static char *header_dup(struct lws *wsi, enum lws_token_indexes token)
{
    int len = lws_hdr_total_length(wsi, token);
    if (len <= 0)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (s && lws_hdr_copy(wsi, s, len + 1, token) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* What the request's Accept-Encoding offers that plugio writes. */
static zip_format accepted_encoding(struct lws *wsi)
{
    char *accept = header_dup(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
    zip_format f = accept ? zip_accepted(accept) : ZIP_NONE;
    free(accept);
    return f;
}

/* The whole of the regular file `fd` whose size st tells, read from its
 * start whatever its offset; the caller frees it.  NULL with errno set
 * (EFBIG past STATIC_MAX_FILE). */
static char *read_whole(int fd, const struct stat *st)
{
    if ((uintmax_t)st->st_size > STATIC_MAX_FILE) {
        errno = EFBIG;
        return NULL;
    }
    size_t size = (size_t)st->st_size, got = 0;
    char *data = malloc(size + 1);
    while (data && got < size) {
        ssize_t n = pread(fd, data + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* an error, or the file shrank while read */
            if (n == 0)
                errno = EIO;
            free(data);
            return NULL;
        }
        got += (size_t)n;
    }
    return data;
}

/* Opens `path` read-only as a regular file (no symlink as its last
 * component, no blocking on a FIFO): the descriptor, or -1. */
static int open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* What a 200 sends: bytes the cache holds, or the file read whole
 * (owned); data NULL for a HEAD sent as it is (only the length counts). */
typedef struct file_bytes {
    const char *data;
    size_t len;
    char *owned;
} file_bytes;

/* The body of file fd (st its fstat) compressed as f with z: from the
 * cache, or read, compressed and kept.  False when that fails. */
static bool zipped_body(int fd, const struct stat *st, zip_format f, const config_compression *z,
                        static_blob *out)
{
    if (static_cache_get(st, f, z, out))
        return true;
    char *data = read_whole(fd, st);
    if (!data)
        return false;
    buf zipped = BUF_INIT;
    bool ok = zip_compress(f, z, data, (size_t)st->st_size, &zipped);
    free(data);
    if (!ok) {
        buf_free(&zipped);
        return false;
    }
    size_t len;
    char *bytes = buf_steal(&zipped, &len);
    return bytes && static_cache_put(st, f, z, bytes, len, out);
}

/* The body of file fd as *f asks (a HEAD needs the compressed length, so
 * the compressed bytes too); *f becomes ZIP_NONE when compression fails:
 * the file is then sent as it is.  False, errno set, when the file cannot
 * be read. */
static bool file_body(int fd, const struct stat *st, zip_format *f, const config_compression *z,
                      bool head, file_bytes *b)
{
    static_blob blob;
    *b = (file_bytes){NULL, (size_t)st->st_size, NULL};
    if (*f != ZIP_NONE && zipped_body(fd, st, *f, z, &blob)) {
        *b = (file_bytes){blob.data, blob.len, NULL};
        return true;
    }
    *f = ZIP_NONE;
    if (head)
        return true;
    b->data = b->owned = read_whole(fd, st);
    return b->owned != NULL;
}

/* A file too large to hold, or unreadable: 500, logged. */
static int refuse_file(struct lws *wsi, const char *path)
{
    log_warn("static: cannot serve %s: %s%s", path, strerror(errno),
             errno == EFBIG ? " (over 64 MiB)" : "");
    return reply_plain(wsi, 500, "Internal Server Error");
}

/* ---- the client bundles (serveClient) ---------------------------------- */

/* The bundle directory in force and its package's version, for the
 * ETag; version NULL when the bundles cannot be served. */
static struct {
    char *dir;
    char *version;
} client;

/* A version as package.json writes it; only what is safe in a header. */
static char *read_client_version(const char *dir)
{
    buf b = BUF_INIT;
    buf_printf(&b, "%s/../package.json", dir);
    json_object *pkg = b.failed ? NULL : json_object_from_file(b.data);
    buf_free(&b);
    json_object *v = NULL;
    const char *s = pkg && json_object_object_get_ex(pkg, "version", &v) &&
                            json_object_is_type(v, json_type_string)
                        ? json_object_get_string(v)
                        : NULL;
    char *version = NULL;
    if (s && *s && s[strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-")] == '\0')
        version = strdup(s);
    json_object_put(pkg);
    return version;
}

void static_configure(const config *c)
{
    if (!c) {
        free(client.dir);
        free(client.version);
        client.dir = client.version = NULL;
        static_cache_clear();
        return;
    }
    const config_serve_client *sc = &c->opts.serve_client;
    if (!sc->enabled)
        return;
    const char *dir = sc->dir ? sc->dir : PLUGIO_CLIENT_DIR;
    bool same = client.dir && strcmp(client.dir, dir) == 0;
    bool was_ok = client.version != NULL;
    char *version = read_client_version(dir);
    char *copy = same ? client.dir : strdup(dir);
    if (!copy) {
        free(version);
        return;
    }
    if (!same)
        free(client.dir);
    free(client.version);
    client.dir = copy;
    client.version = version;
    if (!version && (!same || was_ok))
        log_warn("serveClient: no socket.io-client package at %s (its package.json and dist/ "
                 "bundles): %s/socket.io.js and the other bundles answer 404; run tools/run, "
                 "or npm ci in web/, or set serveClient: {dir: ...} or false",
                 dir, c->opts.path[0] ? c->opts.path : "");
}

/* socket.io compares If-None-Match with the tag or its weak form, whole. */
static bool client_not_modified(struct lws *wsi, const char *etag)
{
    char *inm = header_dup(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    bool match = inm && (strcmp(inm, etag) == 0 ||
                         (strncmp(inm, "W/", 2) == 0 && strcmp(inm + 2, etag) == 0));
    free(inm);
    return match;
}

/* gzip or deflate at Node's zlib defaults (level 6, window 15, memory 8),
 * as socket.io's sendFile does whatever httpCompression says; a bundle
 * over STATIC_ZIP_MAX_FILE goes as it is. */
static const config_compression node_zlib = {true, 0, -1, 8, 15};

static zip_format client_encoding(struct lws *wsi, const struct stat *st)
{
    if ((uintmax_t)st->st_size > STATIC_ZIP_MAX_FILE)
        return ZIP_NONE;
    return accepted_encoding(wsi);
}

static int serve_client(struct lws *wsi, const char *name, bool head)
{
    if (!client.version)
        return reply_plain(wsi, 404, "Not Found");
    char etag[96];
    snprintf(etag, sizeof etag, "\"%s\"", client.version);
    if (client_not_modified(wsi, etag)) {
        http_reply r = {.status = 304, .cors = true, .head_only = head};
        return http_send(wsi, &r);
    }
    buf path = BUF_INIT;
    buf_printf(&path, "%s/%s", client.dir, name);
    struct stat st;
    int fd = path.failed ? -1 : open_regular(path.data, &st);
    if (fd < 0) {
        buf_free(&path);
        return reply_plain(wsi, 404, "Not Found");
    }
    zip_format f = client_encoding(wsi, &st);
    file_bytes b = {0};
    bool ok = (uintmax_t)st.st_size <= STATIC_MAX_FILE;
    if (!ok)
        errno = EFBIG;
    else
        ok = file_body(fd, &st, &f, &node_zlib, head, &b);
    close(fd);
    if (!ok) {
        int rc = refuse_file(wsi, path.data);
        buf_free(&path);
        return rc;
    }
    buf_free(&path);
    bool map = strstr(name, ".map") != NULL;
    const http_header headers[] = {{"cache-control:", "public, max-age=0"}, {"etag:", etag}};
    http_reply r = {.status = 200,
                    .type = map ? "application/json; charset=utf-8"
                                : "application/javascript; charset=utf-8",
                    .body = b.data,
                    .len = b.len,
                    .encoding = f == ZIP_NONE ? NULL : zip_name(f),
                    .headers = headers,
                    .n_headers = 2,
                    .head_only = head,
                    .cors = true};
    int rc = http_send(wsi, &r);
    free(b.owned);
    return rc;
}

/* ---- server.static ----------------------------------------------------- */

/* Whether `path` is `prefix` or below it ("" is the root: everything). */
static bool is_under(const char *path, const char *prefix, size_t plen)
{
    return strncmp(path, prefix, plen) == 0 && (path[plen] == '/' || path[plen] == '\0');
}

/* The mount serving `path`: the one with the longest prefix. */
static const config_static_mount *find_mount(const config *c, const char *path)
{
    const config_static_mount *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < c->statics.n_mounts; i++) {
        const config_static_mount *m = &c->statics.mounts[i];
        size_t len = strcmp(m->path, "/") == 0 ? 0 : strlen(m->path);
        if (is_under(path, m->path, len) && (!best || len > best_len)) {
            best = m;
            best_len = len;
        }
    }
    return best;
}

/* `rel` below `root` with every symlink resolved, when it exists and
 * stays inside root; the caller frees it.  *outside tells a path that
 * left root. */
static char *resolve_inside(const char *root, const char *rel, bool *outside)
{
    buf b = BUF_INIT;
    buf_printf(&b, "%s/%s", root, rel[0] == '/' ? rel + 1 : rel);
    char *real = b.failed ? NULL : realpath(b.data, NULL);
    buf_free(&b);
    if (!real)
        return NULL;
    size_t n = strlen(root);
    if (n == 1 || (strncmp(real, root, n) == 0 && (real[n] == '\0' || real[n] == '/')))
        return real;
    *outside = true;
    free(real);
    return NULL;
}

/* Set once openat2 answered ENOSYS (a kernel before 5.6, or a sandbox
 * that filters it): every later open takes the realpath way. */
static bool no_openat2;

/* The realpath way (see the top of the file): racy, for old kernels. */
static int open_resolved(const char *dir, const char *rel)
{
    char *root = realpath(dir, NULL);
    if (!root)
        return -ENOENT;
    bool outside = false;
    char *real = resolve_inside(root, rel, &outside);
    free(root);
    if (!real)
        return outside ? -EXDEV : -ENOENT;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    int err = errno;
    free(real);
    return fd >= 0 ? fd : -err;
}

int static_open_beneath(const char *dir, const char *rel, bool resolved)
{
    const char *p = rel[0] == '/' ? rel + 1 : rel;
    if (!*p)
        p = ".";
    if (resolved || no_openat2)
        return open_resolved(dir, p);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -ENOENT;
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    long fd;
    int tries = 0, err;
    /* EAGAIN: a rename raced the walk; the kernel lets the caller retry. */
    do {
        fd = syscall(SYS_openat2, dfd, p, &how, sizeof how);
        err = errno;
    } while (fd < 0 && (err == EAGAIN || err == EINTR) && ++tries < 4);
    close(dfd);
    if (fd >= 0)
        return (int)fd;
    if (err == ENOSYS) {
        no_openat2 = true;
        log_info("static: the kernel has no openat2 (5.6+): files are resolved with realpath");
        return open_resolved(dir, p);
    }
    /* EXDEV: out of the directory; ELOOP: a magic link, or a loop. */
    return err == EXDEV || err == ELOOP || err == EAGAIN ? -EXDEV : -err;
}

/* 301 to `path` with a trailing slash, percent-encoded for the header. */
static int redirect_to_dir(struct lws *wsi, const char *path, bool head)
{
    buf loc = BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("/-._~!$&'()*+,;=:@", *p))
            buf_append_char(&loc, (char)*p);
        else
            buf_printf(&loc, "%%%02X", *p);
    }
    buf_append_char(&loc, '/');
    if (loc.failed) {
        buf_free(&loc);
        return -1;
    }
    const http_header h[] = {{"location:", loc.data}};
    static const char body[] = "Moved Permanently";
    http_reply r = {.status = 301, .type = "text/plain; charset=utf-8", .body = body,
                    .len = sizeof body - 1, .headers = h, .n_headers = 1, .head_only = head};
    int rc = http_send(wsi, &r);
    buf_free(&loc);
    return rc;
}

/* The encoding a text file of `size` bytes is sent in: gzip or deflate
 * as Accept-Encoding allows, under serverOptions.httpCompression's switch
 * and threshold, when it is no larger than STATIC_ZIP_MAX_FILE; *varies
 * tells whether the answer depends on the header. */
static zip_format file_encoding(struct lws *wsi, const char *type, off_t size,
                                const config_compression *hc, bool *varies)
{
    *varies = hc->enabled && strstr(type, "charset=utf-8") && (uintmax_t)size >= hc->threshold &&
              (uintmax_t)size <= STATIC_ZIP_MAX_FILE;
    if (!*varies)
        return ZIP_NONE;
    return accepted_encoding(wsi);
}

/* Size and modification time, and the encoding: each representation has
 * its own tag. */
static void file_etag(const struct stat *st, zip_format f, char *out, size_t size)
{
    snprintf(out, size, "\"%jx-%jx%s%s\"", (uintmax_t)st->st_size,
             (uintmax_t)st->st_mtim.tv_sec * 1000 + (uintmax_t)st->st_mtim.tv_nsec / 1000000,
             f == ZIP_NONE ? "" : "-", f == ZIP_NONE ? "" : zip_name(f));
}

/* A 200 (or 304) for the regular file fd, whose fstat is st: `name` as
 * requested gives the type, `shown` names it in a log line. */
static int send_file(struct lws *wsi, int fd, const struct stat *st, const char *name,
                     const char *shown, bool head, const config_compression *hc)
{
    if ((uintmax_t)st->st_size > STATIC_MAX_FILE) { /* for HEAD too: it says what GET gets */
        errno = EFBIG;
        return refuse_file(wsi, shown);
    }
    const char *type = static_mime_type(name);
    bool varies;
    zip_format f = file_encoding(wsi, type, st->st_size, hc, &varies);
    char etag[80], modified[64] = "";
    file_etag(st, f, etag, sizeof etag);
    struct tm tm;
    if (gmtime_r(&st->st_mtim.tv_sec, &tm))
        strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    http_header h[5] = {{"etag:", etag},
                        {"cache-control:", "public, max-age=0"},
                        {"x-content-type-options:", "nosniff"}};
    size_t n = 3;
    if (modified[0])
        h[n++] = (http_header){"last-modified:", modified};
    if (varies)
        h[n++] = (http_header){"vary:", "Accept-Encoding"};
    char *inm = header_dup(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH);
    bool fresh = inm && static_etag_matches(inm, etag);
    free(inm);
    if (fresh) {
        http_reply r = {.status = 304, .headers = h, .n_headers = n, .head_only = head};
        return http_send(wsi, &r);
    }
    file_bytes b;
    if (!file_body(fd, st, &f, hc, head, &b))
        return refuse_file(wsi, shown);
    file_etag(st, f, etag, sizeof etag); /* sent as it is when compression failed */
    http_reply r = {.status = 200, .type = type, .body = b.data, .len = b.len,
                    .encoding = f == ZIP_NONE ? NULL : zip_name(f),
                    .headers = h, .n_headers = n, .head_only = head};
    int rc = http_send(wsi, &r);
    free(b.owned);
    return rc;
}

/* The file `rel` names below mount m: itself, or a directory's
 * index.html; 404 when the way to it leaves the directory, declined when
 * there is none (or it is no regular file). */
static int serve_mount(struct lws *wsi, const config *c, const config_static_mount *m,
                       const char *path, const char *rel, bool head)
{
    int fd = static_open_beneath(m->dir, rel, false);
    struct stat st;
    buf index = BUF_INIT;
    const char *name = rel;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        size_t n = strlen(rel);
        if (n == 0 || rel[n - 1] != '/')
            return redirect_to_dir(wsi, path, head);
        buf_printf(&index, "%sindex.html", rel);
        fd = index.failed ? -ENOMEM : static_open_beneath(m->dir, index.data, false);
        name = index.data;
    }
    int rc = HTTP_SITE_DECLINED;
    if (fd == -EXDEV) {
        rc = reply_plain(wsi, 404, "Not Found");
    } else if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        buf shown = BUF_INIT;
        buf_printf(&shown, "%s/%s", m->dir, name[0] == '/' ? name + 1 : name);
        rc = send_file(wsi, fd, &st, name, shown.failed ? m->dir : shown.data, head,
                       &c->opts.http_compression);
        buf_free(&shown);
    }
    if (fd >= 0)
        close(fd);
    buf_free(&index);
    return rc;
}

int static_route(struct lws *wsi, const char *path, const config *c)
{
    int method = reply_method(wsi);
    const char *eio = c->opts.path;
    size_t elen = strlen(eio);
    if (is_under(path, eio, elen)) {
        const char *name = path[elen] == '/' ? path + elen + 1 : "";
        if (!c->opts.serve_client.enabled || !static_client_file(name) ||
            (method == LWSHUMETH_OPTIONS && c->opts.cors.enabled))
            return HTTP_SITE_DECLINED;
        return serve_client(wsi, name, method == LWSHUMETH_HEAD);
    }
    const config_static_mount *m = find_mount(c, path);
    if (!m)
        return HTTP_SITE_DECLINED;
    if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD)
        return reply_not_allowed(wsi);
    const char *rel = path + (strcmp(m->path, "/") == 0 ? 0 : strlen(m->path));
    if (!static_path_safe(rel))
        return reply_plain(wsi, 404, "Not Found");
    return serve_mount(wsi, c, m, path, rel, method == LWSHUMETH_HEAD);
}
