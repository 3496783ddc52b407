/*
 * diag.h - diagnostics: the list of problems a configuration check finds.
 * Each is reported as `file:line:column: message` (line and column 1-based),
 * in the order found, so an operator sees every mistake at once.
 */
#ifndef PIO_DIAG_H
#define PIO_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* A place in a file. line 0 means "the file as a whole". */
typedef struct pio_mark {
    unsigned line;
    unsigned column;
} pio_mark;

typedef struct diag_list {
    char **items;     /* each "file:line:column: message", owned */
    size_t count;
    size_t cap;
} diag_list;

#define DIAG_LIST_INIT {NULL, 0, 0}

void diag_add(diag_list *d, const char *file, pio_mark at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_print(const diag_list *d, FILE *out);
void diag_free(diag_list *d);

#endif
