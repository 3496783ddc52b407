/* eio_packet.c - placeholder until written. */
#include "eio_packet.h"
int eio_packet_placeholder_(void);
int eio_packet_placeholder_(void) { return 0; }
