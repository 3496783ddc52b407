/*
 * handoff.h - plugin versions taking over from each other.  When a
 * binding starts serving, each of its new plugin versions takes the state
 * of the version it replaces (that one's unload hook, then its own load
 * hook); when a binding stops serving, its versions that no successor
 * shares are retired: their timers and watches are cancelled, and what
 * they still have pending (an ack, a work item) may finish.
 */
#ifndef PIO_HANDOFF_H
#define PIO_HANDOFF_H

#include "binding.h"

#include <stdbool.h>
#include <stddef.h>

/* Make b's new plugin versions ready to serve: each takes the state of
 * the version it replaces in prev (unload, then load), or starts fresh.
 * All or nothing: when a load hook refuses, every hand-off done is undone
 * and err says why. */
bool binding_activate(binding *b, const binding *prev, char *err, size_t errlen);
/* Unload (final) the plugins of old that next no longer has, then destroy
 * old. next may be NULL (the host is stopping). */
void binding_retire(binding *old, const binding *next);
/* Destroy a binding that never served (its activation failed), releasing
 * what its new versions may have started in their load hooks. */
void binding_discard(binding *b, const binding *prev);

#endif
