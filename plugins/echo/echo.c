#include <plugio/plugio.h>
PIO_PLUGIN("echo", "0.1.0");
