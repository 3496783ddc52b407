/*
 * nsp_pattern.h - the pattern of a dynamic namespace (socket.io's
 * `io.of(/regex/)`): a regular expression compiled once per configuration
 * load and matched against the namespace name a client asks for.
 *
 * PCRE2 rather than POSIX regex: its syntax is the closest to JavaScript's
 * RegExp, which is what socket.io users write (\d, (?:...), lookarounds,
 * lazy quantifiers).  As with RegExp.test, a match may be anywhere in the
 * name: anchor with ^ and $.  The name comes from a client, so each match
 * runs under a match limit and a depth limit; a pattern that would
 * backtrack beyond them does not match (and says so in the log, once per
 * pattern) rather than stall the event loop.
 *
 * A pattern is owned by the configuration that compiled it; matching uses
 * scratch memory inside it, so it is for the event loop's thread only.
 */
#ifndef PIO_NSP_PATTERN_H
#define PIO_NSP_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nsp_pattern nsp_pattern;

/* Compile `source`.  NULL on failure, with PCRE2's message in err and the
 * character offset in source where it found the problem in *offset. */
nsp_pattern *nsp_pattern_compile(const char *source, char *err, size_t errlen, size_t *offset);
/* Whether `name` (NUL-terminated) matches; false too when the match gave
 * up at the limits, or on invalid UTF-8. */
bool nsp_pattern_match(nsp_pattern *p, const char *name);
void nsp_pattern_free(nsp_pattern *p);

#endif
