/* diag.c - the diagnostics list (see diag.h). */
#include "diag.h"

#include "array.h"
#include "buf.h"

#include <stdarg.h>
#include <stdlib.h>

void diag_add(diag_list *d, const char *file, pio_mark at, const char *fmt, ...)
{
    buf b = BUF_INIT;
    if (at.line)
        buf_printf(&b, "%s:%u:%u: ", file, at.line, at.column);
    else
        buf_printf(&b, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_append_str(&b, msg);
    if (b.failed)
        goto fail;
    if (!ARRAY_RESERVE(d->items, d->count + 1, d->cap, 8))
        goto fail;
    d->items[d->count++] = buf_steal(&b, NULL);
    return;
fail:
    buf_free(&b);
}

void diag_print(const diag_list *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(out, "%s\n", d->items[i]);
}

void diag_free(diag_list *d)
{
    for (size_t i = 0; i < d->count; i++)
        free(d->items[i]);
    free(d->items);
    *d = (diag_list)DIAG_LIST_INIT;
}
