/*
 * sio_client.h - the Socket.IO layer of one Engine.IO session: decoding
 * packets, connecting namespaces, dispatching events to the handlers of
 * the current binding, acks in both directions.
 */
#ifndef PIO_SIO_CLIENT_H
#define PIO_SIO_CLIENT_H

#include "engineio/eio_session.h"

/* What the Engine.IO layer calls (eio_set_events): a client per session,
 * fed its messages; when the session closes every socket disconnects with
 * its reason. */
const eio_events *sio_client_events(void);

#endif
