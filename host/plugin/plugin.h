/*
 * plugin.h - loading one version of a plugin: a private copy of its file,
 * mapped with dlopen, its descriptor checked against the host's ABI.
 *
 * The host never maps the file a build writes to.  Each load copies the
 * file into a runtime directory the host owns and maps the copy, so a
 * linker or `cp` rewriting the original cannot change code that runs.  The
 * copy is removed when the image is closed: keeping it until then also
 * keeps its inode in use, so a later copy can never share an inode with a
 * mapped one (glibc's dlopen would return the old mapping for it).
 */
#ifndef PIO_PLUGIN_H
#define PIO_PLUGIN_H

#include <plugio/plugio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct plugin_image {
    char *copy;                  /* owned; the private copy that is mapped */
    void *handle;                /* dlopen handle */
    const pio_plugin_desc *desc; /* the plugin's descriptor, inside the mapping */
    unsigned refs;               /* holders: the binding, pending registrations */
    bool pinned;                 /* faulted: stays mapped for good (plugin_image_pin) */
} plugin_image;

/* Remove the runtime directory and anything left in it. */
void plugin_rundir_cleanup(void);

/* Load a plugin version from `path`. On failure returns NULL with a
 * message in err: an unreadable file, dlopen's error, no descriptor, or
 * an ABI mismatch naming both versions. The image starts with refs 1. */
plugin_image *plugin_image_load(const char *path, char *err, size_t errlen);
/* Check a descriptor against a host of ABI PIO_ABI_MAJOR.host_minor (the
 * loader passes PIO_ABI_MINOR): its size and table slot, the same major,
 * and a required minor (abi_minor) not newer than host_minor.  On failure
 * returns false with a message naming `path`, the plugin and both versions. */
bool plugin_desc_check(const pio_plugin_desc *d, unsigned host_minor, const char *path,
                       char *err, size_t errlen);
/* The address of an exported symbol, or NULL: no check of what it is. */
void *plugin_image_symbol(plugin_image *img, const char *symbol);

typedef enum plugin_symbol_kind {
    PLUGIN_SYMBOL_FUNCTION, /* a function (STT_FUNC or STT_GNU_IFUNC) of img's own image */
    PLUGIN_SYMBOL_MISSING,  /* neither img nor anything it links exports it */
    PLUGIN_SYMBOL_REFUSED,  /* it exists, but is data, or another object's: see why */
} plugin_symbol_kind;

/* What `symbol` is in img, for a handler reference: only a function that
 * the plugin's own mapping defines may be called as one.  A symbol of a
 * library the plugin links (dlsym finds libc's `puts` through the plugin's
 * handle) or a data object (the descriptor `pio_plugin`) would be called
 * into garbage.  On PLUGIN_SYMBOL_FUNCTION *fn is its address; on
 * PLUGIN_SYMBOL_REFUSED why says what the symbol is instead ("'puts' is
 * defined in libc.so.6, not in the plugin"). */
plugin_symbol_kind plugin_image_function(plugin_image *img, const char *symbol, void **fn,
                                         char *why, size_t whylen);
/* The version its descriptor names, or "?" (for log lines). */
const char *plugin_image_version(const plugin_image *img);
void plugin_image_ref(plugin_image *img);
/* Drop a reference; the last one unmaps the image and deletes its copy. */
void plugin_image_unref(plugin_image *img);
/* Never unmap img: its code faulted, and what it left running (a thread
 * it started, a callback it gave a library) may still point into it. */
void plugin_image_pin(plugin_image *img);

/* Whether addr lies in the mapping of a loaded (or pinned) plugin image;
 * the loaded file's path in *copy when it does.  Async-signal-safe: the
 * fault guard asks from its signal handler. */
bool plugin_address_owned(uintptr_t addr, const char **copy);

/* The host's function table, filled into each plugin at load. */
extern const pio_api host_api;

#endif
