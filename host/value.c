/* value.c - placeholder until written. */
int value_placeholder_(void);
int value_placeholder_(void) { return 0; }
