/*
 * adapter.h - adapters a plugin installs (the SDK's pio_adapter_install),
 * and operations that span every server they join (cluster_op).
 *
 * The in-memory adapter (rooms.c, broadcast.c) always delivers to this
 * server's sockets; an installed adapter is told afterwards, so the
 * servers it joins do the same.  With no adapter installed nothing here
 * runs: callers test adapter_installed() first, one load and a branch.
 *
 * A cluster operation gathers answers from this server (its "local part")
 * and from the adapter (its "remote part", through a request handle the
 * adapter answers with pio_adapter_answer/expect/done), and calls its
 * plugin once, when both parts are over or its time runs out.
 */
#ifndef PIO_ADAPTER_H
#define PIO_ADAPTER_H

#include <plugio/plugio.h>

#include "base/out.h"

#include <json-c/json.h>
#include <stdbool.h>

/* The SDK entries. */
int adapter_install(pio_ctx *ctx, const char *nsp, const pio_adapter_ops *ops, void *state);
int adapter_answer(uint64_t request, pio_out *answers);
int adapter_expect(uint64_t request, uint32_t clients);
int adapter_done(uint64_t request, int status);

/* Start and stop being told of child namespaces and unloaded versions. */
void adapter_init(void);
void adapter_shutdown(void);
/* A binding came into force: tell the adapters of the namespaces it
 * names that they exist. */
void adapter_binding_changed(void);

extern size_t adapter_n_installed;
static inline bool adapter_installed(void) { return adapter_n_installed != 0; }

/* Tell the adapter of sel's namespace (sel as broadcast.c normalised it:
 * full size, no LOCAL flag) what was done here. */
void adapter_broadcast(const pio_select *sel, const char *event, const pio_out *out);
typedef enum { ADAPTER_JOIN, ADAPTER_LEAVE, ADAPTER_DISCONNECT } adapter_op;
void adapter_select_op(const pio_select *sel, adapter_op op, const char *room, int close);
/* serverSideEmit with nothing awaited (nothing happens with no adapter). */
void adapter_server_emit(const char *nsp, const char *event, const pio_out *out);

/* ---- operations across servers ------------------------------------------ */

typedef enum {
    CLUSTER_ACKS,     /* every client's ack of a broadcast */
    CLUSTER_SOCKETS,  /* fetchSockets */
    CLUSTER_ROOMS,    /* allRooms: each name once */
    CLUSTER_REPLIES,  /* serverSideEmitWithAck: each server's reply */
} cluster_kind;

typedef struct cluster_op cluster_op;

/* A new operation for the plugin version ctx: `cb` gets every answer at
 * the end, or (CLUSTER_ACKS only) `each` gets each as it comes and a last
 * call with the status.  NULL when out of memory. */
cluster_op *cluster_op_new(pio_ctx *ctx, cluster_kind kind, uint32_t timeout_ms,
                           pio_broadcast_ack_fn cb, pio_answer_fn each, void *userdata);
/* The local part: an answer (taken over), and its end. */
void cluster_op_add(cluster_op *op, json_object *answer);
void cluster_op_local_end(cluster_op *op, int status);
/* Give up an operation before its local part began: no call is made. */
void cluster_op_drop(cluster_op *op);
/* The remote part: ask the adapter of `sel`'s namespace (for
 * CLUSTER_ROOMS and CLUSTER_REPLIES only nsp and flags count), with the
 * event and arguments for CLUSTER_ACKS and CLUSTER_REPLIES.  With no
 * adapter there, or PIO_SELECT_LOCAL, the remote part ends at once.
 * After this call op may be gone (it completed). */
void cluster_op_ask(cluster_op *op, const pio_select *sel, const char *event, const pio_out *out);

#endif
