/*
 * utf8.h - the host's one UTF-8 validator.  JSON text, Socket.IO
 * namespaces and event names, WebSocket text frames and MessagePack str
 * values all must be UTF-8 as RFC 3629 defines it, so every check in the
 * host is this one.
 */
#ifndef PIO_UTF8_H
#define PIO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes at s (not NULL) are valid UTF-8 (RFC 3629): no
 * overlong form, no UTF-16 surrogate (U+D800..U+DFFF), nothing above
 * U+10FFFF, no sequence cut short by the end.  U+0000 is valid: a caller
 * that keeps the text as a C string refuses NUL itself. */
bool utf8_valid(const char *s, size_t len);
/* The length of the one character at the start of the len bytes at s
 * when it is valid UTF-8 by the same rules; 0 when it is not (or len is
 * 0).  For a writer that replaces what is invalid rather than refusing
 * it (log.c). */
size_t utf8_sequence(const char *s, size_t len);

#endif
