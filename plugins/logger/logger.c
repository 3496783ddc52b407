#include <plugio/plugio.h>
PIO_PLUGIN("logger", "0.1.0");
