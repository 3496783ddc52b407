/*
 * static_cache.h - compressed bodies of static files, kept between
 * requests (see static_cache.c).
 */
#ifndef PIO_STATIC_CACHE_H
#define PIO_STATIC_CACHE_H

#include "config/config.h"
#include "engineio/zip.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Files larger than this are never compressed: they are sent as they are
 * (identity), whatever Accept-Encoding offers. */
#define STATIC_ZIP_MAX_FILE (4u << 20)
/* The most compressed bytes the cache holds; the least recently used
 * entries go first. */
#define STATIC_CACHE_BUDGET (32u << 20)

/* A compressed body the cache holds: valid until the next call into the
 * cache. */
typedef struct static_blob {
    const char *data;
    size_t len;
} static_blob;

/* The body of the file `st` describes (its fstat) compressed as `f` with
 * `z`'s settings, when the cache has it for that file as it is now (same
 * device and inode, size, modification and change times): true and *out
 * set, counted as a hit.  False on a miss (a stale entry is dropped). */
bool static_cache_get(const struct stat *st, zip_format f, const config_compression *z,
                      static_blob *out);
/* Keeps `data` (malloc'd, `len` bytes: the cache takes it in every case)
 * as that body, evicting the least recently used entries to stay within
 * STATIC_CACHE_BUDGET; *out is the kept copy.  False (data freed) when out
 * of memory or larger than the whole budget. */
bool static_cache_put(const struct stat *st, zip_format f, const config_compression *z,
                      char *data, size_t len, static_blob *out);
/* Drops every entry (at exit, for leak checkers). */
void static_cache_clear(void);

/* For the metrics scrape. */
typedef struct static_cache_stats {
    uint64_t hits;   /* bodies served without compressing */
    uint64_t misses; /* bodies compressed */
    uint64_t bytes;  /* compressed bytes held */
    uint64_t entries;
} static_cache_stats;
static_cache_stats static_cache_read_stats(void);

#endif
