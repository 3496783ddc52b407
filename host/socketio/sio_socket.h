/*
 * sio_socket.h - Socket.IO sockets (the SDK's pio_socket): one client in
 * one namespace.  Emits encode a packet and hand it to the client's
 * Engine.IO connection; acks the server asks for wait here, each with its
 * timeout and its plugin context.
 */
#ifndef PIO_SIO_SOCKET_H
#define PIO_SIO_SOCKET_H

#include "base/value.h"
#include "sio_types.h"

struct sio_nsp;

const char *sio_socket_id(const pio_socket *s);
const char *sio_socket_namespace(const pio_socket *s);
const pio_value *sio_socket_auth(const pio_socket *s);
const pio_value *sio_socket_query(const pio_socket *s);
const char *sio_socket_header(const pio_socket *s, const char *name);
const char *sio_socket_address(const pio_socket *s);
const char *sio_socket_transport(const pio_socket *s);
int sio_socket_emit(pio_socket *s, const char *event, pio_out *out);
/* The same for the host's own messages (the Admin UI's): not counted
 * among the events plugins emit (sio_stats.h). */
int sio_socket_emit_host(pio_socket *s, const char *event, pio_out *out);
int sio_socket_emit_with_ack(pio_socket *s, const char *event, pio_out *out, uint32_t timeout_ms,
                             pio_ack_fn cb, void *userdata);
int sio_socket_disconnect(pio_socket *s, int close);
int sio_socket_join(pio_socket *s, const char *room);
int sio_socket_leave(pio_socket *s, const char *room);
int sio_socket_in_room(const pio_socket *s, const char *room);
const char *sio_socket_room_next(const pio_socket *s, void **cursor);
/* Internal to the Socket.IO layer. */
/* A socket for a CONNECT, not yet accepted (middleware runs on it). */
pio_socket *sio_socket_new(sio_client *c, struct sio_nsp *ns, json_object *auth);
/* Accept it: attached to its client, indexed in its namespace. */
bool sio_socket_accept(sio_client *c, pio_socket *s);
void sio_socket_closed(pio_socket *s, const char *reason);
void sio_socket_unref(pio_socket *s);
void sio_socket_ack_received(pio_socket *s, sio_packet *p);
void sio_socket_add_ack(pio_socket *s, pending_ack *a);
void sio_socket_unlink_ack(pio_socket *s, pending_ack *a);

/* The socket as fetchSockets describes it: {id, handshake: {headers,
 * time, address, xdomain, secure, issued, url, query, auth}, rooms,
 * data}; NULL when out of memory. */
json_object *sio_socket_describe(pio_socket *s);

int sio_socket_data_set(pio_socket *s, const char *key, pio_out *value);
const pio_value *sio_socket_data_get(const pio_socket *s, const char *key);

#endif
