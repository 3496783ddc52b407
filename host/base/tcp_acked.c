/*
 * tcp_acked.c - the progress of a response the peer reads: Linux's
 * TCP_INFO tcpi_bytes_acked (RFC 4898's HCThruOctetsAcked, since 4.1).
 *
 * A peer that stops reading lets its receive window fall to zero, and
 * from then on acknowledges nothing new: the count stops.  One that reads
 * slowly moves it at the pace it reads.  That is what http.c needs to
 * bound the time between two steps of a send rather than the whole send
 * (nginx's send_timeout), without counting what libwebsockets still holds.
 *
 * A file of its own because glibc's <netinet/tcp.h> has an older struct
 * tcp_info without the field, and <linux/tcp.h>, which has it, cannot be
 * included beside it (libwebsockets.h brings the glibc one).
 */
#include "tcp_acked.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

bool tcp_bytes_acked(int fd, uint64_t *acked)
{
    struct tcp_info ti;
    memset(&ti, 0, sizeof ti);
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
        return false;
    *acked = ti.tcpi_bytes_acked;
    return true;
}
