/*
 * test_guard.c - the fault guard (host/plugin/guard.c) with real plugin
 * code: the `crash` test plugin's faulty build (tests/plugins/crash) is
 * loaded and its handlers called under the guard, as the host calls them.
 * A fault in the host's own code must still end the process: those tests
 * run it in a child and look at how the child died.
 *
 * Each test runs in its own process (Criterion's default), so the
 * handlers a test installs and the faults it counts start afresh.
 */
#include "plugin/ctx.h"
#include "plugin/guard.h"
#include "plugin/plugin.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH(id) TEST_PLUGIN_DIR "/crash/libcrash_" #id ".so"

static char scratch[PATH_MAX];
static pio_ctx *hooked;   /* what the fault hook was told */
static int hook_calls;

static void on_fault(pio_ctx *ctx)
{
    hook_calls++;
    hooked = ctx;
    ctx_unref(ctx); /* the reference the hook is given */
}

static void setup(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/pio-guard-XXXXXX");
    cr_assert_not_null(mkdtemp(scratch));
    setenv("XDG_RUNTIME_DIR", scratch, 1);
    char err[256];
    cr_assert(guard_init(err, sizeof err), "%s", err);
    guard_on_fault(on_fault);
}

static void teardown(void)
{
    guard_on_fault(NULL);
    guard_shutdown();
    plugin_rundir_cleanup();
    rmdir(scratch);
}

static pio_ctx *load(const char *path)
{
    char err[1024];
    plugin_image *img = plugin_image_load(path, err, sizeof err);
    cr_assert_not_null(img, "%s", err);
    json_object *config = json_object_new_object();
    pio_ctx *ctx = ctx_create("crash", config, img);
    json_object_put(config);
    cr_assert_not_null(ctx);
    return ctx;
}

/* A handler of ctx's plugin, called as the dispatcher calls one. */
typedef struct handler_call {
    pio_ctx *ctx;
    pio_handler_fn fn;
    int calls;
} handler_call;

static void call_handler(void *arg)
{
    handler_call *c = arg;
    c->calls++;
    c->fn(c->ctx, NULL, NULL);
}

static handler_call handler(pio_ctx *ctx, const char *symbol)
{
    void *fn = NULL;
    char why[256];
    cr_assert_eq(plugin_image_function(ctx->image, symbol, &fn, why, sizeof why),
                 PLUGIN_SYMBOL_FUNCTION, "%s", why);
    return (handler_call){ctx, (pio_handler_fn)fn, 0};
}

TestSuite(guard, .init = setup, .fini = teardown);

static void faults_once(const char *symbol)
{
    pio_ctx *ctx = load(CRASH(b));
    handler_call c = handler(ctx, symbol);
    cr_assert_eq(guard_call(ctx, "handler", symbol, call_handler, &c), GUARD_FAULTED);
    cr_assert(ctx->faulted);
    cr_assert(ctx->image->pinned, "a faulted image is never unmapped");
    cr_assert_eq(guard_faults(), 1);
    cr_assert_eq(hook_calls, 1);
    cr_assert_eq(hooked, ctx);
    cr_assert_null(ctx_running(), "the call's context is left");
    /* Never called again. */
    cr_assert_eq(guard_call(ctx, "handler", symbol, call_handler, &c), GUARD_REFUSED);
    cr_assert_eq(c.calls, 1);
    cr_assert_eq(hook_calls, 1);
    ctx_unref(ctx);
}

Test(guard, a_null_dereference_in_a_plugin_returns_to_the_host) { faults_once("null_deref"); }
Test(guard, a_division_by_zero_in_a_plugin_returns_to_the_host) { faults_once("div_zero"); }
Test(guard, abort_in_a_plugin_returns_to_the_host) { faults_once("do_abort"); }
Test(guard, a_stack_overflow_in_a_plugin_returns_to_the_host) { faults_once("stack_overflow"); }
Test(guard, a_fault_in_libc_called_by_a_plugin_is_the_plugins) { faults_once("libc_null"); }
Test(guard, a_call_through_a_null_pointer_is_the_plugins) { faults_once("null_call"); }

Test(guard, a_plugin_call_that_runs_past_its_timeout_is_interrupted)
{
    pio_ctx *ctx = load(CRASH(b));
    ctx->timeout_ms = 100;
    handler_call c = handler(ctx, "spin");
    cr_assert_eq(guard_call(ctx, "handler", "spin", call_handler, &c), GUARD_FAULTED);
    cr_assert(ctx->faulted);
    ctx_unref(ctx);
}

Test(guard, a_plugin_call_waiting_in_a_system_call_past_its_timeout_is_interrupted)
{
    pio_ctx *ctx = load(CRASH(b));
    ctx->timeout_ms = 100;
    handler_call c = handler(ctx, "sleepy");
    cr_assert_eq(guard_call(ctx, "handler", "sleepy", call_handler, &c), GUARD_FAULTED);
    ctx_unref(ctx);
}

Test(guard, abort_is_contained_again_in_another_version)
{
    /* glibc's abort() keeps state between calls: a second one, after a
     * jump out of the first, must be contained the same way. */
    pio_ctx *one = load(CRASH(b)), *two = load(CRASH(b));
    handler_call c1 = handler(one, "do_abort"), c2 = handler(two, "do_abort");
    cr_assert_eq(guard_call(one, "handler", "do_abort", call_handler, &c1), GUARD_FAULTED);
    cr_assert_eq(guard_call(two, "handler", "do_abort", call_handler, &c2), GUARD_FAULTED);
    cr_assert_eq(guard_faults(), 2);
    ctx_unref(one);
    ctx_unref(two);
}

Test(guard, a_call_that_returns_is_left_alone)
{
    pio_ctx *ctx = load(CRASH(a));
    handler_call c = handler(ctx, "null_deref"); /* the good build only answers */
    /* No args to ack: the handler's pio_ack returns an error, no more. */
    cr_assert_eq(guard_call(ctx, "handler", "null_deref", call_handler, &c), GUARD_RETURNED);
    cr_assert_not(ctx->faulted);
    cr_assert_eq(guard_faults(), 0);
    cr_assert_eq(hook_calls, 0);
    ctx_unref(ctx);
}

/* Host code between two guarded calls: the inner call faults, the outer
 * one goes on. */
typedef struct nested {
    pio_ctx *outer;
    handler_call inner;
    guard_result inner_result;
    pio_ctx *running_after;
} nested;

static void call_nested(void *arg)
{
    nested *n = arg;
    n->inner_result = guard_call(n->inner.ctx, "handler", "null_deref", call_handler, &n->inner);
    n->running_after = ctx_running();
}

Test(guard, a_nested_call_that_faults_returns_to_the_call_around_it)
{
    pio_ctx *good = load(CRASH(a));
    pio_ctx *bad = load(CRASH(b));
    nested n = {good, handler(bad, "null_deref"), GUARD_RETURNED, NULL};
    cr_assert_eq(guard_call(good, "handler", "outer", call_nested, &n), GUARD_RETURNED);
    cr_assert_eq(n.inner_result, GUARD_FAULTED);
    cr_assert_eq(n.running_after, good, "the outer call's context again");
    cr_assert(bad->faulted);
    cr_assert_not(good->faulted);
    ctx_unref(good);
    ctx_unref(bad);
}

/* On a worker: contained there, marked on the loop (guard_fault_seen). */
typedef struct worker_run {
    handler_call c;
    guard_result result;
} worker_run;

static void *worker(void *arg)
{
    worker_run *w = arg;
    guard_thread_init();
    w->result = guard_call(w->c.ctx, "work function", NULL, call_handler, &w->c);
    return NULL;
}

Test(guard, a_fault_on_a_worker_is_contained_and_marked_on_the_loop)
{
    pio_ctx *ctx = load(CRASH(b));
    worker_run w = {handler(ctx, "null_deref"), GUARD_RETURNED};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, worker, &w), 0);
    pthread_join(t, NULL);
    cr_assert_eq(w.result, GUARD_FAULTED);
    cr_assert_not(ctx->faulted, "the worker leaves the marking to the loop");
    guard_fault_seen(ctx);
    cr_assert(ctx->faulted);
    cr_assert_eq(hook_calls, 1);
    ctx_unref(ctx);
}

/* ---- the host's own faults end the process ------------------------------ */

/* A bad read in the host (not of NULL itself: the sanitizer would
 * report that before the access). */
static void host_null(void *arg)
{
    (void)arg;
    volatile int *volatile p = (volatile int *)(uintptr_t)16;
    (void)*p;
}

/* Run fn in a child with the guard installed; its stderr into out. */
static int child_status(void (*fn)(void), char *out, size_t size)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[0]);
        fn();
        _exit(0);
    }
    close(pipefd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(pipefd[0], out + n, size - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(pipefd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

static void host_fault_in_plugin_call(void)
{
    pio_ctx *ctx = load(CRASH(a));
    guard_call(ctx, "handler", "host code", host_null, NULL);
}

static void host_fault_outside_calls(void) { host_null(NULL); }

/* A plugin's double free: the fault is in the allocator, whose heap is
 * then not to be trusted - the process ends. */
static void heap_fault_in_plugin_call(void)
{
    pio_ctx *ctx = load(CRASH(b));
    handler_call c = handler(ctx, "double_free");
    guard_call(ctx, "handler", "double_free", call_handler, &c);
}

Test(guard, a_fault_inside_the_allocator_ends_the_process)
{
    char out[16384];
    int status = child_status(heap_fault_in_plugin_call, out, sizeof out);
    cr_assert(WIFSIGNALED(status), "the child exited (status %d); stderr:\n%s", status, out);
    cr_assert_not_null(strstr(out, "plugio: fatal signal in host code"), "%s", out);
}

static void assert_died_in_host(int status, const char *out)
{
    /* By SIGSEGV, or by SIGABRT when AddressSanitizer reports it first. */
    cr_assert(WIFSIGNALED(status), "the child exited (status %d); stderr:\n%s", status, out);
    cr_assert(WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGABRT, "signal %d",
              WTERMSIG(status));
    cr_assert_not_null(strstr(out, "plugio: fatal signal in host code: SIGSEGV"), "%s", out);
}

Test(guard, a_fault_in_host_code_during_a_plugin_call_ends_the_process)
{
    char out[16384];
    assert_died_in_host(child_status(host_fault_in_plugin_call, out, sizeof out), out);
}

Test(guard, a_fault_in_host_code_outside_plugin_calls_ends_the_process)
{
    char out[16384];
    assert_died_in_host(child_status(host_fault_outside_calls, out, sizeof out), out);
}

/* ---- a loop busy outside plugin code -------------------------------------- */

Test(guard, a_loop_busy_outside_plugin_code_is_reported_with_where_it_is)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/stderr", scratch);
    int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(file, 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(file, STDERR_FILENO);
    guard_loop_busy();
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 2500);
    guard_loop_idle();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char out[16384];
    ssize_t n = pread(file, out, sizeof out - 1, 0);
    close(file);
    unlink(path);
    out[n > 0 ? n : 0] = '\0';
    cr_assert_not_null(strstr(out, "the event loop has been busy for over 2 s outside plugin code"),
                       "%s", out);
}
