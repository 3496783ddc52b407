/*
 * watch: a file written while the watched list is being reset (a reload,
 * or a rollback, calls watch_set) is still reported once.  Real inotify
 * on a temporary directory; the debounce timer runs on a chosen clock.
 */
#include <criterion/criterion.h>

#include "base/timer.h"
#include "base/watch.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], file_a[96], file_b[96];
static int fd = -1;
static int calls;
static char seen[4][96];
static size_t n_seen;

static void on_change(const char *const *paths, size_t n)
{
    calls++;
    n_seen = 0;
    for (size_t i = 0; i < n && i < 4; i++)
        snprintf(seen[n_seen++], sizeof seen[0], "%s", paths[i]);
}

static void write_file(const char *path)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(f >= 0);
    cr_assert(write(f, "x", 1) == 1);
    close(f);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/plugio-watch-XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(file_a, sizeof file_a, "%s/a.so", dir);
    snprintf(file_b, sizeof file_b, "%s/b.so", dir);
    write_file(file_a);
    write_file(file_b);
    calls = 0;
    n_seen = 0;
    fd = watch_init(on_change);
    cr_assert(fd >= 0);
}

static void teardown(void)
{
    watch_shutdown();
    timers_clear();
    close(fd);
    unlink(file_a);
    unlink(file_b);
    rmdir(dir);
}

TestSuite(watch, .init = setup, .fini = teardown);

/* Past the debounce: what is due runs. */
static void settle(void) { timers_run(timer_now() + 10 * WATCH_DEBOUNCE_MS + 10); }

Test(watch, reports_a_write)
{
    const char *paths[] = {file_a, file_b};
    cr_assert(watch_set(paths, 2));
    write_file(file_a);
    watch_drain();
    settle();
    cr_assert_eq(calls, 1);
    cr_assert_eq(n_seen, 1);
    cr_assert_str_eq(seen[0], file_a);
}

Test(watch, keeps_a_change_queued_when_the_list_is_reset)
{
    const char *paths[] = {file_a, file_b};
    cr_assert(watch_set(paths, 2));
    write_file(file_a); /* queued on the old watch, not read yet */
    cr_assert(watch_set(paths, 2));
    watch_drain();
    settle();
    cr_assert_eq(calls, 1, "the change queued before watch_set was lost");
    cr_assert_str_eq(seen[0], file_a);
}

Test(watch, keeps_a_change_seen_but_not_reported_when_the_list_is_reset)
{
    const char *paths[] = {file_a, file_b};
    cr_assert(watch_set(paths, 2));
    write_file(file_b);
    watch_drain(); /* seen: the debounce is running */
    cr_assert(watch_set(paths, 2));
    settle();
    cr_assert_eq(calls, 1);
    cr_assert_str_eq(seen[0], file_b);
}

Test(watch, forgets_a_change_of_a_path_no_longer_watched)
{
    const char *both[] = {file_a, file_b}, *only_b[] = {file_b};
    cr_assert(watch_set(both, 2));
    write_file(file_a);
    cr_assert(watch_set(only_b, 1));
    watch_drain();
    settle();
    cr_assert_eq(calls, 0);
}
