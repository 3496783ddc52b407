/* binding.c - placeholder until written. */
int binding_placeholder_(void);
int binding_placeholder_(void) { return 0; }
