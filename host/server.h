/*
 * server.h - the server process: the libwebsockets context on
 * server.host:server.port, the event loop, signals, start-up (plugin load
 * hooks, hooks.init) and a clean shutdown.
 */
#ifndef PIO_SERVER_H
#define PIO_SERVER_H

#include "plugin/binding.h"

#include <stdbool.h>

/* Serve until SIGINT or SIGTERM. Takes the binding over. Returns the
 * process exit code: 0 after a clean shutdown, 1 when start-up failed. */
int server_run(binding *b);

/* For web/metrics.c: the busy time of the loop's turns, and whether a
 * signal asked the server to stop (it is then flushing its sessions). */
const struct histogram *server_turn_time(void);
bool server_stopping(void);

#endif
