/* log.c - placeholder until written. */
int log_placeholder_(void);
int log_placeholder_(void) { return 0; }
