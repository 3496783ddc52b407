/*
 * config_yaml.c - libFuzzer target: reading a configuration file (YAML,
 * libyaml underneath, then plugio's schema in config.c), which is all
 * `plugio --check` and a reload do before any plugin is opened.  Nothing
 * here binds: config_load* never opens a plugin, so the bytes reach only
 * the parser and the checks.
 *
 * Two ways in: config_load_string (what a served configuration goes
 * through: all or nothing), and config_load_ex with keep_on_error on the
 * same bytes in a memfd (what `--check` goes through: a configuration
 * with errors is still built, partly, and must free cleanly).
 *
 * Invariants: a configuration is returned exactly when no error was
 * reported; both ways find as many errors; every error reads
 * "file:line:column: message"; a configuration that loads names only
 * plugins it declares.
 */
#include "fuzz.h"

#include "config/config.h"

#include <sys/mman.h>
#include <unistd.h>

#define NAME "fuzz.yaml"

static void check_diags(const diag_list *d, const char *file)
{
    size_t flen = strlen(file);
    for (size_t i = 0; i < d->count; i++) {
        const char *s = d->items[i];
        unsigned line, column;
        int used = 0;
        FUZZ_CHECK(strncmp(s, file, flen) == 0 && s[flen] == ':');
        FUZZ_CHECK(sscanf(s + flen, ":%u:%u: %n", &line, &column, &used) == 2 && used > 0);
        FUZZ_CHECK(s[flen + (size_t)used] != '\0');
    }
}

static void check_ref(const config *c, const config_ref *r)
{
    FUZZ_CHECK(r->plugin && r->symbol && r->symbol[0]);
    FUZZ_CHECK(config_find_plugin(c, r->plugin));
}

static void check_config(const config *c)
{
    for (size_t i = 0; i < c->n_plugins; i++)
        FUZZ_CHECK(c->plugins[i].name && c->plugins[i].path && c->plugins[i].config);
    for (size_t i = 0; i < c->n_events; i++) {
        FUZZ_CHECK(c->events[i].name && c->events[i].nsp);
        check_ref(c, &c->events[i].handler);
    }
    for (size_t i = 0; i < c->n_middleware; i++) {
        FUZZ_CHECK(c->middleware[i].nsp);
        check_ref(c, &c->middleware[i].handler);
    }
    if (c->has_init)
        check_ref(c, &c->init);
    FUZZ_CHECK(c->opts.path && c->host);
}

/* The bytes as a file config_load_ex can open, without touching a disk. */
static size_t load_with_errors(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-config", 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    diag_list diags = DIAG_LIST_INIT;
    config *c = config_load_ex(path, &diags, true);
    check_diags(&diags, path);
    size_t n = diags.count;
    config_free(c);
    diag_free(&diags);
    close(fd);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    diag_list diags = DIAG_LIST_INIT;
    config *c = config_load_string((const char *)data, size, NAME, ".", &diags);
    FUZZ_CHECK(!c == (diags.count > 0));
    check_diags(&diags, NAME);
    if (c) {
        check_config(c);
        FUZZ_CHECK(config_retain(c) == c);
        config_free(c);
        config_free(c);
    }
    FUZZ_CHECK(load_with_errors(data, size) == diags.count);
    diag_free(&diags);
    return 0;
}
