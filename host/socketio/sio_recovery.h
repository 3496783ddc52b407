/*
 * sio_recovery.h - connection state recovery in the Socket.IO layer
 * (serverOptions.connectionStateRecovery), as socket.io 4.6+ does it:
 *  - each socket gets a private session id, sent with its CONNECT reply;
 *  - every EVENT sent without ack and not volatile (emits and broadcasts)
 *    carries an offset as its last argument and is logged (csr_store.h);
 *  - a socket that loses its connection for a recoverable reason
 *    ("transport close", "transport error", "ping timeout", "forced
 *    close", ...) is kept as a session; an explicit disconnect by either
 *    side is not;
 *  - a CONNECT whose auth carries {pid, offset} of a kept session gets
 *    the socket back - its id, rooms and data - and the packets it
 *    missed, and the socket reads as recovered.
 * The store lives here, one for the process; the options are read from
 * eio_options() each time, so a configuration reload applies to what
 * happens next.
 */
#ifndef PIO_SIO_RECOVERY_H
#define PIO_SIO_RECOVERY_H

#include "csr_store.h"
#include "sio_encode.h"

/* Recovery is configured on. */
bool sio_recovery_on(void);
/* A recovered socket skips the connection middleware. */
bool sio_recovery_skip_middlewares(void);

/* Encode an EVENT with the next offset, queue it to each connected socket
 * of list, and log it as addressed to rooms (none: the namespace) except
 * `except` and the socket `except_id` (NULL: none).  out is not consumed;
 * *sent counts the sockets it went to. */
int sio_recovery_emit(pio_socket **list, size_t n, const char *nsp, const char *const *rooms,
                      size_t n_rooms, const char *const *except, size_t n_except,
                      const char *except_id, const char *event, const pio_out *out, size_t *sent);

/* For a socket not yet accepted: when its auth names a kept session of
 * its namespace, give it that session's id, rooms and data and return
 * true, with the missed packets in *r (hand r to sio_recovery_replay
 * once accepted, or to csr_restored_free); the packets must exist in
 * the wire format of the client's `parser`.  Otherwise (r empty) give it
 * a fresh private id when recovery is on, and return false. */
bool sio_recovery_restore(pio_socket *s, unsigned parser, csr_restored *r);
/* Queue the missed packets to the accepted socket; frees r. */
void sio_recovery_replay(pio_socket *s, csr_restored *r);
/* A connected socket is closing for `reason`: keep its session when the
 * reason allows it.  Call before it leaves its rooms. */
void sio_recovery_persist(pio_socket *s, const char *reason);

/* The SDK's pio_socket_recovered. */
int sio_socket_recovered(const pio_socket *s);

/* Free the store (shutdown, before the timers are cleared). */
void sio_recovery_shutdown(void);

#endif
