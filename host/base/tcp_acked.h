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

/* The bytes received on socket `fd` that the process has read from it so
 * far (tcpi_bytes_received less what waits in the receive queue), in
 * *read.  False when the kernel does not say, or the count kept moving
 * (data arriving between the two questions) three times in a row. */
bool tcp_bytes_read(int fd, uint64_t *read);

#endif
