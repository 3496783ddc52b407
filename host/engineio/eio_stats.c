/*
 * eio_stats.c - the one instance of the Engine.IO layer's counters (see
 * eio_stats.h).
 */
#include "eio_stats.h"

eio_stats eio_counters;
