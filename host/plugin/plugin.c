/*
 * plugin.c - private copies, dlopen and the descriptor check (see plugin.h).
 */
#include "plugin.h"

#include "base/log.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char rundir[4096];
static unsigned long copies;

/* Create the runtime directory (under $XDG_RUNTIME_DIR or /tmp), once. */
static bool rundir_init(char *err, size_t errlen)
{
    if (rundir[0])
        return true;
    const char *base = getenv("XDG_RUNTIME_DIR");
    if (!base || !*base || access(base, W_OK) != 0)
        base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    snprintf(rundir, sizeof rundir, "%s/plugio-%ld-XXXXXX", base, (long)getpid());
    if (!mkdtemp(rundir)) {
        snprintf(err, errlen, "cannot create runtime directory %s: %s", rundir, strerror(errno));
        rundir[0] = '\0';
        return false;
    }
    return true;
}

void plugin_rundir_cleanup(void)
{
    if (!rundir[0])
        return;
    DIR *d = opendir(rundir);
    if (d) {
        struct dirent *e;
        char path[sizeof rundir + 256];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", rundir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(rundir);
    rundir[0] = '\0';
}

/* Copy src to a new file in the runtime directory; returns its path. */
static char *copy_to_rundir(const char *src, char *err, size_t errlen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(err, errlen, "cannot open %s: %s", src, strerror(errno));
        return NULL;
    }
    const char *slash = strrchr(src, '/');
    const char *base = slash ? slash + 1 : src;
    size_t n = strlen(rundir) + strlen(base) + 32;
    char *dst = malloc(n);
    int out = -1;
    if (dst) {
        snprintf(dst, n, "%s/%lu-%s", rundir, ++copies, base);
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    }
    if (out < 0) {
        snprintf(err, errlen, "cannot create a private copy of %s: %s", src,
               dst ? strerror(errno) : "out of memory");
        free(dst);
        close(in);
        return NULL;
    }
    char chunk[65536];
    ssize_t r;
    while ((r = read(in, chunk, sizeof chunk)) > 0) {
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(out, chunk + done, (size_t)(r - done));
            if (w < 0) {
                r = -1;
                break;
            }
            done += w;
        }
        if (r < 0)
            break;
    }
    int saved = errno;
    close(in);
    if (close(out) != 0 && r >= 0) {
        r = -1;
        saved = errno;
    }
    if (r < 0) {
        snprintf(err, errlen, "cannot copy %s: %s", src, strerror(saved));
        unlink(dst);
        free(dst);
        return NULL;
    }
    return dst;
}

/* dlopen trusts the ELF headers: it maps every segment they promise, and
 * touching the part of a segment beyond the end of a truncated file
 * raises SIGBUS in the host.  So before dlopen, check that the file is a
 * shared object for this machine and that everything the headers point
 * at lies inside it.  (A check this small does not warrant libelf.) */
static bool check_elf(const char *copy, const char *path, char *err, size_t errlen)
{
    int fd = open(copy, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read the private copy: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    uint64_t size = (uint64_t)st.st_size;
    Elf64_Ehdr eh;
    bool ok = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
              memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64;
    if (!ok) {
        snprintf(err, errlen, "%s: cannot load: not a 64-bit ELF shared object", path);
        close(fd);
        return false;
    }
    const char *why = NULL;
    if (eh.e_type != ET_DYN)
        why = "not a shared object";
    else if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
             eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size)
        why = "program headers outside the file (truncated?)";
    else if (eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > size)
        why = "section headers outside the file (truncated?)";
    for (unsigned i = 0; !why && i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
            why = "unreadable program header";
        else if ((ph.p_type == PT_LOAD || ph.p_type == PT_DYNAMIC) &&
                 (ph.p_offset > size || ph.p_filesz > size - ph.p_offset))
            why = "a segment extends past the end of the file (truncated?)";
    }
    close(fd);
    if (why)
        snprintf(err, errlen, "%s: cannot load: %s", path, why);
    return why == NULL;
}

/* The descriptor's fields exist up to desc->size; later ones read as 0. */
bool plugin_desc_check(const pio_plugin_desc *d, unsigned host_minor, const char *path,
                       char *err, size_t errlen)
{
    if (d->size < offsetof(pio_plugin_desc, load)) {
        snprintf(err, errlen, "%s: invalid plugin descriptor (size %u)", path, d->size);
        return false;
    }
    if (d->abi_major != PIO_ABI_MAJOR) {
        snprintf(err, errlen,
               "%s: plugin '%s' was built for SDK ABI %u.%u, this host provides %d.%u "
               "(the major versions must match)",
               path, d->name ? d->name : "?", d->abi_major, d->abi_minor, PIO_ABI_MAJOR,
               host_minor);
        return false;
    }
    if (d->abi_minor > host_minor) {
        snprintf(err, errlen,
               "%s: plugin '%s' needs SDK ABI %u.%u, newer than this host's %d.%u",
               path, d->name ? d->name : "?", d->abi_major, d->abi_minor, PIO_ABI_MAJOR,
               host_minor);
        return false;
    }
    if (!d->api) {
        snprintf(err, errlen, "%s: invalid plugin descriptor (no api slot)", path);
        return false;
    }
    return true;
}

/* ---- where each image is mapped ----------------------------------------
 *
 * The fault guard asks, from a signal handler, whether an address is
 * plugin code.  So the table is never changed in place where a reader
 * could see it half-written: growing it publishes a new copy (the old one
 * is leaked: each is half the next, so all of them together cost less
 * than twice the last), and an entry is removed by swapping the last one
 * in before the count drops. */

typedef struct image_range {
    uintptr_t lo, hi;       /* [lo, hi): from the first to the end of the last PT_LOAD */
    const char *copy;       /* the image's copy path (owned by the image) */
    const plugin_image *img;
} image_range;

static image_range *_Atomic ranges;
static _Atomic size_t n_ranges;
static size_t cap_ranges;

typedef struct range_search {
    uintptr_t base;
    const char *name;
    uintptr_t lo, hi;
} range_search;

static int find_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    range_search *q = arg;
    if (info->dlpi_addr != q->base || !info->dlpi_name || strcmp(info->dlpi_name, q->name) != 0)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!q->lo || lo < q->lo)
            q->lo = lo;
        if (hi > q->hi)
            q->hi = hi;
    }
    return 1;
}

static bool range_add(const plugin_image *img)
{
    struct link_map *lm = NULL;
    if (dlinfo(img->handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return false;
    range_search q = {lm->l_addr, lm->l_name, 0, 0};
    dl_iterate_phdr(find_segments, &q);
    if (!q.lo)
        return false;
    size_t n = n_ranges;
    image_range *table = ranges;
    if (n == cap_ranges) {
        size_t cap = cap_ranges ? cap_ranges * 2 : 16;
        image_range *bigger = malloc(cap * sizeof *bigger);
        if (!bigger)
            return false;
        if (n)
            memcpy(bigger, table, n * sizeof *bigger);
        ranges = table = bigger; /* the old table stays readable */
        cap_ranges = cap;
    }
    table[n] = (image_range){q.lo, q.hi, img->copy, img};
    n_ranges = n + 1;
    return true;
}

static void range_remove(const plugin_image *img)
{
    image_range *table = ranges;
    size_t n = n_ranges;
    for (size_t i = 0; i < n; i++) {
        if (table[i].img != img)
            continue;
        if (i != n - 1) {
            /* Readers skip a momentary duplicate, never a missing entry. */
            table[i] = table[n - 1];
        }
        n_ranges = n - 1;
        return;
    }
}

bool plugin_address_owned(uintptr_t addr, const char **copy)
{
    size_t n = n_ranges;
    const image_range *table = ranges;
    for (size_t i = 0; i < n; i++) {
        if (addr >= table[i].lo && addr < table[i].hi) {
            if (copy)
                *copy = table[i].copy;
            return true;
        }
    }
    return false;
}

plugin_image *plugin_image_load(const char *path, char *err, size_t errlen)
{
    if (!rundir_init(err, errlen))
        return NULL;
    char *copy = copy_to_rundir(path, err, errlen);
    if (!copy)
        return NULL;
    if (!check_elf(copy, path, err, errlen)) {
        unlink(copy);
        free(copy);
        return NULL;
    }
    void *handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        /* dlerror names the private copy; the operator knows the original. */
        const char *e = dlerror();
        const char *why = e ? strstr(e, ": ") : NULL;
        snprintf(err, errlen, "%s: cannot load: %s", path, why ? why + 2 : (e ? e : "unknown error"));
        unlink(copy);
        free(copy);
        return NULL;
    }
    const pio_plugin_desc *desc = dlsym(handle, "pio_plugin");
    if (!desc) {
        snprintf(err, errlen, "%s: not a plugio plugin (no pio_plugin descriptor; use PIO_PLUGIN)",
               path);
        goto fail;
    }
    if (!plugin_desc_check(desc, PIO_ABI_MINOR, path, err, errlen))
        goto fail;
    plugin_image *img = calloc(1, sizeof *img);
    if (!img) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    *desc->api = &host_api;
    img->copy = copy;
    img->handle = handle;
    img->desc = desc;
    img->refs = 1;
    if (!range_add(img))
        log_warn("%s: cannot find where it is mapped; a fault in it will end the process", path);
    return img;
fail:
    dlclose(handle);
    unlink(copy);
    free(copy);
    return NULL;
}

void *plugin_image_symbol(plugin_image *img, const char *symbol)
{
    dlerror();
    return dlsym(img->handle, symbol);
}

/* The ELF type of the first defined entry named `symbol` in the dynamic
 * symbol table of the file at `copy` (the private copy: the bytes that
 * are mapped).  The table is read by name from the file rather than found
 * with dladdr1(RTLD_DL_SYMENT) because dlsym returns what an IFUNC
 * resolves to, which no exported symbol may describe.  Returns -1 when the
 * file has no readable section table (stripped with sstrip, say) or no
 * such entry. */
static int dynsym_type(const char *copy, const char *symbol)
{
    int fd = open(copy, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return -1;
    int type = -1;
    Elf64_Shdr *sh = NULL;
    Elf64_Sym *syms = NULL;
    char *names = NULL;
    Elf64_Ehdr eh;
    if (fstat(fd, &st) != 0 || pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        eh.e_shentsize != sizeof *sh || eh.e_shnum == 0 || eh.e_shnum >= SHN_LORESERVE)
        goto done;
    uint64_t size = (uint64_t)st.st_size;
    size_t shbytes = (size_t)eh.e_shnum * sizeof *sh;
    if (eh.e_shoff > size || shbytes > size - eh.e_shoff || !(sh = malloc(shbytes)) ||
        pread(fd, sh, shbytes, (off_t)eh.e_shoff) != (ssize_t)shbytes)
        goto done;
    const Elf64_Shdr *tab = NULL;
    for (unsigned i = 0; !tab && i < eh.e_shnum; i++)
        if (sh[i].sh_type == SHT_DYNSYM && sh[i].sh_link < eh.e_shnum &&
            sh[i].sh_entsize == sizeof *syms)
            tab = &sh[i];
    if (!tab)
        goto done;
    const Elf64_Shdr *str = &sh[tab->sh_link];
    if (tab->sh_offset > size || tab->sh_size > size - tab->sh_offset ||
        str->sh_offset > size || str->sh_size > size - str->sh_offset || str->sh_size == 0 ||
        !(syms = malloc(tab->sh_size ? tab->sh_size : 1)) || !(names = malloc(str->sh_size)) ||
        pread(fd, syms, tab->sh_size, (off_t)tab->sh_offset) != (ssize_t)tab->sh_size ||
        pread(fd, names, str->sh_size, (off_t)str->sh_offset) != (ssize_t)str->sh_size)
        goto done;
    names[str->sh_size - 1] = '\0';
    for (size_t i = 0; type < 0 && i < tab->sh_size / sizeof *syms; i++)
        if (syms[i].st_shndx != SHN_UNDEF && syms[i].st_name < str->sh_size &&
            strcmp(names + syms[i].st_name, symbol) == 0)
            type = ELF64_ST_TYPE(syms[i].st_info);
done:
    free(names);
    free(syms);
    free(sh);
    close(fd);
    return type;
}

/* What a symbol of ELF type `type` is, for an error message. */
static const char *type_noun(int type)
{
    switch (type) {
    case STT_OBJECT:
        return "a data object";
    case STT_COMMON:
        return "a common data object";
    case STT_TLS:
        return "a thread-local variable";
    case STT_NOTYPE:
        return "a symbol without a type (an assembler label?)";
    case STT_SECTION:
        return "a section";
    case STT_FILE:
        return "a file name";
    default:
        return "a symbol of an unknown ELF type";
    }
}

plugin_symbol_kind plugin_image_function(plugin_image *img, const char *symbol, void **fn,
                                         char *why, size_t whylen)
{
    void *addr = plugin_image_symbol(img, symbol);
    if (!addr)
        return PLUGIN_SYMBOL_MISSING;
    /* The type first: dlsym gives a thread-local variable's address in
     * this thread's block, which lies in no object at all. */
    int type = dynsym_type(img->copy, symbol);
    if (type >= 0 && type != STT_FUNC && type != STT_GNU_IFUNC) {
        snprintf(why, whylen, "'%s' is %s, not a function", symbol, type_noun(type));
        return PLUGIN_SYMBOL_REFUSED;
    }
    /* Where dlsym found it: through the plugin's handle it also finds what
     * the plugin's own dependencies export. */
    struct link_map *own = NULL, *owner = NULL;
    Dl_info info;
    const Elf64_Sym *sym = NULL;
    if (dlinfo(img->handle, RTLD_DI_LINKMAP, &own) != 0 ||
        !dladdr1(addr, &info, (void **)&owner, RTLD_DL_LINKMAP) || owner != own) {
        const char *file = owner && info.dli_fname && *info.dli_fname ? info.dli_fname : NULL;
        const char *slash = file ? strrchr(file, '/') : NULL;
        snprintf(why, whylen, "'%s' is defined in %s, not in the plugin", symbol,
                 file ? (slash ? slash + 1 : file) : "no loaded object");
        return PLUGIN_SYMBOL_REFUSED;
    }
    /* No section table to read the type from: ask the mapping, which
     * knows the symbol when its address is the symbol's own. */
    if (type < 0 && dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) && sym &&
        info.dli_sname && strcmp(info.dli_sname, symbol) == 0)
        type = ELF64_ST_TYPE(sym->st_info);
    if (type < 0) {
        snprintf(why, whylen, "'%s' is in no symbol table of the plugin that says it is a function",
                 symbol);
        return PLUGIN_SYMBOL_REFUSED;
    }
    if (type != STT_FUNC && type != STT_GNU_IFUNC) {
        snprintf(why, whylen, "'%s' is %s, not a function", symbol, type_noun(type));
        return PLUGIN_SYMBOL_REFUSED;
    }
    *fn = addr;
    return PLUGIN_SYMBOL_FUNCTION;
}

void plugin_image_ref(plugin_image *img) { img->refs++; }

void plugin_image_pin(plugin_image *img) { img->pinned = true; }

const char *plugin_image_version(const plugin_image *img)
{
    return img->desc->version ? img->desc->version : "?";
}

void plugin_image_unref(plugin_image *img)
{
    if (!img || --img->refs > 0 || img->pinned)
        return;
    range_remove(img);
    dlclose(img->handle);
    unlink(img->copy);
    free(img->copy);
    free(img);
}
