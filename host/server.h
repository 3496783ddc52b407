/*
 * server.h - the server process: the libwebsockets context on
 * server.host:server.port, the event loop, signals, start-up (plugin load
 * hooks, hooks.init) and a clean shutdown.
 */
#ifndef PIO_SERVER_H
#define PIO_SERVER_H

#include "plugin/binding.h"

/* Serve until SIGINT or SIGTERM. Takes the binding over. Returns the
 * process exit code: 0 after a clean shutdown, 1 when start-up failed. */
int server_run(binding *b);

#endif
