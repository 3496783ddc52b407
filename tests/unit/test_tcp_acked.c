/*
 * tcp_acked: what the kernel says of a TCP connection's progress, over a
 * real loopback connection (127.0.0.1, a port the kernel picks): bytes
 * read by the process (http.c tells pipelined input by it) and bytes the
 * peer acknowledged; and false for what is not a TCP socket.
 */
#include <criterion/criterion.h>

#include "base/tcp_acked.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int client_fd = -1, server_fd = -1;

/* A connected pair: client_fd -> server_fd. */
static void connect_pair(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(lfd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(lfd, 1), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    client_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(client_fd, (struct sockaddr *)&a, sizeof a), 0);
    server_fd = accept(lfd, NULL, NULL);
    cr_assert_geq(server_fd, 0);
    close(lfd);
}

static void teardown(void)
{
    if (client_fd >= 0)
        close(client_fd);
    if (server_fd >= 0)
        close(server_fd);
    client_fd = server_fd = -1;
}

TestSuite(tcp_acked, .fini = teardown);

/* Wait (bounded) until fd has `n` bytes to read. */
static void wait_queued(int fd, size_t n)
{
    for (int i = 0; i < 200; i++) {
        char b[64];
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 10);
        if (recv(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT) >= (ssize_t)n)
            return;
    }
    cr_assert_fail("%zu bytes did not arrive", n);
}

Test(tcp_acked, bytes_read_counts_what_the_process_read_not_what_arrived)
{
    connect_pair();
    uint64_t n = 99;
    cr_assert(tcp_bytes_read(server_fd, &n));
    cr_assert_eq(n, 0);
    cr_assert_eq(send(client_fd, "0123456789", 10, 0), 10);
    wait_queued(server_fd, 10);
    cr_assert(tcp_bytes_read(server_fd, &n));
    cr_assert_eq(n, 0, "arrived, not read: %llu", (unsigned long long)n);
    char b[10];
    cr_assert_eq(recv(server_fd, b, 4, 0), 4);
    cr_assert(tcp_bytes_read(server_fd, &n));
    cr_assert_eq(n, 4);
    cr_assert_eq(recv(server_fd, b, 6, 0), 6);
    cr_assert(tcp_bytes_read(server_fd, &n));
    cr_assert_eq(n, 10);
}

Test(tcp_acked, bytes_acked_reaches_what_was_sent)
{
    connect_pair();
    cr_assert_eq(send(server_fd, "hello", 5, 0), 5);
    uint64_t acked = 0;
    for (int i = 0; i < 200 && acked < 5; i++) {
        cr_assert(tcp_bytes_acked(server_fd, &acked));
        usleep(5000);
    }
    cr_assert_eq(acked, 5);
}

Test(tcp_acked, not_a_tcp_socket_says_nothing)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    uint64_t n = 7;
    cr_assert_not(tcp_bytes_read(fds[0], &n));
    cr_assert_not(tcp_bytes_acked(fds[0], &n));
    cr_assert_eq(n, 7, "left alone");
    close(fds[0]);
    close(fds[1]);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_not(tcp_bytes_read(udp, &n));
    close(udp);
}
