/* Unit tests for the pure helpers of the static file route
 * (host/web/static.c): which request paths may be looked up, content
 * types, If-None-Match, and the client bundle names. */
#include "web/static.h"

#include <criterion/criterion.h>

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
