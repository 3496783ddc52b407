/*
 * config_yaml.h - the YAML side of reading a configuration file, apart
 * from what the file means: libyaml's document with a position on every
 * node, scalars typed by the YAML 1.2 core schema, and mappings walked
 * against tables of the keys they accept (cy_section), the way nginx
 * describes a module's directives.  config.c holds plugio's schema, as
 * such tables; nothing here knows it.
 *
 * A mistake is recorded with its line and column and the walk goes on, so
 * one run finds every mistake in a file; cy_done hands them over sorted by
 * position.  A value that is wrong is reported and not stored: a setter
 * leaves its member as it was.
 */
#ifndef PIO_CONFIG_YAML_H
#define PIO_CONFIG_YAML_H

#include "base/diag.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

typedef struct cy_problem cy_problem;

/* One document being read, and the mistakes found in it. */
typedef struct cy_reader {
    yaml_document_t doc;  /* once cy_parse succeeded, until cy_done */
    bool parsed;
    void *data;           /* the caller's, for its setters; not used here */
    cy_problem *problems;
    size_t n_problems, cap_problems;
    size_t json_budget;   /* nodes cy_to_json may still build */
    bool json_overflow;   /* the budget ran out (reported once) */
    bool oom;             /* an allocation failed: what was read is incomplete */
} cy_reader;

void cy_init(cy_reader *r, void *data);
/* Parses `text`, which must hold one YAML document; false after reporting
 * why not. */
bool cy_parse(cy_reader *r, const char *text, size_t len);
/* The document's root node; NULL when it is empty. */
yaml_node_t *cy_root(cy_reader *r);
/* How many mistakes have been reported so far. */
size_t cy_problems(const cy_reader *r);
/* Adds the mistakes, in file order, to `diags` as `file:line:column:
 * message`, and frees the document and the reader's memory. */
void cy_done(cy_reader *r, const char *file, diag_list *diags);

/* ---- positions and mistakes ------------------------------------------- */

pio_mark cy_mark(const yaml_node_t *n);
/* Where byte `offset` of a scalar's value is in the file: exact when the
 * scalar is written on one line without escapes, else the scalar's start. */
pio_mark cy_mark_in_scalar(const yaml_node_t *n, size_t offset);

void cy_report_at(cy_reader *r, pio_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define cy_report(r, node, ...) cy_report_at((r), cy_mark(node), __VA_ARGS__)
/* "<what>: expected <type>, got a string ('abc')". */
void cy_expected(cy_reader *r, const char *what, const yaml_node_t *val, const char *type);

/* strdup() that records running out of memory. */
char *cy_strdup(cy_reader *r, const char *s);
/* Replaces the owned string *field (a default, usually) with a copy of s. */
void cy_set_str(cy_reader *r, char **field, const char *s);

/* ---- scalars ------------------------------------------------------------ */

/* A node's type.  Only plain scalars are typed: `"123"` and `'true'` stay
 * strings.  CY_COLLECTION: not a scalar, a mapping or a list. */
typedef enum { CY_NULL, CY_BOOL, CY_INT, CY_FLOAT, CY_STR, CY_COLLECTION } cy_kind;

typedef struct cy_scalar {
    cy_kind kind;
    const char *text; /* NUL-terminated by libyaml; NULL for a collection */
    size_t len;
    bool b;
    bool big;         /* CY_INT beyond int64: only `d` is meaningful */
    int64_t i;
    double d;         /* CY_FLOAT's value; CY_INT's as a double */
} cy_scalar;

cy_scalar cy_resolve(const yaml_node_t *n);

/* Each of these reports, with `what` naming the value, when `val` is not
 * what is asked for. */

/* The text of a string scalar, or NULL. */
const char *cy_string(cy_reader *r, const char *what, const yaml_node_t *val);
bool cy_bool(cy_reader *r, const char *what, const yaml_node_t *val, bool *out);
/* An integer in [min, max].  With `whole_floats`, a float that is a whole
 * number counts too, as for a JavaScript number (1e6 is 1000000). */
bool cy_int(cy_reader *r, const char *what, const yaml_node_t *val, bool whole_floats,
            int64_t min, int64_t max, int64_t *out);
/* Whether `val` is a mapping (a list); if not, reports what it is instead -
 * unless it is null and `null_ok` (`key:` with nothing after it means
 * empty). */
bool cy_want_mapping(cy_reader *r, const char *what, const yaml_node_t *val, bool null_ok);
bool cy_want_list(cy_reader *r, const char *what, const yaml_node_t *val, bool null_ok);

/* A list's length, and its item i. */
size_t cy_len(const yaml_node_t *list);
yaml_node_t *cy_item(cy_reader *r, const yaml_node_t *list, size_t i);

/* A block of YAML as JSON (json-c's NULL for null); false after reporting
 * (`what` names the block).  Nesting and size are bounded per reader, so
 * that an alias "billion laughs" cannot take the process down. */
bool cy_to_json(cy_reader *r, const char *what, yaml_node_t *n, json_object **out);

/* ---- mappings ------------------------------------------------------------ */

/* Called for each pair of a mapping whose key is a scalar seen for the
 * first time there; other keys are reported and skipped. */
typedef void cy_pair_fn(cy_reader *r, yaml_node_t *key, const char *name, yaml_node_t *val,
                        void *ctx);
void cy_each_pair(cy_reader *r, yaml_node_t *map, cy_pair_fn *fn, void *ctx);

typedef struct cy_field cy_field;

/* Reads `val`, the value of key f->key, into `obj`: the struct that the
 * mapping describes.  Setters shared by several keys write the member at
 * f->offset. */
typedef void cy_set_fn(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj);

/* A key a mapping accepts.  Written {"key", .set = fn, ...}: the other
 * members are what fn reads, zero when it reads none. */
struct cy_field {
    const char *key;
    cy_set_fn *set;
    size_t offset;     /* offsetof() the member the setter writes */
    int64_t min, max;  /* an integer's bounds */
    bool literal;      /* an integer written as one: 1e3 is refused */
    const void *arg;   /* whatever else the setter needs (a nested section) */
};

typedef struct cy_section {
    const char *unknown;     /* "unknown <this> 'key'" */
    const cy_field *fields;  /* ends with {0} */
} cy_section;

/* Sets `obj` from `map` by the keys `sec` accepts; any other key is
 * reported with the list of those. */
void cy_walk(cy_reader *r, yaml_node_t *map, const cy_section *sec, void *obj);
/* Whether `map` has `key`: whether cy_walk called its setter. */
bool cy_has_key(cy_reader *r, const yaml_node_t *map, const char *key);
/* The member of `obj` at f->offset. */
void *cy_member(const cy_field *f, void *obj);

/* Setters for plain C members. */
cy_set_fn cy_set_bool;  /* bool */
cy_set_fn cy_set_int;   /* int, within [f->min, f->max] as are the others */
cy_set_fn cy_set_i64;   /* int64_t */
cy_set_fn cy_set_u16;   /* uint16_t */
cy_set_fn cy_set_u32;   /* uint32_t */
cy_set_fn cy_set_u64;   /* uint64_t */
/* Checked, then dropped: values accepted and of no use. */
cy_set_fn cy_check_bool;
cy_set_fn cy_check_int;
/* A nested mapping (null: empty), walked with the section f->arg into the
 * member at f->offset. */
cy_set_fn cy_set_section;

#endif
