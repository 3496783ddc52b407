/*
 * test_plugin.c - loading plugins (host/plugin/plugin.c) and binding a
 * configuration to them (host/plugin/binding.c), with the test plugins under
 * tests/plugins: what an operator reads when a plugin is wrong, and the
 * private-copy rule that makes hot reload safe.
 *
 * Each test runs in its own process (Criterion's default), so the loader's
 * runtime directory is created afresh under a scratch XDG_RUNTIME_DIR that
 * the test can inspect.
 */
#include "config/config.h"
#include "plugin/binding.h"
#include "plugin/plugin.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLUGIN(name) TEST_PLUGIN_DIR "/" #name "/lib" #name ".so"
#define GOOD PLUGIN(tp_good)

static char scratch[PATH_MAX]; /* this test's XDG_RUNTIME_DIR, and room for files */
static char err[1024];
static diag_list diags = DIAG_LIST_INIT;

static void setup(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/pio-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    setenv("XDG_RUNTIME_DIR", scratch, 1);
    err[0] = '\0';
}

/* Removes dir and the files in it (one level: all the tests create). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[PATH_MAX + 256];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    plugin_rundir_cleanup();
    diag_free(&diags);
    remove_tree(scratch);
}

TestSuite(loader, .init = setup, .fini = teardown);
TestSuite(binding, .init = setup, .fini = teardown);

static void copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb");
    cr_assert_not_null(in, "cannot open %s (is test_plugins built?)", src);
    FILE *out = fopen(dst, "wb");
    cr_assert_not_null(out, "cannot create %s", dst);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        cr_assert_eq(fwrite(chunk, 1, n, out), n);
    fclose(in);
    cr_assert_eq(fclose(out), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* The private runtime directory the loader made inside scratch ("" if none). */
static const char *find_rundir(void)
{
    static char found[PATH_MAX + 256];
    found[0] = '\0';
    DIR *d = opendir(scratch);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "plugio-", 7))
            snprintf(found, sizeof found, "%s/%s", scratch, e->d_name);
    closedir(d);
    return found;
}

static size_t files_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* True when `path` is mapped into this process. */
static bool is_mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[PATH_MAX + 256];
    bool found = false;
    size_t n = strlen(path);
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t l = strlen(line);
        /* The path is the last field; a deleted file gets " (deleted)". */
        const char *p = strstr(line, path);
        found = p && (p + n == line + l || !strcmp(p + n, " (deleted)")) && p > line &&
                p[-1] == ' ';
    }
    fclose(f);
    return found;
}

/* ---- loading one plugin ---------------------------------------------------- */

Test(loader, loads_a_good_plugin_and_reads_its_descriptor)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "load failed: %s", err);
    cr_assert_str_eq(img->desc->name, "tp_good");
    cr_assert_str_eq(img->desc->version, "1.2.3");
    cr_assert_eq(img->desc->abi_major, PIO_ABI_MAJOR);
    cr_assert_eq(img->desc->abi_minor, PIO_ABI_MINOR);
    cr_assert_eq(img->refs, 1);
    cr_assert_eq(*img->desc->api, &host_api, "the host stored its table in the plugin");
    plugin_image_unref(img);
}

Test(loader, resolves_and_calls_an_exported_handler)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    pio_handler_fn fn = (pio_handler_fn)plugin_image_symbol(img, "on_event");
    cr_assert_not_null(fn);
    cr_assert_eq(fn(NULL, NULL, NULL), 4242, "the handler runs and sees the host's table");
    pio_init_fn init = (pio_init_fn)plugin_image_symbol(img, "init");
    cr_assert_not_null(init);
    cr_assert_null(init(NULL));
    plugin_image_unref(img);
}

Test(loader, missing_symbol_resolves_to_null)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    cr_assert_null(plugin_image_symbol(img, "no_such_handler"));
    cr_assert_null(plugin_image_symbol(img, "tp_good_hidden"), "hidden symbols are not exported");
    plugin_image_unref(img);
}

/* "major.minor" of the host, of the next major, of the next minor. */
static const char *abi(int major_step, int minor_step)
{
    static char text[3][32];
    static int n;
    char *t = text[n++ % 3];
    snprintf(t, sizeof text[0], "%d.%d", PIO_ABI_MAJOR + major_step,
             major_step ? 0 : PIO_ABI_MINOR + minor_step);
    return t;
}

Test(loader, refuses_a_different_abi_major_naming_both_versions)
{
    plugin_image *img = plugin_image_load(PLUGIN(tp_abi_major), err, sizeof err);
    cr_assert_null(img);
    cr_assert_not_null(strstr(err, PLUGIN(tp_abi_major)), "names the file: %s", err);
    cr_assert_not_null(strstr(err, abi(1, 0)), "names the plugin's version: %s", err);
    cr_assert_not_null(strstr(err, abi(0, 0)), "names the host's version: %s", err);
    cr_assert_not_null(strstr(err, "tp_abi_major"), "names the plugin: %s", err);
}

Test(loader, refuses_a_newer_abi_minor_naming_both_versions)
{
    plugin_image *img = plugin_image_load(PLUGIN(tp_abi_minor), err, sizeof err);
    cr_assert_null(img);
    cr_assert_not_null(strstr(err, PLUGIN(tp_abi_minor)), "names the file: %s", err);
    cr_assert_not_null(strstr(err, abi(0, 1)), "names the plugin's version: %s", err);
    cr_assert_not_null(strstr(err, abi(0, 0)), "names the host's version: %s", err);
    cr_assert_not_null(strstr(err, "newer"), "says why: %s", err);
}

/* A plugin that declares PIO_MIN_ABI_MINOR 0 loads in a 1.0 host and finds
 * out, with pio_has, which later functions it may call. */
Test(loader, a_plugin_requiring_an_older_minor_runs_in_that_host)
{
    plugin_image *img = plugin_image_load(PLUGIN(tp_min_minor), err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    cr_assert_eq(img->desc->abi_minor, 0, "the descriptor asks for minor 0 only");
    cr_assert(plugin_desc_check(img->desc, 0, "p.so", err, sizeof err),
              "a 1.0 host takes it: %s", err);

    int (*has_rooms)(void) = (int (*)(void))plugin_image_symbol(img, "tp_has_rooms");
    cr_assert_not_null(has_rooms);
    cr_assert_eq(has_rooms(), 1, "this host's table has the 1.1 functions");

    /* What a 1.0 host hands it: a table that ends before the 1.1 entries. */
    pio_api old = host_api;
    old.size = (uint32_t)offsetof(pio_api, socket_join);
    old.abi_minor = 0;
    *img->desc->api = &old;
    cr_assert_eq(has_rooms(), 0, "a 1.0 host's table does not have them");
    *img->desc->api = &host_api;
    plugin_image_unref(img);
}

Test(loader, an_older_host_refuses_a_plugin_requiring_a_newer_minor)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    cr_assert_eq(img->desc->abi_minor, PIO_ABI_MINOR, "by default the header's minor");
    if (PIO_ABI_MINOR > 0) {
        cr_assert_not(plugin_desc_check(img->desc, PIO_ABI_MINOR - 1, "p.so", err, sizeof err));
        cr_assert_not_null(strstr(err, "needs SDK ABI"), "says why: %s", err);
        cr_assert_not_null(strstr(err, abi(0, 0)), "names the plugin's need: %s", err);
        cr_assert_not_null(strstr(err, abi(0, -1)), "names the host's version: %s", err);
    }
    plugin_image_unref(img);
}

Test(loader, refuses_a_shared_object_without_descriptor)
{
    plugin_image *img = plugin_image_load(PLUGIN(tp_nodesc), err, sizeof err);
    cr_assert_null(img);
    cr_assert_not_null(strstr(err, PLUGIN(tp_nodesc)), "names the file: %s", err);
    cr_assert_not_null(strstr(err, "PIO_PLUGIN"), "says what is missing: %s", err);
}

Test(loader, refuses_a_file_that_is_not_a_shared_object)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/notes.so", scratch);
    write_file(path, "This is a text file that someone named .so by mistake; it is not ELF.\n"
                     "It is long enough to hold an ELF header, so dlopen reads its magic.\n");
    plugin_image *img = plugin_image_load(path, err, sizeof err);
    cr_assert_null(img);
    cr_assert_not_null(strstr(err, path), "names the original path: %s", err);
    cr_assert_not_null(strstr(err, "cannot load"), "%s", err);
    const char *rundir = find_rundir();
    cr_assert_str_neq(rundir, "");
    cr_assert_null(strstr(err, rundir), "does not name the private copy: %s", err);
    cr_assert_eq(files_in(rundir), 0, "the failed copy was removed");
}

/* dlopen of a truncated ELF file maps segments past its end and faults:
 * the loader must refuse it first, whatever the cut. */
Test(loader, refuses_a_truncated_shared_object_without_crashing)
{
    char good[PATH_MAX];
    snprintf(good, sizeof good, "%s/tp_good/libtp_good.so", TEST_PLUGIN_DIR);
    FILE *in = fopen(good, "rb");
    cr_assert_not_null(in);
    static char whole[1 << 20];
    size_t size = fread(whole, 1, sizeof whole, in);
    fclose(in);
    cr_assert_gt(size, 8192);
    const size_t cuts[] = {64, 4096, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/cut%zu.so", scratch, i);
        FILE *out = fopen(path, "wb");
        cr_assert_not_null(out);
        cr_assert_eq(fwrite(whole, 1, cuts[i], out), cuts[i]);
        cr_assert_eq(fclose(out), 0);
        cr_assert_null(plugin_image_load(path, err, sizeof err), "cut at %zu loaded", cuts[i]);
        cr_assert_not_null(strstr(err, path), "%s", err);
        cr_assert_not_null(strstr(err, "cannot load"), "%s", err);
    }
}

Test(loader, refuses_a_missing_file_naming_it)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/absent.so", scratch);
    plugin_image *img = plugin_image_load(path, err, sizeof err);
    cr_assert_null(img);
    cr_assert_not_null(strstr(err, path), "%s", err);
    cr_assert_not_null(strstr(err, "No such file"), "%s", err);
}

Test(loader, maps_a_private_copy_in_the_runtime_directory)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    const char *rundir = find_rundir();
    cr_assert_str_neq(rundir, "", "a runtime directory under XDG_RUNTIME_DIR");
    cr_assert_str_neq(img->copy, GOOD);
    cr_assert_eq(strncmp(img->copy, rundir, strlen(rundir)), 0, "%s is not in %s", img->copy,
                 rundir);
    cr_assert_eq(img->copy[strlen(rundir)], '/');
    cr_assert(is_mapped(img->copy), "the copy is mapped");
    cr_assert_not(is_mapped(GOOD), "the build's file is not mapped");
    char *copy = strdup(img->copy);
    plugin_image_unref(img);
    cr_assert_neq(access(copy, F_OK), 0, "the copy is deleted when the image goes");
    cr_assert_not(is_mapped(copy), "and unmapped");
    free(copy);
}

Test(loader, keeps_working_after_the_source_file_is_deleted)
{
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libtp_good.so", scratch);
    copy_file(GOOD, src);
    plugin_image *img = plugin_image_load(src, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    cr_assert_eq(unlink(src), 0);
    int (*count)(void) = (int (*)(void))plugin_image_symbol(img, "tp_good_count");
    cr_assert_not_null(count);
    cr_assert_eq(count(), 1);
    cr_assert_eq(count(), 2);
    plugin_image_unref(img);
}

Test(loader, keeps_working_when_the_source_file_is_rewritten_in_place)
{
    /* What a linker or `cp` does to the file the build writes. */
    char src[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/libtp_good.so", scratch);
    copy_file(GOOD, src);
    plugin_image *img = plugin_image_load(src, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    int fd = open(src, O_WRONLY | O_TRUNC);
    cr_assert_geq(fd, 0);
    char junk[8192];
    memset(junk, 0xcc, sizeof junk);
    cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    pio_handler_fn fn = (pio_handler_fn)plugin_image_symbol(img, "on_event");
    cr_assert_eq(fn(NULL, NULL, NULL), 4242);
    plugin_image_unref(img);
}

Test(loader, two_loads_of_one_file_are_independent_versions)
{
    /* A reload maps the same file again: it must get fresh code and
     * globals, not glibc's existing mapping of the first copy. */
    plugin_image *a = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(a, "%s", err);
    plugin_image *b = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(b, "%s", err);
    cr_assert_str_neq(a->copy, b->copy);
    cr_assert_neq(a->handle, b->handle);
    int (*count_a)(void) = (int (*)(void))plugin_image_symbol(a, "tp_good_count");
    int (*count_b)(void) = (int (*)(void))plugin_image_symbol(b, "tp_good_count");
    cr_assert_neq((void *)count_a, (void *)count_b);
    cr_assert_eq(count_a(), 1);
    cr_assert_eq(count_a(), 2);
    cr_assert_eq(count_b(), 1, "the second version has its own globals");
    plugin_image_unref(a);
    cr_assert_eq(count_b(), 2, "and survives the first one's unload");
    plugin_image_unref(b);
}

Test(loader, image_stays_mapped_while_referenced)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    char *copy = strdup(img->copy);
    plugin_image_ref(img);
    plugin_image_unref(img);
    cr_assert_eq(access(copy, F_OK), 0, "one reference is left");
    cr_assert(is_mapped(copy));
    pio_handler_fn fn = (pio_handler_fn)plugin_image_symbol(img, "on_event");
    cr_assert_eq(fn(NULL, NULL, NULL), 4242);
    plugin_image_unref(img);
    cr_assert_neq(access(copy, F_OK), 0);
    free(copy);
}

Test(loader, unref_of_null_is_harmless)
{
    plugin_image_unref(NULL);
}

Test(loader, rundir_cleanup_removes_the_directory_and_leftovers)
{
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    char rundir[PATH_MAX + 256];
    snprintf(rundir, sizeof rundir, "%s", find_rundir());
    cr_assert_eq(files_in(rundir), 1);
    plugin_image_unref(img);
    cr_assert_eq(files_in(rundir), 0);
    char stray[PATH_MAX + 300];
    snprintf(stray, sizeof stray, "%s/stray", rundir);
    write_file(stray, "x");
    plugin_rundir_cleanup();
    struct stat st;
    cr_assert_neq(stat(rundir, &st), 0, "%s is gone", rundir);
}

Test(loader, runtime_directory_falls_back_to_tmpdir)
{
    setenv("XDG_RUNTIME_DIR", "/nonexistent/plugio-test", 1);
    setenv("TMPDIR", scratch, 1);
    plugin_image *img = plugin_image_load(GOOD, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    cr_assert_eq(strncmp(img->copy, scratch, strlen(scratch)), 0, "%s", img->copy);
    plugin_image_unref(img);
}

/* ---- binding a configuration ----------------------------------------------- */

static binding *bind(const char *yaml)
{
    config *cfg = config_load_string(yaml, strlen(yaml), "t.yaml", "/", &diags);
    cr_assert_not_null(cfg, "the config itself should be valid: %s",
                       diags.count ? diags.items[0] : "");
    return binding_create(cfg, &diags);
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

/* The diagnostic that starts with `where` and contains every string in
 * what[] (NULL-terminated). */
static const char *diag_matching(const char *where, const char *const *what)
{
    for (size_t i = 0; i < diags.count; i++) {
        if (strncmp(diags.items[i], where, strlen(where)) != 0)
            continue;
        bool all = true;
        for (size_t k = 0; what[k]; k++)
            all = all && strstr(diags.items[i], what[k]);
        if (all)
            return diags.items[i];
    }
    return NULL;
}

#define EXPECT_DIAG(where, ...)                                                                \
    cr_assert_not_null(diag_matching(where, (const char *const[]){__VA_ARGS__, NULL}),         \
                       "no diagnostic at %s with the expected words; got:%s", where,          \
                       all_diags())

Test(binding, binds_handlers_and_init_of_a_good_plugin)
{
    binding *b = bind("plugins:\n"
                      "  good:\n"
                      "    path: " GOOD "\n"
                      "    config: { answer: 42 }\n"
                      "events:\n"
                      "  - name: hello\n"
                      "    handler: good:on_event\n"
                      "  - name: conf\n"
                      "    namespace: /admin\n"
                      "    handler: good:on_config\n"
                      "hooks:\n"
                      "  init: good:init\n");
    cr_assert_not_null(b, "binding failed:%s", all_diags());
    cr_assert_eq(diags.count, 0);
    cr_assert_eq(b->n_plugins, 1);
    cr_assert_eq(b->n_events, 2);

    const bound_event *hello = binding_find(b, "/", "hello");
    cr_assert_not_null(hello);
    cr_assert_str_eq(host_api.ctx_name(hello->ctx), "good");
    cr_assert_eq(hello->fn(hello->ctx, NULL, NULL), 4242);

    const bound_event *conf = binding_find(b, "/admin", "conf");
    cr_assert_not_null(conf);
    cr_assert_eq(conf->fn(conf->ctx, NULL, NULL), 42, "the plugin reads its config block");
    cr_assert_null(binding_find(b, "/", "conf"), "events belong to their namespace");
    cr_assert_null(binding_find(b, "/admin", "hello"));

    cr_assert_not_null(b->init);
    cr_assert_null(b->init(b->init_ctx));
    cr_assert(binding_has_namespace(b, "/"));
    cr_assert(binding_has_namespace(b, "/admin"));
    cr_assert_not(binding_has_namespace(b, "/other"));
    binding_destroy(b);
}

Test(binding, plugin_without_config_block_sees_an_empty_object)
{
    binding *b = bind("plugins:\n"
                      "  good: " GOOD "\n"
                      "events:\n"
                      "  - name: conf\n"
                      "    handler: good:on_config\n");
    cr_assert_not_null(b, "%s", all_diags());
    const bound_event *conf = binding_find(b, "/", "conf");
    cr_assert_eq(host_api.value_type(host_api.ctx_config(conf->ctx)), PIO_TYPE_OBJECT);
    cr_assert_eq(conf->fn(conf->ctx, NULL, NULL), -1);
    binding_destroy(b);
}

Test(binding, reports_a_missing_symbol_at_its_handler)
{
    binding *b = bind("plugins:\n"
                      "  good: " GOOD "\n"
                      "events:\n"
                      "  - name: hello\n"
                      "    handler: good:no_such_fn\n");
    cr_assert_null(b);
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    EXPECT_DIAG("t.yaml:5:14: ", "no_such_fn", "good");
}

Test(binding, reports_a_missing_init_symbol_at_the_hook)
{
    binding *b = bind("plugins:\n"
                      "  good: " GOOD "\n"
                      "hooks:\n"
                      "  init: good:setup\n");
    cr_assert_null(b);
    EXPECT_DIAG("t.yaml:4:9: ", "setup");
}

Test(binding, reports_a_missing_plugin_file_at_its_path)
{
    binding *b = bind("plugins:\n"
                      "  gone: /nonexistent/libgone.so\n"
                      "events:\n"
                      "  - name: hello\n"
                      "    handler: gone:on_event\n");
    cr_assert_null(b);
    EXPECT_DIAG("t.yaml:2:9: ", "/nonexistent/libgone.so", "gone");
    cr_assert_eq(diags.count, 1, "a plugin that failed is reported once, not per handler:%s",
                 all_diags());
}

Test(binding, reports_an_abi_mismatch_at_the_plugin_path)
{
    binding *b = bind("plugins:\n"
                      "  future: " PLUGIN(tp_abi_major) "\n"
                      "  newer: " PLUGIN(tp_abi_minor) "\n"
                      "  plain: " PLUGIN(tp_nodesc) "\n");
    cr_assert_null(b);
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    EXPECT_DIAG("t.yaml:2:11: ", "future", abi(1, 0), abi(0, 0));
    EXPECT_DIAG("t.yaml:3:10: ", "newer", abi(0, 1), abi(0, 0));
    EXPECT_DIAG("t.yaml:4:10: ", "plain", "PIO_PLUGIN");
}

Test(binding, reports_every_problem_and_keeps_nothing_loaded)
{
    binding *b = bind("plugins:\n"
                      "  good: " GOOD "\n"
                      "  gone: /nonexistent/libgone.so\n"
                      "events:\n"
                      "  - name: a\n"
                      "    handler: good:on_event\n"
                      "  - name: b\n"
                      "    handler: good:nope\n"
                      "  - name: c\n"
                      "    handler: gone:on_event\n"
                      "hooks:\n"
                      "  init: good:nope_init\n");
    cr_assert_null(b);
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    EXPECT_DIAG("t.yaml:3:9: ", "gone");
    EXPECT_DIAG("t.yaml:8:14: ", "nope");
    EXPECT_DIAG("t.yaml:12:9: ", "nope_init");
    cr_assert_eq(files_in(find_rundir()), 0, "nothing stays loaded");
}

Test(binding, failing_init_hook_returns_its_message)
{
    binding *b = bind("plugins:\n"
                      "  db: " PLUGIN(tp_init_fail) "\n"
                      "hooks:\n"
                      "  init: db:init\n");
    cr_assert_not_null(b, "%s", all_diags());
    cr_assert_not_null(b->init);
    cr_assert_str_eq(b->init(b->init_ctx), "database unreachable");
    binding_destroy(b);
}

Test(binding, destroy_unloads_every_plugin)
{
    binding *b = bind("plugins:\n"
                      "  one: " GOOD "\n"
                      "  two: " GOOD "\n");
    cr_assert_not_null(b, "%s", all_diags());
    const char *rundir = find_rundir();
    cr_assert_eq(files_in(rundir), 2, "each plugin has its own copy");
    binding_destroy(b);
    cr_assert_eq(files_in(rundir), 0);
}

/* ---- what a handler reference may name --------------------------------------- */

#define SYMBOLS PLUGIN(tp_symbols)

Test(loader, a_function_of_the_plugin_is_a_function)
{
    plugin_image *img = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    void *fn = NULL;
    cr_assert_eq(plugin_image_function(img, "on_event", &fn, err, sizeof err),
                 PLUGIN_SYMBOL_FUNCTION, "%s", err);
    cr_assert_eq(((pio_handler_fn)fn)(NULL, NULL, NULL), 77);
    plugin_image_unref(img);
}

/* dlsym returns what the resolver picked, a function no export describes:
 * the type comes from the symbol table, by name. */
Test(loader, an_ifunc_of_the_plugin_is_a_function)
{
    plugin_image *img = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    void *fn = NULL;
    cr_assert_eq(plugin_image_function(img, "on_fast", &fn, err, sizeof err),
                 PLUGIN_SYMBOL_FUNCTION, "%s", err);
    cr_assert_eq(((pio_handler_fn)fn)(NULL, NULL, NULL), 78);
    plugin_image_unref(img);
}

Test(loader, refuses_data_objects_naming_what_they_are)
{
    plugin_image *img = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    static const struct {
        const char *symbol, *said;
    } cases[] = {
        {"pio_plugin", "'pio_plugin' is a data object, not a function"},
        {"tp_counter", "'tp_counter' is a data object, not a function"},
        {"tp_greeting", "'tp_greeting' is a data object, not a function"},
        {"tp_per_thread", "'tp_per_thread' is a thread-local variable, not a function"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        void *fn = NULL;
        err[0] = '\0';
        cr_assert_eq(plugin_image_function(img, cases[i].symbol, &fn, err, sizeof err),
                     PLUGIN_SYMBOL_REFUSED, "%s was accepted", cases[i].symbol);
        cr_assert_str_eq(err, cases[i].said);
        cr_assert_null(fn);
    }
    plugin_image_unref(img);
}

/* The plugin calls puts; dlsym finds libc's through the plugin's handle. */
Test(loader, refuses_a_function_of_a_library_the_plugin_links)
{
    plugin_image *img = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    void *found = plugin_image_symbol(img, "puts");
    cr_assert_not_null(found, "dlsym does find it");
    /* libc's, or under ASan the sanitizer runtime's, which interposes it. */
    Dl_info where;
    cr_assert(dladdr(found, &where) && where.dli_fname);
    const char *lib = strrchr(where.dli_fname, '/') ? strrchr(where.dli_fname, '/') + 1
                                                     : where.dli_fname;
    cr_assert(!strcmp(lib, "libc.so.6") || !strncmp(lib, "libasan.so", 10), "%s", lib);
    char said[256];
    snprintf(said, sizeof said, "'puts' is defined in %s, not in the plugin", lib);
    void *fn = NULL;
    cr_assert_eq(plugin_image_function(img, "puts", &fn, err, sizeof err), PLUGIN_SYMBOL_REFUSED);
    cr_assert_str_eq(err, said);
    cr_assert_eq(plugin_image_function(img, "malloc", &fn, err, sizeof err),
                 PLUGIN_SYMBOL_REFUSED, "not even referenced by the plugin");
    cr_assert_not_null(strstr(err, ", not in the plugin"), "%s", err);
    cr_assert_null(fn);
    plugin_image_unref(img);
}

Test(loader, a_missing_symbol_is_missing_not_refused)
{
    plugin_image *img = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    void *fn = NULL;
    cr_assert_eq(plugin_image_function(img, "no_such_handler", &fn, err, sizeof err),
                 PLUGIN_SYMBOL_MISSING);
    plugin_image_unref(img);
}

/* Two loads of one file are two images: a function of one is not the
 * other's (the private copies have different bases). */
Test(loader, a_function_belongs_to_its_own_copy)
{
    plugin_image *a = plugin_image_load(SYMBOLS, err, sizeof err);
    plugin_image *b = plugin_image_load(SYMBOLS, err, sizeof err);
    cr_assert(a && b, "%s", err);
    void *fa = NULL, *fb = NULL;
    cr_assert_eq(plugin_image_function(a, "on_event", &fa, err, sizeof err),
                 PLUGIN_SYMBOL_FUNCTION, "%s", err);
    cr_assert_eq(plugin_image_function(b, "on_event", &fb, err, sizeof err),
                 PLUGIN_SYMBOL_FUNCTION, "%s", err);
    cr_assert_neq(fa, fb);
    Dl_info ia, ib;
    cr_assert(dladdr(fa, &ia) && dladdr(fb, &ib));
    cr_assert_str_eq(ia.dli_fname, a->copy);
    cr_assert_str_eq(ib.dli_fname, b->copy);
    plugin_image_unref(a);
    plugin_image_unref(b);
}

Test(binding, refuses_a_data_symbol_at_its_handler)
{
    binding *b = bind("plugins:\n"
                      "  echo: " SYMBOLS "\n"
                      "events:\n"
                      "  - name: ok\n"
                      "    handler: echo:on_event\n"
                      "  - name: hello\n"
                      "    handler: echo:pio_plugin\n");
    cr_assert_null(b);
    cr_assert_eq(diags.count, 1, "%s", all_diags());
    EXPECT_DIAG("t.yaml:7:14: ", "plugin 'echo' (" SYMBOLS ")",
                "'pio_plugin' is a data object, not a function");
}

Test(binding, refuses_a_dependency_function_in_events_middleware_and_init)
{
    binding *b = bind("plugins:\n"
                      "  auth: " SYMBOLS "\n"
                      "events:\n"
                      "  - name: hello\n"
                      "    handler: auth:puts\n"
                      "middleware:\n"
                      "  - handler: auth:tp_counter\n"
                      "hooks:\n"
                      "  init: auth:malloc\n");
    cr_assert_null(b);
    cr_assert_eq(diags.count, 3, "%s", all_diags());
    EXPECT_DIAG("t.yaml:5:14: ", "plugin 'auth'", "'puts' is defined in lib",
                ", not in the plugin");
    EXPECT_DIAG("t.yaml:7:14: ", "'tp_counter' is a data object, not a function");
    EXPECT_DIAG("t.yaml:9:9: ", "'malloc' is defined in ", ", not in the plugin");
    cr_assert_eq(files_in(find_rundir()), 0, "nothing stays loaded");
}

Test(binding, binds_an_ifunc_handler)
{
    binding *b = bind("plugins:\n"
                      "  p: " SYMBOLS "\n"
                      "events:\n"
                      "  - name: fast\n"
                      "    handler: p:on_fast\n");
    cr_assert_not_null(b, "%s", all_diags());
    const bound_event *fast = binding_find(b, "/", "fast");
    cr_assert_not_null(fast);
    cr_assert_eq(fast->fn(fast->ctx, NULL, NULL), 78);
    binding_destroy(b);
}

/* The SDK promises every entry of the table: a NULL one would crash the
 * plugin that calls it (every member after the header is a function). */
Test(plugin, every_entry_of_the_host_table_is_filled)
{
    const char *p = (const char *)&host_api + offsetof(pio_api, strerror);
    const char *end = (const char *)&host_api + sizeof host_api;
    cr_assert_eq(host_api.size, sizeof(pio_api));
    for (size_t i = 0; p < end; p += sizeof(void (*)(void)), i++) {
        void (*entry)(void);
        memcpy(&entry, p, sizeof entry);
        cr_assert_not_null((void *)entry, "entry %zu after strerror is NULL", i);
    }
}
