/*
 * config_yaml.c - reading a YAML configuration file: libyaml's document
 * API builds the node graph, with a mark on every node, and cy_walk goes
 * through a mapping once, calling the setter its table gives for each key
 * (config_yaml.h).  "Unknown key" and "duplicate key" are thus checked in
 * one place and every setter only checks its value.
 *
 * Mistakes are collected, not printed: a caller may check its own rules
 * once the whole file is read (config.c checks handler references against
 * `plugins:`, which may come after them), so they are sorted by position
 * before they reach its diag_list and the operator reads them in file order.
 *
 * Scalars follow the YAML 1.2 core schema: a plain `true`, `~`, `42` or
 * `1.5` is typed, anything quoted is a string.  libyaml leaves resolution to
 * the application, so cy_resolve() does it.  Explicit tags are not
 * interpreted.
 */
#include "config_yaml.h"

#include "base/array.h"

#include "base/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Doubles hold every integer up to 2^53 exactly; beyond, 1e20 is a guess. */
#define MAX_EXACT_DOUBLE 9007199254740992.0

/* A block converted to JSON is converted recursively; an anchor used inside
 * itself or an alias "billion laughs" must not take the process down. */
#define MAX_JSON_DEPTH 64
#define MAX_JSON_NODES 100000

struct cy_problem {
    pio_mark at;
    size_t seq; /* order found, so sorting is stable */
    char *msg;  /* owned */
};

void cy_init(cy_reader *r, void *data)
{
    *r = (cy_reader){.data = data, .json_budget = MAX_JSON_NODES};
}

/* ---- mistakes ------------------------------------------------------------ */

pio_mark cy_mark(const yaml_node_t *n)
{
    return (pio_mark){(unsigned)n->start_mark.line + 1, (unsigned)n->start_mark.column + 1};
}

pio_mark cy_mark_in_scalar(const yaml_node_t *n, size_t offset)
{
    pio_mark at = cy_mark(n);
    size_t span = n->end_mark.index - n->start_mark.index, len = n->data.scalar.length;
    bool quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                  n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (n->start_mark.line != n->end_mark.line || span != len + (quoted ? 2 : 0))
        return at;
    at.column += quoted;
    for (size_t i = 0; i < offset && i < len; i++) /* libyaml counts characters */
        at.column += (n->data.scalar.value[i] & 0xC0) != 0x80;
    return at;
}

void cy_report_at(cy_reader *r, pio_mark at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ARRAY_RESERVE(r->problems, r->n_problems + 1, r->cap_problems, 8)) {
        r->oom = true;
        return;
    }
    char *copy = strdup(msg);
    if (!copy) {
        r->oom = true;
        return;
    }
    r->problems[r->n_problems] = (cy_problem){at, r->n_problems, copy};
    r->n_problems++;
}

size_t cy_problems(const cy_reader *r)
{
    return r->n_problems;
}

static int problem_cmp(const void *a, const void *b)
{
    const cy_problem *x = a, *y = b;
    if (x->at.line != y->at.line)
        return x->at.line < y->at.line ? -1 : 1;
    if (x->at.column != y->at.column)
        return x->at.column < y->at.column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cy_done(cy_reader *r, const char *file, diag_list *diags)
{
    if (r->parsed)
        yaml_document_delete(&r->doc);
    r->parsed = false;
    if (r->n_problems)
        qsort(r->problems, r->n_problems, sizeof *r->problems, problem_cmp);
    for (size_t i = 0; i < r->n_problems; i++) {
        diag_add(diags, file, r->problems[i].at, "%s", r->problems[i].msg);
        free(r->problems[i].msg);
    }
    free(r->problems);
    r->problems = NULL;
    r->n_problems = r->cap_problems = 0;
}

char *cy_strdup(cy_reader *r, const char *s)
{
    char *d = strdup(s);
    if (!d)
        r->oom = true;
    return d;
}

void cy_set_str(cy_reader *r, char **field, const char *s)
{
    char *d = cy_strdup(r, s);
    if (!d)
        return;
    free(*field);
    *field = d;
}

/* ---- the document -------------------------------------------------------- */

/* libyaml's reader errors carry a byte offset, not a mark. */
static pio_mark mark_at_offset(const char *text, size_t len, size_t offset)
{
    pio_mark m = {1, 1};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n')
            m.line++, m.column = 1;
        else if (((unsigned char)text[i] & 0xC0) != 0x80)
            m.column++;
    }
    return m;
}

static void report_parse_error(cy_reader *r, const yaml_parser_t *parser, const char *text,
                               size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        r->oom = true;
        return;
    }
    const char *what = parser->problem ? parser->problem : "unknown error";
    if (parser->error == YAML_READER_ERROR) {
        cy_report_at(r, mark_at_offset(text, len, parser->problem_offset), "invalid YAML: %s",
                     what);
        return;
    }
    pio_mark at = {(unsigned)parser->problem_mark.line + 1,
                   (unsigned)parser->problem_mark.column + 1};
    if (parser->context)
        cy_report_at(r, at, "invalid YAML: %s (%s at line %zu)", what, parser->context,
                     parser->context_mark.line + 1);
    else
        cy_report_at(r, at, "invalid YAML: %s", what);
}

bool cy_parse(cy_reader *r, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        r->oom = true;
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &r->doc)) {
        report_parse_error(r, &parser, text, len);
        yaml_parser_delete(&parser);
        return false;
    }
    /* A second document would be silently ignored; say so instead. */
    yaml_document_t next;
    bool ok = true;
    if (!yaml_parser_load(&parser, &next)) {
        report_parse_error(r, &parser, text, len);
        ok = false;
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&next);
        if (root) {
            cy_report(r, root, "only one YAML document is allowed");
            ok = false;
        }
        yaml_document_delete(&next);
    }
    yaml_parser_delete(&parser);
    if (!ok)
        yaml_document_delete(&r->doc);
    r->parsed = ok;
    return ok;
}

yaml_node_t *cy_root(cy_reader *r)
{
    return yaml_document_get_root_node(&r->doc);
}

static yaml_node_t *node_at(cy_reader *r, yaml_node_item_t i)
{
    return yaml_document_get_node(&r->doc, i);
}

/* ---- scalars: the YAML 1.2 core schema -------------------------------- */

static bool word_in(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ */
static bool resolve_int(cy_scalar *sc)
{
    const char *p = sc->text;
    int base = 10;
    bool neg = false;
    if (p[0] == '0' && p[1] == 'o')
        base = 8, p += 2;
    else if (p[0] == '0' && p[1] == 'x')
        base = 16, p += 2;
    else if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    uint64_t u = 0;
    double d = 0;
    bool wrapped = false;
    for (; *p; p++) {
        int v = digit_value(*p);
        if (v >= base)
            return false;
        if (u > (UINT64_MAX - (uint64_t)v) / (uint64_t)base)
            wrapped = true;
        u = u * (uint64_t)base + (uint64_t)v;
        d = d * base + v;
    }
    sc->kind = CY_INT;
    sc->d = neg ? -d : d;
    if (wrapped || u > (uint64_t)INT64_MAX + neg)
        sc->big = true;
    else
        sc->i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, .inf, .nan */
static bool resolve_float(cy_scalar *sc)
{
    static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    const char *p = sc->text;
    bool neg = false;
    if (word_in(p, nans)) {
        sc->kind = CY_FLOAT;
        sc->d = NAN;
        return true;
    }
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (word_in(p, infs)) {
        sc->kind = CY_FLOAT;
        sc->d = neg ? -INFINITY : INFINITY;
        return true;
    }
    size_t whole = strspn(p, "0123456789"), frac = 0;
    p += whole;
    if (*p == '.') {
        frac = strspn(++p, "0123456789");
        p += frac;
    }
    if (whole == 0 && frac == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t exp = strspn(p, "0123456789");
        if (exp == 0)
            return false;
        p += exp;
    }
    if (*p)
        return false;
    sc->kind = CY_FLOAT;
    sc->d = strtod(sc->text, NULL);
    return true;
}

cy_scalar cy_resolve(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (n->type != YAML_SCALAR_NODE)
        return (cy_scalar){.kind = CY_COLLECTION};
    cy_scalar sc = {.kind = CY_STR,
                    .text = (const char *)n->data.scalar.value,
                    .len = n->data.scalar.length};
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return sc;
    if (word_in(sc.text, nulls))
        sc.kind = CY_NULL;
    else if (word_in(sc.text, trues))
        sc.kind = CY_BOOL, sc.b = true;
    else if (word_in(sc.text, falses))
        sc.kind = CY_BOOL, sc.b = false;
    else if (!resolve_int(&sc))
        resolve_float(&sc);
    return sc;
}

/* "a string ('abc')", for "expected X, got Y". */
static const char *describe(const yaml_node_t *n, char *out, size_t size)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    static const char *const kinds[] = {
        [CY_NULL] = "null", [CY_BOOL] = "a boolean", [CY_INT] = "an integer",
        [CY_FLOAT] = "a number", [CY_STR] = "a string"};
    cy_scalar sc = cy_resolve(n);
    if (sc.kind == CY_NULL)
        return "null";
    snprintf(out, size, "%s ('%.40s%s')", kinds[sc.kind], sc.text, sc.len > 40 ? "..." : "");
    return out;
}

void cy_expected(cy_reader *r, const char *what, const yaml_node_t *val, const char *type)
{
    char tmp[80];
    cy_report(r, val, "%s: expected %s, got %s", what, type, describe(val, tmp, sizeof tmp));
}

const char *cy_string(cy_reader *r, const char *what, const yaml_node_t *val)
{
    if (cy_resolve(val).kind != CY_STR) {
        cy_expected(r, what, val, "a string");
        return NULL;
    }
    const char *s = (const char *)val->data.scalar.value;
    if (strlen(s) != val->data.scalar.length) {
        cy_report(r, val, "%s: the string contains a NUL character", what);
        return NULL;
    }
    return s;
}

bool cy_bool(cy_reader *r, const char *what, const yaml_node_t *val, bool *out)
{
    cy_scalar sc = cy_resolve(val);
    if (sc.kind != CY_BOOL) {
        cy_expected(r, what, val, "true or false");
        return false;
    }
    *out = sc.b;
    return true;
}

bool cy_int(cy_reader *r, const char *what, const yaml_node_t *val, bool whole_floats,
            int64_t min, int64_t max, int64_t *out)
{
    cy_scalar sc = cy_resolve(val);
    if (whole_floats && sc.kind == CY_FLOAT && fabs(sc.d) <= MAX_EXACT_DOUBLE &&
        (double)(int64_t)sc.d == sc.d) {
        sc.kind = CY_INT;
        sc.i = (int64_t)sc.d;
    } else if (whole_floats && sc.kind == CY_FLOAT && isfinite(sc.d) &&
               fabs(sc.d) > MAX_EXACT_DOUBLE) {
        sc.kind = CY_INT; /* beyond 2^53 every double is whole: out of range */
        sc.big = true;
    }
    if (sc.kind != CY_INT) {
        cy_expected(r, what, val, "an integer");
        return false;
    }
    if (sc.big || sc.i < min || sc.i > max) {
        cy_report(r, val, "%s: %s is out of range (%lld to %lld)", what, sc.text, (long long)min,
                  (long long)max);
        return false;
    }
    *out = sc.i;
    return true;
}

bool cy_want_mapping(cy_reader *r, const char *what, const yaml_node_t *val, bool null_ok)
{
    if (val->type == YAML_MAPPING_NODE)
        return true;
    if (!(null_ok && cy_resolve(val).kind == CY_NULL))
        cy_expected(r, what, val, "a mapping");
    return false;
}

bool cy_want_list(cy_reader *r, const char *what, const yaml_node_t *val, bool null_ok)
{
    if (val->type == YAML_SEQUENCE_NODE)
        return true;
    if (!(null_ok && cy_resolve(val).kind == CY_NULL))
        cy_expected(r, what, val, "a list");
    return false;
}

size_t cy_len(const yaml_node_t *list)
{
    return (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
}

yaml_node_t *cy_item(cy_reader *r, const yaml_node_t *list, size_t i)
{
    return node_at(r, list->data.sequence.items.start[i]);
}

/* ---- mappings ------------------------------------------------------------ */

/* Earlier pair with the same scalar key, or NULL. */
static yaml_node_t *earlier_key(cy_reader *r, const yaml_node_t *map, const yaml_node_pair_t *upto,
                                const yaml_node_t *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
        yaml_node_t *k = node_at(r, p->key);
        if (k->type == YAML_SCALAR_NODE && k->data.scalar.length == key->data.scalar.length &&
            memcmp(k->data.scalar.value, key->data.scalar.value, k->data.scalar.length) == 0)
            return k;
    }
    return NULL;
}

void cy_each_pair(cy_reader *r, yaml_node_t *map, cy_pair_fn *fn, void *ctx)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = node_at(r, p->key), *val = node_at(r, p->value);
        if (key->type != YAML_SCALAR_NODE) {
            cy_report(r, key, "a key must be a scalar, not %s",
                      key->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
            continue;
        }
        const char *name = (const char *)key->data.scalar.value;
        yaml_node_t *first = earlier_key(r, map, p, key);
        if (first) {
            cy_report(r, key, "duplicate key '%s' (first at line %u)", name, cy_mark(first).line);
            continue;
        }
        fn(r, key, name, val, ctx);
    }
}

typedef struct section_walk {
    const cy_section *sec;
    void *obj;
} section_walk;

static const cy_field *find_field(const cy_section *sec, const char *name)
{
    for (const cy_field *f = sec->fields; f->key; f++)
        if (strcmp(f->key, name) == 0)
            return f;
    return NULL;
}

static void dispatch_pair(cy_reader *r, yaml_node_t *key, const char *name, yaml_node_t *val,
                          void *ctx)
{
    const section_walk *w = ctx;
    const cy_field *f = find_field(w->sec, name);
    if (f) {
        f->set(r, f, val, w->obj);
        return;
    }
    buf b = BUF_INIT;
    for (f = w->sec->fields; f->key; f++)
        buf_printf(&b, "%s%s", f == w->sec->fields ? "" : ", ", f->key);
    if (b.failed)
        r->oom = true;
    cy_report(r, key, "unknown %s '%s' (expected one of: %s)", w->sec->unknown, name,
              b.data ? b.data : "");
    buf_free(&b);
}

void cy_walk(cy_reader *r, yaml_node_t *map, const cy_section *sec, void *obj)
{
    section_walk w = {sec, obj};
    cy_each_pair(r, map, dispatch_pair, &w);
}

bool cy_has_key(cy_reader *r, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(r, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return true;
    }
    return false;
}

void *cy_member(const cy_field *f, void *obj)
{
    return (char *)obj + f->offset;
}

/* ---- setters for plain C members ----------------------------------------- */

static bool field_int(cy_reader *r, const cy_field *f, yaml_node_t *val, int64_t *out)
{
    return cy_int(r, f->key, val, !f->literal, f->min, f->max, out);
}

void cy_set_bool(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    cy_bool(r, f->key, val, cy_member(f, obj));
}

void cy_set_int(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(r, f, val, &v))
        *(int *)cy_member(f, obj) = (int)v;
}

void cy_set_i64(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    field_int(r, f, val, cy_member(f, obj));
}

void cy_set_u16(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(r, f, val, &v))
        *(uint16_t *)cy_member(f, obj) = (uint16_t)v;
}

void cy_set_u32(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(r, f, val, &v))
        *(uint32_t *)cy_member(f, obj) = (uint32_t)v;
}

void cy_set_u64(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(r, f, val, &v))
        *(uint64_t *)cy_member(f, obj) = (uint64_t)v;
}

void cy_check_bool(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    bool ignored;
    cy_bool(r, f->key, val, &ignored);
}

void cy_check_int(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    int64_t ignored;
    field_int(r, f, val, &ignored);
}

void cy_set_section(cy_reader *r, const cy_field *f, yaml_node_t *val, void *obj)
{
    if (cy_want_mapping(r, f->key, val, true))
        cy_walk(r, val, f->arg, cy_member(f, obj));
}

/* ---- YAML as JSON -------------------------------------------------------- */

static bool to_json(cy_reader *r, const char *what, yaml_node_t *n, unsigned depth,
                    json_object **out);

static bool scalar_to_json(cy_reader *r, yaml_node_t *n, json_object **out)
{
    cy_scalar sc = cy_resolve(n);
    switch (sc.kind) {
    case CY_NULL:
        *out = NULL; /* json-c's null */
        return true;
    case CY_BOOL:
        *out = json_object_new_boolean(sc.b);
        break;
    case CY_INT:
        /* Beyond int64 it is what JavaScript would make of it: a double. */
        *out = sc.big ? json_object_new_double(sc.d) : json_object_new_int64(sc.i);
        break;
    case CY_FLOAT:
        if (!isfinite(sc.d)) {
            cy_report(r, n, "'%s' cannot be represented in JSON", sc.text);
            return false;
        }
        *out = json_object_new_double(sc.d);
        break;
    case CY_STR:
        *out = json_object_new_string_len(sc.text, (int)sc.len);
        break;
    case CY_COLLECTION: /* not here: to_json() passes scalars only */
        return false;
    }
    if (!*out)
        r->oom = true;
    return *out != NULL;
}

static bool mapping_to_json(cy_reader *r, const char *what, yaml_node_t *n, unsigned depth,
                            json_object *obj)
{
    bool ok = true;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(r, p->key);
        if (key->type != YAML_SCALAR_NODE) {
            cy_report(r, key, "a key must be a scalar");
            ok = false;
            continue;
        }
        yaml_node_t *first = earlier_key(r, n, p, key);
        if (first) {
            cy_report(r, key, "duplicate key '%s' (first at line %u)",
                      (const char *)key->data.scalar.value, cy_mark(first).line);
            ok = false;
            continue;
        }
        json_object *child;
        if (!to_json(r, what, node_at(r, p->value), depth + 1, &child)) {
            ok = false;
            continue;
        }
        if (json_object_object_add(obj, (const char *)key->data.scalar.value, child) < 0) {
            json_object_put(child);
            r->oom = true;
            ok = false;
        }
    }
    return ok;
}

static bool list_to_json(cy_reader *r, const char *what, yaml_node_t *n, unsigned depth,
                         json_object *arr)
{
    bool ok = true;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        json_object *child;
        if (!to_json(r, what, node_at(r, *i), depth + 1, &child)) {
            ok = false;
            continue;
        }
        if (json_object_array_add(arr, child) < 0) {
            json_object_put(child);
            r->oom = true;
            ok = false;
        }
    }
    return ok;
}

/* Converts a node; on failure (reported) *out is untouched and nothing is
 * left allocated. */
static bool to_json(cy_reader *r, const char *what, yaml_node_t *n, unsigned depth,
                    json_object **out)
{
    if (depth > MAX_JSON_DEPTH || r->json_budget == 0) {
        /* Reported once: the same cause fails every node after it. */
        if (!r->json_overflow)
            cy_report(r, n, "%s: nested too deeply or too large (a recursive alias?)", what);
        r->json_overflow = true;
        r->json_budget = 0;
        return false;
    }
    r->json_budget--;
    if (n->type == YAML_SCALAR_NODE)
        return scalar_to_json(r, n, out);
    bool map = n->type == YAML_MAPPING_NODE;
    json_object *j = map ? json_object_new_object() : json_object_new_array();
    if (!j) {
        r->oom = true;
        return false;
    }
    if (!(map ? mapping_to_json(r, what, n, depth, j) : list_to_json(r, what, n, depth, j))) {
        json_object_put(j);
        return false;
    }
    *out = j;
    return true;
}

bool cy_to_json(cy_reader *r, const char *what, yaml_node_t *n, json_object **out)
{
    return to_json(r, what, n, 0, out);
}
