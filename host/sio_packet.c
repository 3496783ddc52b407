/* sio_packet.c - placeholder until written. */
#include "sio_packet.h"
int sio_packet_placeholder_(void);
int sio_packet_placeholder_(void) { return 0; }
