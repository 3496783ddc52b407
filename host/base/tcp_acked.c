/*
 * tcp_acked.c - the progress of a response the peer reads: Linux's
 * TCP_INFO tcpi_bytes_acked (RFC 4898's HCThruOctetsAcked, since 4.1);
 * and how much of what the peer sent has been read from the socket:
 * tcpi_bytes_received (HCThruOctetsReceived, 4.1 too) less SIOCINQ.
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
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* The socket's TCP_INFO, when the kernel's has at least `need` bytes of
 * it (the field asked for ends there). */
static bool tcp_info(int fd, struct tcp_info *ti, size_t need)
{
    memset(ti, 0, sizeof *ti);
    socklen_t len = sizeof *ti;
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0 && len >= need;
}

bool tcp_bytes_acked(int fd, uint64_t *acked)
{
    struct tcp_info ti;
    if (!tcp_info(fd, &ti, offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked))
        return false;
    *acked = ti.tcpi_bytes_acked;
    return true;
}

static bool bytes_received(int fd, uint64_t *received)
{
    struct tcp_info ti;
    if (!tcp_info(fd, &ti,
                  offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received))
        return false;
    *received = ti.tcpi_bytes_received;
    return true;
}

bool tcp_bytes_read(int fd, uint64_t *read)
{
    /* Two questions: the count is only right when nothing arrived
     * between them, which the same total before and after shows. */
    for (int i = 0; i < 3; i++) {
        uint64_t before, after;
        int queued;
        if (!bytes_received(fd, &before) || ioctl(fd, SIOCINQ, &queued) != 0 ||
            !bytes_received(fd, &after))
            return false;
        if (before == after && queued >= 0 && (uint64_t)queued <= before) {
            *read = before - (uint64_t)queued;
            return true;
        }
    }
    return false;
}
