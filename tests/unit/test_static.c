/* Unit tests for the static file route (host/web/static.c): which
 * request paths may be looked up, content types, If-None-Match, the
 * client bundle names, opening a file without leaving its mount (openat2,
 * and the realpath way), and the cache of compressed bodies
 * (static_cache.c). */
#include "web/static.h"
#include "web/static_cache.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

Test(static, accepts_plain_paths_below_a_mount)
{
    const char *ok[] = {"", "/", "/index.html", "/a/b/c.js", "/dir/", "a.css", "/a..b", "/a.",
                        "/a b%20c", "/caf\xc3\xa9.txt"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        cr_assert(static_path_safe(ok[i]), "refused '%s'", ok[i]);
}

Test(static, refuses_dot_segments_empty_segments_backslashes_and_control_bytes)
{
    const char *bad[] = {"/..",        "/../etc/passwd", "/a/../../b",   "..",   "/a/..",
                         "/.",         "/./a",           "/a/./b",       "//a",  "/a//b",
                         "/a\\..\\b",  "/..\\x",         "/a\\b",        "/a\nb", "/a\rb",
                         "/\x01",      "/a\x7f",         "/a/\t"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(static_path_safe(bad[i]), "accepted '%s'", bad[i]);
}

Test(static, refuses_dotfiles_and_dot_directories_at_any_depth)
{
    const char *bad[] = {"/.env", "/.git/config", "/.git/", "/sub/.hidden", "/a/.b/c",
                         "/.well-known/x", "/..a", ".htaccess", "/a/..."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(static_path_safe(bad[i]), "accepted '%s'", bad[i]);
}

Test(static, types_web_files_by_extension_whatever_the_case)
{
    cr_assert_str_eq(static_mime_type("/a/index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(static_mime_type("INDEX.HTM"), "text/html; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/app.js"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/m.mjs"), "text/javascript; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/s.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/x.map"), "application/json; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/i.svg"), "image/svg+xml; charset=utf-8");
    cr_assert_str_eq(static_mime_type("/p.PNG"), "image/png");
    cr_assert_str_eq(static_mime_type("/f.woff2"), "font/woff2");
    cr_assert_str_eq(static_mime_type("/w.wasm"), "application/wasm");
}

Test(static, types_unknown_and_extensionless_files_as_octet_stream)
{
    const char *names[] = {"/README", "/a.exe", "/x.", "/dir.d/file", "/.html", "/a.html.bak"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        cr_assert_str_eq(static_mime_type(names[i]), "application/octet-stream", "%s", names[i]);
}

Test(static, if_none_match_compares_weakly_over_a_list)
{
    const char *tag = "\"c-18f\"";
    cr_assert(static_etag_matches("\"c-18f\"", tag));
    cr_assert(static_etag_matches("W/\"c-18f\"", tag));
    cr_assert(static_etag_matches("\"x\", \"c-18f\"", tag));
    cr_assert(static_etag_matches("\"x\",W/\"c-18f\" ", tag));
    cr_assert(static_etag_matches("*", tag));
    cr_assert(static_etag_matches(" * ", tag));
}

Test(static, if_none_match_refuses_other_tags)
{
    const char *tag = "\"c-18f\"";
    cr_assert_not(static_etag_matches("", tag));
    cr_assert_not(static_etag_matches("\"c-18\"", tag));
    cr_assert_not(static_etag_matches("\"c-18f", tag));
    cr_assert_not(static_etag_matches("c-18f", tag));
    cr_assert_not(static_etag_matches("\"x\", \"y\"", tag));
    cr_assert_not(static_etag_matches("W/", tag));
    cr_assert_not(static_etag_matches(",,", tag));
    cr_assert_not(static_etag_matches("**", tag));
}

Test(static, knows_the_client_files_socketio_serves)
{
    const char *yes[] = {"socket.io.js",         "socket.io.js.map",
                         "socket.io.min.js",     "socket.io.min.js.map",
                         "socket.io.esm.min.js", "socket.io.esm.min.js.map",
                         "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        cr_assert(static_client_file(yes[i]), "%s", yes[i]);
    const char *no[] = {"", "socket.io", "socket.io.js?x", "/socket.io.js", "socket.io.JS",
                        "socket.io.esm.js", "../socket.io.js", "package.json"};
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_not(static_client_file(no[i]), "%s", no[i]);
}

/* ---- static_open_beneath: openat2, and the realpath way -------------- */

/* root/site with a file, a subdirectory, a symlink that stays inside and
 * three that leave (relative, absolute, through a directory); root/out
 * beside it.  Returns root; the caller removes it (tree_remove). */
static char *make_tree(void)
{
    char tmpl[] = "/tmp/plugio-beneath-XXXXXX";
    char *root = mkdtemp(tmpl);
    cr_assert_not_null(root);
    char *copy = strdup(root);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir -p site/sub out && echo in > site/a.txt && echo sub > site/sub/b.txt"
             " && echo out > out/secret.txt && ln -s a.txt site/link-in && ln -s sub site/dir-in"
             " && ln -s ../out/secret.txt site/link-out && ln -s /etc/passwd site/abs"
             " && ln -s ../out site/dir-out && ln -s /proc/self/root site/magic",
             copy);
    cr_assert_eq(system(cmd), 0);
    return copy;
}

static void tree_remove(char *root)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
    free(root);
}

static void read_is(int fd, const char *want)
{
    cr_assert_geq(fd, 0, "open: %s", strerror(-fd));
    char got[64] = "";
    ssize_t n = read(fd, got, sizeof got - 1);
    close(fd);
    cr_assert_gt(n, 0);
    cr_assert_str_eq(got, want);
}

static void check_beneath(bool resolved)
{
    char *root = make_tree();
    char site[512];
    snprintf(site, sizeof site, "%s/site", root);
    read_is(static_open_beneath(site, "/a.txt", resolved), "in\n");
    read_is(static_open_beneath(site, "sub/b.txt", resolved), "sub\n");
    read_is(static_open_beneath(site, "/link-in", resolved), "in\n");
    read_is(static_open_beneath(site, "/dir-in/b.txt", resolved), "sub\n");
    int dir = static_open_beneath(site, "", resolved);
    struct stat st;
    cr_assert(dir >= 0 && fstat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    close(dir);
    const char *out[] = {"/link-out", "/abs", "/dir-out/secret.txt", "/dir-out/", "/magic/etc/passwd"};
    for (size_t i = 0; i < sizeof out / sizeof *out; i++)
        cr_assert_eq(static_open_beneath(site, out[i], resolved), -EXDEV, "%s", out[i]);
    cr_assert_eq(static_open_beneath(site, "/missing", resolved), -ENOENT);
    cr_assert_eq(static_open_beneath(site, "/sub/missing", resolved), -ENOENT);
    snprintf(site, sizeof site, "%s/gone", root);
    cr_assert_eq(static_open_beneath(site, "/a.txt", resolved), -ENOENT, "a mount that is gone");
    tree_remove(root);
}

Test(static, opens_beneath_the_mount_with_openat2) { check_beneath(false); }
Test(static, opens_beneath_the_mount_the_realpath_way_on_old_kernels) { check_beneath(true); }

/* ---- the cache of compressed bodies ----------------------------------- */

static const config_compression gz6 = {true, 0, -1, 8, 15};

static struct stat file_stat(ino_t ino, off_t size, time_t mtime)
{
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_dev = 1;
    st.st_ino = ino;
    st.st_size = size;
    st.st_mtim.tv_sec = mtime;
    st.st_ctim.tv_sec = mtime;
    return st;
}

static char *bytes(size_t n, char c)
{
    char *p = malloc(n);
    cr_assert_not_null(p);
    memset(p, c, n);
    return p;
}

Test(static_cache, keeps_a_body_per_file_encoding_and_settings)
{
    static_cache_clear();
    struct stat st = file_stat(10, 100, 1000);
    static_blob b;
    cr_assert_not(static_cache_get(&st, ZIP_GZIP, &gz6, &b));
    cr_assert(static_cache_put(&st, ZIP_GZIP, &gz6, bytes(40, 'g'), 40, &b));
    cr_assert_eq(b.len, 40);
    static_blob hit;
    cr_assert(static_cache_get(&st, ZIP_GZIP, &gz6, &hit));
    cr_assert_eq(hit.data, b.data);
    cr_assert_not(static_cache_get(&st, ZIP_DEFLATE, &gz6, &hit), "another encoding");
    config_compression gz9 = gz6;
    gz9.level = 9;
    cr_assert_not(static_cache_get(&st, ZIP_GZIP, &gz9, &hit), "other zlib settings");
    static_cache_stats s = static_cache_read_stats();
    cr_assert_eq(s.entries, 1);
    cr_assert_eq(s.bytes, 40);
    static_cache_clear();
    cr_assert_eq(static_cache_read_stats().bytes, 0);
}

Test(static_cache, drops_an_entry_whose_file_changed)
{
    static_cache_clear();
    struct stat st = file_stat(11, 100, 1000);
    static_blob b;
    cr_assert(static_cache_put(&st, ZIP_GZIP, &gz6, bytes(10, 'a'), 10, &b));
    struct stat changed[3] = {st, st, st};
    changed[0].st_size = 101;
    changed[1].st_mtim.tv_nsec = 1;
    changed[2].st_ctim.tv_sec = 1001; /* size and mtime put back by hand */
    for (int i = 0; i < 3; i++) {
        cr_assert(static_cache_put(&st, ZIP_GZIP, &gz6, bytes(10, 'a'), 10, &b));
        cr_assert_not(static_cache_get(&changed[i], ZIP_GZIP, &gz6, &b), "change %d", i);
        cr_assert_eq(static_cache_read_stats().entries, 0, "the stale entry is dropped");
    }
    static_cache_clear();
}

Test(static_cache, evicts_the_least_recently_used_past_its_budget)
{
    static_cache_clear();
    size_t big = STATIC_CACHE_BUDGET / 3; /* three fit, not four */
    struct stat st[4];
    static_blob b;
    for (int i = 0; i < 3; i++) {
        st[i] = file_stat(20 + (ino_t)i, 1, 1);
        cr_assert(static_cache_put(&st[i], ZIP_GZIP, &gz6, bytes(big, 'x'), big, &b));
    }
    cr_assert(static_cache_get(&st[0], ZIP_GZIP, &gz6, &b)); /* 1 is now the oldest */
    st[3] = file_stat(23, 1, 1);
    cr_assert(static_cache_put(&st[3], ZIP_GZIP, &gz6, bytes(big, 'y'), big, &b));
    cr_assert(static_cache_get(&st[0], ZIP_GZIP, &gz6, &b));
    cr_assert_not(static_cache_get(&st[1], ZIP_GZIP, &gz6, &b), "the least recently used went");
    cr_assert(static_cache_get(&st[2], ZIP_GZIP, &gz6, &b));
    cr_assert(static_cache_get(&st[3], ZIP_GZIP, &gz6, &b));
    cr_assert_leq(static_cache_read_stats().bytes, STATIC_CACHE_BUDGET);
    static_cache_clear();
}

Test(static_cache, refuses_a_body_larger_than_the_budget)
{
    static_cache_clear();
    struct stat st = file_stat(30, 1, 1);
    static_blob b;
    cr_assert_not(static_cache_put(&st, ZIP_GZIP, &gz6, bytes(1, 'z'), STATIC_CACHE_BUDGET + 1, &b));
    cr_assert_eq(static_cache_read_stats().entries, 0);
}
