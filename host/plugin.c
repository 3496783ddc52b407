/* plugin.c - placeholder until written. */
int plugin_placeholder_(void);
int plugin_placeholder_(void) { return 0; }
