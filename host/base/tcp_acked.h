/*
 * tcp_acked.h - how far the peer of a TCP socket has read (see tcp_acked.c).
 */
#ifndef PIO_TCP_ACKED_H
#define PIO_TCP_ACKED_H

#include <stdbool.h>
#include <stdint.h>

/* The bytes sent on socket `fd` that its peer acknowledged so far (they
 * reached its receive buffer), in *acked.  False when the kernel does not
 * say (not a TCP socket, or a kernel before 4.1). */
bool tcp_bytes_acked(int fd, uint64_t *acked);

#endif
