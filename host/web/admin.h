/*
 * admin.h - the Socket.IO Admin UI's server side (see admin.c): what
 * @socket.io/admin-ui's instrument() does in a Node server, built into
 * the host and configured by the `admin:` section.
 */
#ifndef PIO_ADMIN_H
#define PIO_ADMIN_H

#include <stdbool.h>

struct config;

/* Serve the admin namespace when cfg has an `admin:` section (else do
 * nothing): observe the Socket.IO layer, start the server_stats timer.
 * Read once: a reload does not change it.  False when out of memory. */
bool admin_start(const struct config *cfg);
/* Stop observing and free everything (safe when not started). */
void admin_stop(void);

#endif
