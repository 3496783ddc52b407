/*
 * static_cache.c - the compressed bodies of static files and client
 * bundles, kept so that a file is compressed once, not once a request.
 *
 * Compression runs on the loop thread: a 3 MB source map takes ~140 ms at
 * zlib level 6, so without a cache a few requests a second for it (or
 * HEADs, which need the compressed length) would saturate the loop.
 *
 * An entry is keyed by the file's device and inode (a file reached through
 * two names or symlinks shares one), the encoding and the zlib settings
 * (serverOptions.httpCompression may change on reload; the bundles use
 * Node's defaults), and is valid while the file's size, modification time
 * and change time are those of the fstat the request made anyway: an
 * edited, replaced or touched file is compressed anew (its change time
 * moves even when a tool puts back the size and modification time).
 *
 * The numbers: no file over STATIC_ZIP_MAX_FILE (4 MiB) is compressed at
 * all - the first request for it would still stall the loop ~200 ms and
 * the entry would crowd out the rest; the client bundles' largest source
 * map is 300 KB and a web page's own assets are well under it.  The budget
 * (32 MiB of compressed bytes, least recently used out first) holds the
 * eight client bundles in both encodings (~700 KB) and, text compressing
 * four to ten times, 100 MB or more of a site's text files, at a memory
 * cost a server that holds thousands of connections does not notice.
 */
#include "static_cache.h"

#include "base/strmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *prev, *next; /* most recently used first */
    char key[96];              /* strmap's key: lives as long as the entry */
    off_t size;
    struct timespec mtime, ctime;
    char *data; /* owned */
    size_t len;
} entry;

static struct {
    strmap by_key;
    entry *head, *tail;
    static_cache_stats stats;
} cache = {.by_key = STRMAP_INIT};

static void make_key(char *out, size_t size, const struct stat *st, zip_format f,
                     const config_compression *z)
{
    snprintf(out, size, "%ju:%ju:%d:%d:%d:%d", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
             (int)f, z->level, z->mem_level, z->window_bits);
}

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void unlink_entry(entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        cache.head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        cache.tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(entry *e)
{
    e->next = cache.head;
    if (cache.head)
        cache.head->prev = e;
    cache.head = e;
    if (!cache.tail)
        cache.tail = e;
}

static void drop(entry *e)
{
    strmap_del(&cache.by_key, e->key);
    unlink_entry(e);
    cache.stats.bytes -= e->len;
    cache.stats.entries--;
    free(e->data);
    free(e);
}

bool static_cache_get(const struct stat *st, zip_format f, const config_compression *z,
                      static_blob *out)
{
    char key[96];
    make_key(key, sizeof key, st, f, z);
    entry *e = strmap_get(&cache.by_key, key);
    if (e && (e->size != st->st_size || !same_time(e->mtime, st->st_mtim) ||
              !same_time(e->ctime, st->st_ctim))) {
        drop(e);
        e = NULL;
    }
    if (!e) {
        cache.stats.misses++;
        return false;
    }
    unlink_entry(e);
    push_front(e);
    cache.stats.hits++;
    *out = (static_blob){e->data, e->len};
    return true;
}

bool static_cache_put(const struct stat *st, zip_format f, const config_compression *z,
                      char *data, size_t len, static_blob *out)
{
    entry *e = len <= STATIC_CACHE_BUDGET ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        free(data);
        return false;
    }
    make_key(e->key, sizeof e->key, st, f, z);
    entry *old = strmap_get(&cache.by_key, e->key);
    if (old)
        drop(old);
    while (cache.tail && cache.stats.bytes + len > STATIC_CACHE_BUDGET)
        drop(cache.tail);
    if (!strmap_put(&cache.by_key, e->key, e)) {
        free(e);
        free(data);
        return false;
    }
    e->size = st->st_size;
    e->mtime = st->st_mtim;
    e->ctime = st->st_ctim;
    e->data = data;
    e->len = len;
    push_front(e);
    cache.stats.bytes += len;
    cache.stats.entries++;
    *out = (static_blob){data, len};
    return true;
}

void static_cache_clear(void)
{
    while (cache.head)
        drop(cache.head);
    strmap_free(&cache.by_key);
}

static_cache_stats static_cache_read_stats(void) { return cache.stats; }
