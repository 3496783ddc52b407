/*
 * guard.c - containment of plugin faults (see guard.h).
 *
 * Each guarded call pushes a frame holding a sigjmp_buf on a per-thread
 * stack of frames; the fault handler (on the alternate stack) decides
 * whose fault it is and, when it is plugin code's, jumps back to the
 * innermost frame: calls nest (a handler that disconnects a socket runs
 * another plugin's disconnect handler inside its own call), and the
 * innermost one is the call that faulted.
 *
 * Whose fault: the backtrace from the faulting instruction outward, up to
 * the first frame that is either plugin code (a mapped plugin image:
 * plugin_address_owned) or host code (the executable's own mapping).
 * Shared libraries in between do not decide: strlen(NULL) in libc called
 * by a plugin is the plugin's fault, a bad write in libwebsockets called
 * by the host is the host's.  A jump to an address nothing maps (a NULL
 * function pointer) is decided by the return address the call pushed.
 *
 * The watchdog is a thread that reads the deadline of the loop thread's
 * innermost call (an atomic) and, once it has passed, signals the loop
 * thread.  The handler interrupts the call only at a point where nothing
 * of the host can be half-done: the instruction is plugin code, or a
 * system call the plugin made.  Anywhere else (inside malloc, say) it
 * returns, and the watchdog asks again a tick later.
 *
 * Two kinds of library code are not left by a jump.  The allocator's:
 * a fault inside malloc or free (a plugin's double free, its overrun of a
 * block) means the heap is corrupt and its lock may be held, so it ends
 * the process as the host's own fault would.  And for the watchdog,
 * anything but the wrappers of system calls that wait (read, poll,
 * nanosleep...): interrupting malloc in its mmap would leave its lock
 * held.  Both are told by address ranges read at start (dladdr1), in
 * libc and in whatever interposes on it (the sanitizers).
 *
 * The handler does what a handler may: it reads memory, fills the frame
 * and jumps; the report is written after the jump, on the loop.  It calls
 * backtrace(), which is safe once libgcc is loaded (guard_init primes it).
 * The jump does not restore the signal mask with sigsetjmp's (a system
 * call on every plugin call): the handler unblocks what the kernel
 * blocked for it, which is all that changed.
 */
#include "guard.h"

#include "base/log.h"
#include "plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#define TRACE_MAX 48
#define WATCH_TICK_MS 20
/* The loop busy this long outside plugin code is reported (once per stall). */
#define STALL_MS 2000
#define ALTSTACK_SIZE (256 * 1024)

typedef struct guard_frame {
    sigjmp_buf env;
    struct guard_frame *outer;
    pio_ctx *ctx;
    const char *what, *symbol;
    uint64_t deadline; /* CLOCK_MONOTONIC_COARSE ms; 0: no limit */
    /* Filled by the handler before it jumps here. */
    int sig;
    bool overran;
    uintptr_t addr, pc;
    void *trace[TRACE_MAX];
    int depth;
} guard_frame;

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_FAULT_SIGNALS (sizeof fault_signals / sizeof fault_signals[0])

static _Thread_local guard_frame *top;
static _Thread_local bool is_worker;
/* This thread's stack, [lo, hi): a return address is read from the
 * interrupted sp only inside it (a wild sp would fault in the handler,
 * where the fault signals are blocked, and the kernel would end the
 * process). */
static _Thread_local uintptr_t stack_lo, stack_hi;

static bool installed;
static struct sigaction saved[N_FAULT_SIGNALS], saved_watchdog;
static int watchdog_signal;
static pthread_t loop_thread, watchdog;
static bool watchdog_running;
static _Atomic bool stopping;
static _Atomic uint64_t call_deadline; /* the loop's innermost call's */
static _Atomic uint64_t busy_since;    /* when the loop woke; 0 while it waits */
static _Atomic bool want_trace;
static uintptr_t host_lo, host_hi;

/* Address ranges of library functions (see the top of the file). */
typedef struct fn_range {
    uintptr_t lo, hi;
} fn_range;

static fn_range heap_fns[64], wait_fns[128], sanitizer[16];
static size_t n_heap_fns, n_wait_fns, n_sanitizer;

static const char *const heap_names[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_trim", "cfree", NULL,
};
static const char *const wait_names[] = {
    "read", "write", "readv", "writev", "pread", "pread64", "pwrite", "pwrite64", "recv",
    "recvfrom", "recvmsg", "send", "sendto", "sendmsg", "poll", "ppoll", "select", "pselect",
    "epoll_wait", "epoll_pwait", "nanosleep", "clock_nanosleep", "usleep", "sleep", "pause",
    "accept", "accept4", "connect", "wait", "waitpid", "waitid", "sigsuspend", "sigtimedwait",
    "sigwaitinfo", "open", "open64", "openat", "openat64", "flock", "syscall", NULL,
};
static void (*fault_hook)(pio_ctx *ctx);
static unsigned long faults;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- whose code ---------------------------------------------------------- */

enum { OWNER_NONE, OWNER_PLUGIN, OWNER_HOST };

static int owner_of(uintptr_t a)
{
    if (plugin_address_owned(a, NULL))
        return OWNER_PLUGIN;
    if (a >= host_lo && a < host_hi)
        return OWNER_HOST;
    return OWNER_NONE;
}

static int find_host(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    /* The first object is the executable. */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!host_lo || lo < host_lo)
            host_lo = lo;
        if (hi > host_hi)
            host_hi = hi;
    }
    return 1;
}

static bool in_ranges(uintptr_t a, const fn_range *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a >= t[i].lo && a < t[i].hi)
            return true;
    return false;
}

static void add_range(fn_range *t, size_t *n, size_t cap, void *addr)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!addr || !dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size)
        return;
    uintptr_t lo = (uintptr_t)addr, hi = lo + sym->st_size;
    if (*n < cap && !in_ranges(lo, t, *n))
        t[(*n)++] = (fn_range){lo, hi};
}

/* A sanitizer's runtime, whole: an abort() from it is its report of a
 * memory error (its string interceptors fault for their callers). */
static int find_sanitizer(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    if (!info->dlpi_name || (!strstr(info->dlpi_name, "/libasan.") &&
                             !strstr(info->dlpi_name, "/libubsan.")))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && n_sanitizer < sizeof sanitizer / sizeof *sanitizer) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            sanitizer[n_sanitizer++] = (fn_range){lo, lo + ph->p_memsz};
        }
    }
    return 0;
}

/* Each name as libc defines it and as the process resolves it (an
 * interposer's, such as AddressSanitizer's). */
static void find_ranges(fn_range *t, size_t *n, size_t cap, const char *const *names)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    for (size_t i = 0; names[i]; i++) {
        add_range(t, n, cap, dlsym(RTLD_DEFAULT, names[i]));
        if (libc)
            add_range(t, n, cap, dlsym(libc, names[i]));
    }
    if (libc)
        dlclose(libc);
}

/* The backtrace of the interrupted code into f->trace, from its pc. */
static void capture(guard_frame *f, uintptr_t pc)
{
    void *raw[TRACE_MAX];
    int n = backtrace(raw, TRACE_MAX);
    /* raw starts with this handler's frames, then the kernel's signal
     * trampoline, then the interrupted pc itself. */
    int from = -1;
    for (int i = 0; i < n && from < 0; i++)
        if ((uintptr_t)raw[i] == pc)
            from = i;
    f->depth = 0;
    if (from < 0) { /* the unwinder could not cross the signal frame */
        f->trace[f->depth++] = (void *)pc;
        return;
    }
    for (int i = from; i < n; i++)
        f->trace[f->depth++] = raw[i];
}

/* The owner of the innermost frame that is the host's or a plugin's; the
 * host's when the allocator is on the way (the heap is not to be trusted). */
static int attribute(const guard_frame *f, uintptr_t sp, int sig)
{
    for (int i = 0; i < f->depth; i++) {
        uintptr_t a = (uintptr_t)f->trace[i];
        int o = owner_of(a);
        if (o != OWNER_NONE)
            return o;
        a -= i ? 1 : 0;
        if (in_ranges(a, heap_fns, n_heap_fns) ||
            (sig == SIGABRT && in_ranges(a, sanitizer, n_sanitizer)))
            return OWNER_HOST;
    }
    /* A call to where nothing is mapped: the return address on the stack. */
    if (f->depth == 1 && sp >= stack_lo && sp < stack_hi && stack_hi - sp >= sizeof(uintptr_t)) {
        uintptr_t ret = *(const uintptr_t *)sp;
        int o = owner_of(ret);
        if (o != OWNER_NONE)
            return o;
    }
    return OWNER_HOST;
}

static uintptr_t reg_pc(const void *ucv)
{
    return (uintptr_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
}

static uintptr_t reg_sp(const void *ucv)
{
    return (uintptr_t)((const ucontext_t *)ucv)->uc_mcontext.gregs[REG_RSP];
}

/* ---- the handlers -------------------------------------------------------- */

static void write_str(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static int slot_of(int sig)
{
    for (size_t i = 0; i < N_FAULT_SIGNALS; i++)
        if (fault_signals[i] == sig)
            return (int)i;
    return -1;
}

/* Back to the call that faulted, on its own stack. */
static _Noreturn void jump(guard_frame *f, const void *ucv)
{
#if defined(__SANITIZE_ADDRESS__)
    /* The frames jumped over keep their redzones poisoned otherwise; the
     * 128 bytes below sp are the red zone the ABI lets leaf code use. */
    uintptr_t sp = reg_sp(ucv) - 128;
    if ((uintptr_t)f > sp && (uintptr_t)f - sp <= (64u << 20)) /* f on the same stack */
        __asan_unpoison_memory_region((void *)sp, (uintptr_t)f - sp);
#else
    (void)ucv;
#endif
    sigset_t s;
    sigemptyset(&s);
    for (size_t i = 0; i < N_FAULT_SIGNALS; i++)
        sigaddset(&s, fault_signals[i]);
    sigaddset(&s, watchdog_signal);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    siglongjmp(f->env, 1);
}

/* Raised by this thread's own code: the kernel for a bad access, or
 * abort()/raise() (a tgkill from this process). */
static bool raised_here(const siginfo_t *si)
{
    return si->si_code > 0 || (si->si_code == SI_TKILL && si->si_pid == getpid());
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    guard_frame *f = top;
    uintptr_t pc = reg_pc(ucv);
    if (f && raised_here(si)) {
        capture(f, pc);
        if (attribute(f, reg_sp(ucv), sig) == OWNER_PLUGIN) {
            f->sig = sig;
            f->overran = false;
            f->pc = pc;
            f->addr = (uintptr_t)si->si_addr;
            jump(f, ucv);
        }
    }
    /* The host's own fault: say where, then let it end the process as it
     * would have without the guard (the previous handler, such as the
     * AddressSanitizer's, or the default action). */
    write_str("plugio: fatal signal in host code: ");
    write_str("SIG");
    write_str(sigabbrev_np(sig)); /* a static table: safe here */
    write_str("\n");
    void *trace[TRACE_MAX];
    backtrace_symbols_fd(trace, backtrace(trace, TRACE_MAX), STDERR_FILENO);
    int slot = slot_of(sig);
    if (slot >= 0)
        sigaction(sig, &saved[slot], NULL);
    else
        signal(sig, SIG_DFL);
    if (si->si_code <= 0)
        raise(sig); /* delivered once this returns */
    /* A fault the kernel raised happens again on return, and is handled
     * as it was before plugio installed this handler. */
}

/* The code at pc just made a system call (pc follows a `syscall`) in a
 * wrapper that waits, called by the plugin through such wrappers only:
 * nothing of the library is half-done there. */
static bool waiting_for_plugin(const guard_frame *f, uintptr_t pc)
{
    const unsigned char *p = (const unsigned char *)pc;
    if (owner_of(pc) != OWNER_NONE || p[-2] != 0x0f || p[-1] != 0x05)
        return false;
    for (int i = 0; i < f->depth; i++) {
        uintptr_t a = (uintptr_t)f->trace[i];
        int o = owner_of(a);
        if (o != OWNER_NONE)
            return o == OWNER_PLUGIN;
        if (!in_ranges(a - (i ? 1 : 0), wait_fns, n_wait_fns))
            return false;
    }
    return false;
}

static void on_watchdog(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    int saved_errno = errno;
    guard_frame *f = top;
    uintptr_t pc = reg_pc(ucv);
    if (f && f->deadline && now_ms() >= f->deadline) {
        capture(f, pc);
        if (owner_of(pc) == OWNER_PLUGIN || waiting_for_plugin(f, pc)) {
            f->sig = 0;
            f->overran = true;
            f->pc = pc;
            f->addr = 0;
            jump(f, ucv);
        }
    } else if (atomic_exchange(&want_trace, false)) {
        write_str("plugio: the event loop has been busy for over 2 s outside plugin code; "
                  "it is at:\n");
        void *trace[TRACE_MAX];
        backtrace_symbols_fd(trace, backtrace(trace, TRACE_MAX), STDERR_FILENO);
    }
    errno = saved_errno;
}

/* ---- the watchdog thread ------------------------------------------------- */

static void *watch(void *arg)
{
    (void)arg;
    uint64_t stall_told = 0, overrun_told = 0, signalled_for = 0, next_signal = 0, gap = 0;
    const struct timespec tick = {0, WATCH_TICK_MS * 1000000L};
    while (!atomic_load(&stopping)) {
        nanosleep(&tick, NULL);
        uint64_t now = now_ms();
        uint64_t deadline = atomic_load(&call_deadline);
        if (deadline && now >= deadline) {
            /* Each signal may cut short a system call the host makes inside
             * that plugin call (EINTR): ask again at growing intervals. */
            if (signalled_for != deadline) {
                signalled_for = deadline;
                next_signal = now;
                gap = WATCH_TICK_MS;
            }
            if (now >= next_signal) {
                pthread_kill(loop_thread, watchdog_signal);
                next_signal = now + gap;
                gap = gap < 1000 ? gap * 2 : 1000;
            }
            /* Still the same call a second later: it never reaches a point
             * where it can be stopped (it loops inside host code). */
            if (now >= deadline + 1000 && overrun_told != deadline) {
                overrun_told = deadline;
                log_warn("a plugin call has overrun its timeoutMs by %llu ms and is not yet at "
                         "a point where it can be interrupted",
                         (unsigned long long)(now - deadline));
            }
            continue;
        }
        uint64_t busy = atomic_load(&busy_since);
        if (!deadline && busy && now - busy >= STALL_MS && stall_told != busy) {
            stall_told = busy;
            atomic_store(&want_trace, true);
            pthread_kill(loop_thread, watchdog_signal);
        }
    }
    return NULL;
}

void guard_loop_idle(void) { atomic_store_explicit(&busy_since, 0, memory_order_relaxed); }

void guard_loop_busy(void) { atomic_store_explicit(&busy_since, now_ms(), memory_order_relaxed); }

/* ---- set-up -------------------------------------------------------------- */

static void note_stack(void)
{
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
        stack_lo = (uintptr_t)lo;
        stack_hi = stack_lo + size;
    }
    pthread_attr_destroy(&attr);
}

void guard_thread_init(void)
{
    is_worker = !pthread_equal(pthread_self(), loop_thread);
    note_stack();
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
        return; /* one is set already (the sanitizers set their own) */
    /* mmap, not malloc: a thread's stack outlives nothing a leak check sees. */
    void *mem = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return;
    stack_t ss = {.ss_sp = mem, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        munmap(mem, ALTSTACK_SIZE);
}

bool guard_init(char *err, size_t errlen)
{
    if (installed)
        return true;
    loop_thread = pthread_self();
    guard_thread_init();
    dl_iterate_phdr(find_host, NULL);
    find_ranges(heap_fns, &n_heap_fns, sizeof heap_fns / sizeof *heap_fns, heap_names);
    dl_iterate_phdr(find_sanitizer, NULL);
    find_ranges(wait_fns, &n_wait_fns, sizeof wait_fns / sizeof *wait_fns, wait_names);
    void *prime[2];
    backtrace(prime, 2); /* loads the unwinder now, not in a handler */
    watchdog_signal = SIGRTMIN + 1;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FAULT_SIGNALS; i++)
        sigaddset(&sa.sa_mask, fault_signals[i]);
    sigaddset(&sa.sa_mask, watchdog_signal);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sa.sa_sigaction = on_fault;
    for (size_t i = 0; i < N_FAULT_SIGNALS; i++) {
        if (sigaction(fault_signals[i], &sa, &saved[i]) != 0) {
            snprintf(err, errlen, "cannot handle %s: %s", strsignal(fault_signals[i]),
                     strerror(errno));
            while (i-- > 0)
                sigaction(fault_signals[i], &saved[i], NULL);
            return false;
        }
    }
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sa.sa_sigaction = on_watchdog;
    sigaction(watchdog_signal, &sa, &saved_watchdog);
    installed = true;
    atomic_store(&stopping, false);
    int rc = pthread_create(&watchdog, NULL, watch, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the watchdog: %s", strerror(rc));
        guard_shutdown();
        return false;
    }
    watchdog_running = true;
    return true;
}

void guard_shutdown(void)
{
    if (watchdog_running) {
        atomic_store(&stopping, true);
        pthread_join(watchdog, NULL);
        watchdog_running = false;
    }
    if (!installed)
        return;
    for (size_t i = 0; i < N_FAULT_SIGNALS; i++)
        sigaction(fault_signals[i], &saved[i], NULL);
    sigaction(watchdog_signal, &saved_watchdog, NULL);
    installed = false;
}

void guard_on_fault(void (*fn)(pio_ctx *ctx)) { fault_hook = fn; }

unsigned long guard_faults(void) { return faults; }

/* ---- calls --------------------------------------------------------------- */

static void push(guard_frame *f)
{
    top = f;
    atomic_signal_fence(memory_order_seq_cst);
    if (!is_worker)
        atomic_store_explicit(&call_deadline, f->deadline, memory_order_relaxed);
}

static void pop(guard_frame *f)
{
    top = f->outer;
    atomic_signal_fence(memory_order_seq_cst);
    if (!is_worker)
        atomic_store_explicit(&call_deadline, f->outer ? f->outer->deadline : 0,
                              memory_order_relaxed);
}

/* The fault, after the jump: what, where, and the way there. */
static void report(const guard_frame *f)
{
    const pio_ctx *ctx = f->ctx;
    char what[256];
    snprintf(what, sizeof what, "%s%s%s", f->what, f->symbol ? " " : "", f->symbol ? f->symbol : "");
    if (f->overran)
        log_msg(PIO_LOG_ERROR, ctx->name,
                "version %s: %s ran past timeoutMs (%u ms) and was interrupted at pc 0x%lx",
                plugin_image_version(ctx->image), what, ctx->timeout_ms, (unsigned long)f->pc);
    else if (f->sig == SIGSEGV || f->sig == SIGBUS)
        log_msg(PIO_LOG_ERROR, ctx->name,
                "version %s: %s raised %s (SIG%s) at address 0x%lx, pc 0x%lx", plugin_image_version(ctx->image),
                what, strsignal(f->sig), sigabbrev_np(f->sig), (unsigned long)f->addr,
                (unsigned long)f->pc);
    else /* the address is the instruction's, or nothing (abort) */
        log_msg(PIO_LOG_ERROR, ctx->name, "version %s: %s raised %s (SIG%s) at pc 0x%lx",
                plugin_image_version(ctx->image), what, strsignal(f->sig), sigabbrev_np(f->sig), (unsigned long)f->pc);
    /* The frames down to the first of the host's: the host's own below
     * it are the same for every call of this kind. */
    int depth = f->depth;
    for (int i = 0; i < f->depth; i++) {
        if (owner_of((uintptr_t)f->trace[i]) == OWNER_HOST) {
            depth = i + 1;
            break;
        }
    }
    for (int i = 0; i < depth; i++) {
        /* A stack overflow: the same frame many times. */
        int same = 0;
        while (i + same + 1 < depth && f->trace[i + same + 1] == f->trace[i])
            same++;
        if (same > 1) {
            log_msg(PIO_LOG_ERROR, ctx->name, "  #%d-#%d %p (the same frame %d times)", i, i + same,
                    f->trace[i], same + 1);
            i += same;
            continue;
        }
        Dl_info info;
        uintptr_t a = (uintptr_t)f->trace[i];
        /* A return address may be the next function's first byte (after a
         * call that does not return, such as abort): name the call's. */
        if (dladdr((void *)(i ? a - 1 : a), &info) && info.dli_fname) {
            if (info.dli_sname)
                log_msg(PIO_LOG_ERROR, ctx->name, "  #%d %p %s+0x%lx (%s+0x%lx)", i, f->trace[i],
                        info.dli_sname, (unsigned long)(a - (uintptr_t)info.dli_saddr),
                        info.dli_fname, (unsigned long)(a - (uintptr_t)info.dli_fbase));
            else
                log_msg(PIO_LOG_ERROR, ctx->name, "  #%d %p (%s+0x%lx)", i, f->trace[i],
                        info.dli_fname, (unsigned long)(a - (uintptr_t)info.dli_fbase));
        } else {
            log_msg(PIO_LOG_ERROR, ctx->name, "  #%d %p", i, f->trace[i]);
        }
    }
}

void guard_fault_seen(pio_ctx *ctx)
{
    if (ctx->faulted)
        return;
    __atomic_store_n(&ctx->faulted, true, __ATOMIC_RELAXED);
    faults++;
    plugin_image_pin(ctx->image);
    log_msg(PIO_LOG_ERROR, ctx->name, "version %s is quarantined: it is not called again",
            plugin_image_version(ctx->image));
    if (fault_hook)
        fault_hook(ctx_ref(ctx));
}

guard_result guard_call(pio_ctx *ctx, const char *what, const char *symbol, void (*fn)(void *),
                        void *arg)
{
    /* Read on the workers too (written on the loop only). */
    if (__atomic_load_n(&ctx->faulted, __ATOMIC_RELAXED))
        return GUARD_REFUSED;
    guard_frame f;
    f.outer = top;
    f.ctx = ctx;
    f.what = what;
    f.symbol = symbol;
    f.deadline = !is_worker && installed && ctx->timeout_ms ? now_ms() + ctx->timeout_ms : 0;
    f.depth = 0;
    pio_ctx *previous = is_worker ? NULL : ctx_enter(ctx);
    if (sigsetjmp(f.env, 0) == 0) {
        push(&f);
        fn(arg);
        pop(&f);
        if (!is_worker)
            ctx_leave(previous);
        /* A nested call of the same version faulted (a socket or room
         * callback, say) and the host handed the error back: this call
         * ran on, but its version faulted while it ran, and counts as a
         * fault too (reported once, by the nested call). */
        if (__atomic_load_n(&ctx->faulted, __ATOMIC_RELAXED))
            return GUARD_FAULTED;
        return GUARD_RETURNED;
    }
    pop(&f);
    if (!is_worker)
        ctx_leave(previous);
    report(&f);
    if (!is_worker)
        guard_fault_seen(ctx);
    return GUARD_FAULTED;
}
