/*
 * sio_observe.c - the Socket.IO layer's one observer (see sio_observe.h).
 */
#include "sio_observe.h"

const sio_observer *sio_observer_now;

void sio_observe(const sio_observer *o) { sio_observer_now = o; }
