/* config.c - placeholder until written. */
#include "config.h"
int config_placeholder_(void);
int config_placeholder_(void) { return 0; }
