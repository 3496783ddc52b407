/*
 * broadcast.h - emits and operations on selections of sockets (the SDK's
 * pio_broadcast, pio_broadcast_with_ack, pio_raw and pio_select_*).
 */
#ifndef PIO_BROADCAST_H
#define PIO_BROADCAST_H

#include <plugio/plugio.h>

#include <json-c/json.h>
#include <stddef.h>

/* The sockets sel addresses, each referenced: release with
 * broadcast_release. */
int broadcast_select(const pio_select *sel, pio_socket ***out, size_t *count);
void broadcast_release(pio_socket **list, size_t n);

int broadcast_emit(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out);
/* The same for the host's own messages (the Admin UI's notifications and
 * actions): not counted among the events plugins emit (sio_stats.h). */
int broadcast_emit_host(const pio_select *sel, const char *event, pio_out *out);
int broadcast_emit_with_ack(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out,
                            uint32_t timeout_ms, pio_broadcast_ack_fn cb, void *userdata);
int broadcast_raw(pio_ctx *ctx, const char *event, const char *const *rooms, size_t n_rooms,
                  pio_out *data);

int broadcast_sockets(pio_ctx *ctx, const pio_select *sel, pio_socket_fn fn, void *userdata);
int broadcast_rooms(pio_ctx *ctx, const char *nsp, pio_room_fn fn, void *userdata);
int broadcast_join(pio_ctx *ctx, const pio_select *sel, const char *room);
int broadcast_leave(pio_ctx *ctx, const pio_select *sel, const char *room);
int broadcast_disconnect(pio_ctx *ctx, const pio_select *sel, int close);
pio_socket *broadcast_find(pio_ctx *ctx, const char *nsp, const char *id);

/* Across every server an adapter joins (adapter.h). */
int broadcast_ack_each(pio_ctx *ctx, const pio_select *sel, const char *event, pio_out *out,
                       uint32_t timeout_ms, pio_answer_fn each, void *userdata);
int broadcast_fetch(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                    pio_broadcast_ack_fn cb, void *userdata);
int broadcast_all_rooms(pio_ctx *ctx, const pio_select *sel, uint32_t timeout_ms,
                        pio_broadcast_ack_fn cb, void *userdata);
int broadcast_server_emit(pio_ctx *ctx, const char *nsp, const char *event, pio_out *out,
                          uint32_t timeout_ms, pio_broadcast_ack_fn cb, void *userdata);

#endif
