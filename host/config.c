/*
 * config.c - reads plugio's YAML configuration into a `config` (config.h).
 *
 * libyaml's document API builds the node graph, with a mark on every node;
 * we then walk it once.  Each fixed mapping (server, serverOptions, an event
 * ...) is described by a table of the keys it accepts, the way nginx
 * describes a module's directives, so "unknown key" and "duplicate key" are
 * checked in one place and every key's setter only checks its value.  Most
 * setters are shared by the type of value (milliseconds, booleans, bounded
 * integers, header lists) and write the member the table names by offsetof;
 * an option with a rule of its own has a setter of its own.
 *
 * A mistake is recorded and the walk goes on, so one run reports every error
 * in the file.  Handler references are checked against `plugins:` only once
 * the whole file is read (sections may come in any order), so the errors are
 * collected here and sorted by position before they reach the caller's
 * diag_list: the operator reads them in file order.
 *
 * Scalars follow the YAML 1.2 core schema: a plain `true`, `~`, `42` or
 * `1.5` is typed, anything quoted is a string.  libyaml leaves resolution to
 * the application, so resolve() does it.  Explicit tags are not interpreted.
 */
#include "config.h"

#include "buf.h"
#include "nsp_pattern.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Socket.IO's option defaults (socket.io v4 / engine.io v6). */
#define DEFAULT_HOST "0.0.0.0"
#define DEFAULT_PORT 3000
#define DEFAULT_PATH "/socket.io"
#define DEFAULT_PING_INTERVAL 25000
#define DEFAULT_PING_TIMEOUT 20000
#define DEFAULT_CONNECT_TIMEOUT 45000
#define DEFAULT_UPGRADE_TIMEOUT 10000
#define DEFAULT_MAX_HTTP_BUFFER_SIZE 1000000
/* plugio's own: socket.io lets clients create child namespaces without end. */
#define DEFAULT_MAX_CHILD_NAMESPACES 1000
#define MAX_MAX_CHILD_NAMESPACES 1000000
/* The npm `cors` package's default Access-Control-Allow-Methods. */
#define DEFAULT_CORS_METHODS "GET,HEAD,PUT,PATCH,POST,DELETE"

/* Timers are armed in milliseconds; Node's setTimeout caps at 2^31-1 too. */
#define MAX_MS 2147483647
/* Doubles hold every integer up to 2^53 exactly; beyond, 1e20 is a guess. */
#define MAX_EXACT_DOUBLE 9007199254740992.0

/* A plugin's config block is converted recursively; an anchor used inside
 * itself or an alias "billion laughs" must not take the host down. */
#define MAX_JSON_DEPTH 64
#define MAX_JSON_NODES 100000

typedef struct problem {
    pio_mark at;
    size_t seq; /* order found, so sorting is stable */
    char *msg;  /* owned */
} problem;

typedef struct loader {
    yaml_document_t doc;
    const char *file;
    config *c;
    problem *problems;
    size_t n_problems, cap_problems;
    size_t cap_plugins, cap_events, cap_middleware, cap_patterns;
    size_t json_budget; /* nodes the plugin config blocks may still build */
    bool json_overflow; /* the budget ran out (reported once) */
    bool oom;
} loader;

/* ---- errors ---------------------------------------------------------- */

static pio_mark mark_of(const yaml_node_t *n)
{
    return (pio_mark){(unsigned)n->start_mark.line + 1, (unsigned)n->start_mark.column + 1};
}

static void report_at(loader *ld, pio_mark at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report_at(loader *ld, pio_mark at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ld->n_problems == ld->cap_problems) {
        size_t cap = ld->cap_problems ? ld->cap_problems * 2 : 8;
        problem *p = realloc(ld->problems, cap * sizeof *p);
        if (!p) {
            ld->oom = true;
            return;
        }
        ld->problems = p;
        ld->cap_problems = cap;
    }
    char *copy = strdup(msg);
    if (!copy) {
        ld->oom = true;
        return;
    }
    ld->problems[ld->n_problems] = (problem){at, ld->n_problems, copy};
    ld->n_problems++;
}

#define report(ld, node, ...) report_at((ld), mark_of(node), __VA_ARGS__)

static int problem_cmp(const void *a, const void *b)
{
    const problem *x = a, *y = b;
    if (x->at.line != y->at.line)
        return x->at.line < y->at.line ? -1 : 1;
    if (x->at.column != y->at.column)
        return x->at.column < y->at.column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands the problems, in file order, to the caller's list. */
static void flush_problems(loader *ld, diag_list *diags)
{
    if (ld->n_problems)
        qsort(ld->problems, ld->n_problems, sizeof *ld->problems, problem_cmp);
    for (size_t i = 0; i < ld->n_problems; i++) {
        diag_add(diags, ld->file, ld->problems[i].at, "%s", ld->problems[i].msg);
        free(ld->problems[i].msg);
    }
    free(ld->problems);
    ld->problems = NULL;
    ld->n_problems = ld->cap_problems = 0;
}

static char *dup_or_oom(loader *ld, const char *s)
{
    char *d = strdup(s);
    if (!d)
        ld->oom = true;
    return d;
}

/* Replaces an owned string (a default, usually). */
static void set_str(loader *ld, char **field, const char *s)
{
    char *d = dup_or_oom(ld, s);
    if (!d)
        return;
    free(*field);
    *field = d;
}

/* ---- scalars: the YAML 1.2 core schema -------------------------------- */

/* SC_COLLECTION: not a scalar, a mapping or a list. */
typedef enum { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STR, SC_COLLECTION } scalar_kind;

typedef struct scalar {
    scalar_kind kind;
    const char *text; /* NUL-terminated by libyaml */
    size_t len;
    bool b;
    bool big; /* SC_INT beyond int64: only `d` is meaningful */
    int64_t i;
    double d; /* SC_FLOAT's value; SC_INT's as a double */
} scalar;

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
static bool resolve_int(scalar *sc)
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
    sc->kind = SC_INT;
    sc->d = neg ? -d : d;
    if (wrapped || u > (uint64_t)INT64_MAX + neg)
        sc->big = true;
    else
        sc->i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, .inf, .nan */
static bool resolve_float(scalar *sc)
{
    static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    const char *p = sc->text;
    bool neg = false;
    if (word_in(p, nans)) {
        sc->kind = SC_FLOAT;
        sc->d = NAN;
        return true;
    }
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (word_in(p, infs)) {
        sc->kind = SC_FLOAT;
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
    sc->kind = SC_FLOAT;
    sc->d = strtod(sc->text, NULL);
    return true;
}

/* Only plain scalars are typed: `"123"` and `'true'` stay strings. */
static scalar resolve(const yaml_node_t *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (n->type != YAML_SCALAR_NODE)
        return (scalar){.kind = SC_COLLECTION};
    scalar sc = {.kind = SC_STR,
                 .text = (const char *)n->data.scalar.value,
                 .len = n->data.scalar.length};
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return sc;
    if (word_in(sc.text, nulls))
        sc.kind = SC_NULL;
    else if (word_in(sc.text, trues))
        sc.kind = SC_BOOL, sc.b = true;
    else if (word_in(sc.text, falses))
        sc.kind = SC_BOOL, sc.b = false;
    else if (!resolve_int(&sc))
        resolve_float(&sc);
    return sc;
}

static yaml_node_t *node_at(loader *ld, yaml_node_item_t i)
{
    return yaml_document_get_node(&ld->doc, i);
}

static bool is_null(const yaml_node_t *n)
{
    return resolve(n).kind == SC_NULL;
}

/* "a string ('abc')", for "expected X, got Y". */
static const char *describe(const yaml_node_t *n, char *out, size_t size)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    static const char *const kinds[] = {
        [SC_NULL] = "null", [SC_BOOL] = "a boolean", [SC_INT] = "an integer",
        [SC_FLOAT] = "a number", [SC_STR] = "a string"};
    scalar sc = resolve(n);
    if (sc.kind == SC_NULL)
        return "null";
    snprintf(out, size, "%s ('%.40s%s')", kinds[sc.kind], sc.text, sc.len > 40 ? "..." : "");
    return out;
}

static void expected(loader *ld, const char *what, yaml_node_t *val, const char *type)
{
    char tmp[80];
    report(ld, val, "%s: expected %s, got %s", what, type, describe(val, tmp, sizeof tmp));
}

/* The text of a string scalar, or NULL after reporting why not. */
static const char *get_string(loader *ld, const char *what, yaml_node_t *val)
{
    if (resolve(val).kind != SC_STR) {
        expected(ld, what, val, "a string");
        return NULL;
    }
    const char *s = (const char *)val->data.scalar.value;
    if (strlen(s) != val->data.scalar.length) {
        report(ld, val, "%s: the string contains a NUL character", what);
        return NULL;
    }
    return s;
}

static bool get_bool(loader *ld, const char *what, yaml_node_t *val, bool *out)
{
    scalar sc = resolve(val);
    if (sc.kind != SC_BOOL) {
        expected(ld, what, val, "true or false");
        return false;
    }
    *out = sc.b;
    return true;
}

/* An integer in [min, max].  `js_number`: the option is a JavaScript number
 * in socket.io, where 1e6 is the same integer as 1000000, so a float that is
 * a whole number is accepted too. */
static bool get_int(loader *ld, const char *what, yaml_node_t *val, bool js_number, int64_t min,
                    int64_t max, int64_t *out)
{
    scalar sc = resolve(val);
    if (js_number && sc.kind == SC_FLOAT && fabs(sc.d) <= MAX_EXACT_DOUBLE &&
        (double)(int64_t)sc.d == sc.d) {
        sc.kind = SC_INT;
        sc.i = (int64_t)sc.d;
    } else if (js_number && sc.kind == SC_FLOAT && isfinite(sc.d) &&
               fabs(sc.d) > MAX_EXACT_DOUBLE) {
        sc.kind = SC_INT; /* beyond 2^53 every double is whole: out of range */
        sc.big = true;
    }
    if (sc.kind != SC_INT) {
        expected(ld, what, val, "an integer");
        return false;
    }
    if (sc.big || sc.i < min || sc.i > max) {
        report(ld, val, "%s: %s is out of range (%lld to %lld)", what, sc.text, (long long)min,
               (long long)max);
        return false;
    }
    *out = sc.i;
    return true;
}

/* Whether `val` is a mapping; if not, reports what it is instead - unless
 * it is null and `null_ok` (`key:` with nothing after it means empty). */
static bool want_mapping(loader *ld, const char *what, yaml_node_t *val, bool null_ok)
{
    if (val->type == YAML_MAPPING_NODE)
        return true;
    if (!(null_ok && is_null(val)))
        expected(ld, what, val, "a mapping");
    return false;
}

static bool want_list(loader *ld, const char *what, yaml_node_t *val, bool null_ok)
{
    if (val->type == YAML_SEQUENCE_NODE)
        return true;
    if (!(null_ok && is_null(val)))
        expected(ld, what, val, "a list");
    return false;
}

/* ---- walking mappings ---------------------------------------------------- */

typedef void pair_fn(loader *ld, yaml_node_t *key, const char *name, yaml_node_t *val, void *ctx);

/* Earlier pair with the same scalar key, or NULL. */
static yaml_node_t *earlier_key(loader *ld, yaml_node_t *map, yaml_node_pair_t *upto,
                                yaml_node_t *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < upto; p++) {
        yaml_node_t *k = node_at(ld, p->key);
        if (k->type == YAML_SCALAR_NODE && k->data.scalar.length == key->data.scalar.length &&
            memcmp(k->data.scalar.value, key->data.scalar.value, k->data.scalar.length) == 0)
            return k;
    }
    return NULL;
}

/* Calls fn for each pair whose key is a scalar seen for the first time; the
 * others are reported and skipped, so a handler runs at most once per key. */
static void each_pair(loader *ld, yaml_node_t *map, pair_fn *fn, void *ctx)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = node_at(ld, p->key), *val = node_at(ld, p->value);
        if (key->type != YAML_SCALAR_NODE) {
            report(ld, key, "a key must be a scalar, not %s",
                   key->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
            continue;
        }
        const char *name = (const char *)key->data.scalar.value;
        yaml_node_t *first = earlier_key(ld, map, p, key);
        if (first) {
            report(ld, key, "duplicate key '%s' (first at line %u)", name, mark_of(first).line);
            continue;
        }
        fn(ld, key, name, val, ctx);
    }
}

typedef struct field field;

/* Reads `val`, the value of key f->key, into `obj`: the struct the
 * mapping describes.  Setters shared by many keys write the member at
 * f->offset; a setter writes nothing when the value is wrong. */
typedef void set_fn(loader *ld, const field *f, yaml_node_t *val, void *obj);

struct field {
    const char *key;
    set_fn *set;
    size_t offset;     /* offsetof() the member a shared setter writes */
    int64_t min, max;  /* an integer's bounds */
    const void *arg;   /* what else the setter needs: a nested section, a reason */
    bool literal;      /* an integer must be written as one: 1e3 is refused */
};

typedef struct section {
    const char *unknown; /* "unknown <this> 'key'" */
    const field *fields; /* ends with {0} */
} section;

typedef struct section_walk {
    const section *sec;
    void *obj;
} section_walk;

static void *member(const field *f, void *obj)
{
    return (char *)obj + f->offset;
}

static const field *find_field(const section *sec, const char *name)
{
    for (const field *f = sec->fields; f->key; f++)
        if (strcmp(f->key, name) == 0)
            return f;
    return NULL;
}

static void dispatch_pair(loader *ld, yaml_node_t *key, const char *name, yaml_node_t *val,
                          void *ctx)
{
    const section_walk *w = ctx;
    const field *f = find_field(w->sec, name);
    if (f) {
        f->set(ld, f, val, w->obj);
        return;
    }
    buf b = BUF_INIT;
    for (f = w->sec->fields; f->key; f++)
        buf_printf(&b, "%s%s", f == w->sec->fields ? "" : ", ", f->key);
    if (b.failed)
        ld->oom = true;
    report(ld, key, "unknown %s '%s' (expected one of: %s)", w->sec->unknown, name,
           b.data ? b.data : "");
    buf_free(&b);
}

/* Sets `obj` from `map` by the keys `sec` accepts. */
static void walk_section(loader *ld, yaml_node_t *map, const section *sec, void *obj)
{
    section_walk w = {sec, obj};
    each_pair(ld, map, dispatch_pair, &w);
}

/* Whether `map` has `key`: whether walk_section called its setter. */
static bool has_key(loader *ld, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = node_at(ld, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return true;
    }
    return false;
}

/* A nested mapping (null: empty), walked by the section f->arg into the
 * member at f->offset. */
static void set_section(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    if (want_mapping(ld, f->key, val, true))
        walk_section(ld, val, f->arg, member(f, obj));
}

/* ---- setters shared by many keys --------------------------------------- */

/* An integer in [f->min, f->max].  socket.io's options are JavaScript
 * numbers, where 1e6 is the integer 1000000, so a whole number written as
 * a float is accepted too - unless f->literal. */
static bool field_int(loader *ld, const field *f, yaml_node_t *val, int64_t *out)
{
    return get_int(ld, f->key, val, !f->literal, f->min, f->max, out);
}

static void set_bool(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    get_bool(ld, f->key, val, member(f, obj));
}

static void set_int(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(ld, f, val, &v))
        *(int *)member(f, obj) = (int)v;
}

static void set_i64(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    field_int(ld, f, val, member(f, obj));
}

static void set_u16(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(ld, f, val, &v))
        *(uint16_t *)member(f, obj) = (uint16_t)v;
}

static void set_u32(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(ld, f, val, &v))
        *(uint32_t *)member(f, obj) = (uint32_t)v;
}

static void set_u64(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    int64_t v;
    if (field_int(ld, f, val, &v))
        *(uint64_t *)member(f, obj) = (uint64_t)v;
}

/* Milliseconds, a uint32_t: timers are armed in them, up to MAX_MS. */
static void set_ms(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    int64_t ms;
    if (get_int(ld, f->key, val, true, 1, MAX_MS, &ms))
        *(uint32_t *)member(f, obj) = (uint32_t)ms;
}

/* Checked, then dropped: values plugio accepts and has no use for. */
static void check_bool(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    bool ignored;
    get_bool(ld, f->key, val, &ignored);
}

static void check_int(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    int64_t ignored;
    field_int(ld, f, val, &ignored);
}

/* socket.io options for features plugio does not have (f->arg says why):
 * their "off" value is accepted so a configuration written for socket.io
 * that spells it out still loads; anything else is an error rather than
 * silently ignored. */
static void set_false_only(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    scalar sc = resolve(val);
    if (!(sc.kind == SC_BOOL && !sc.b))
        report(ld, val, "%s: %s; only false is supported", f->key, (const char *)f->arg);
}

/* A list of strings, or one comma-separated string, as one header value. */
static bool get_header_list(loader *ld, const char *what, yaml_node_t *val, char **out)
{
    if (val->type == YAML_SCALAR_NODE) {
        const char *s = get_string(ld, what, val);
        if (!s)
            return false;
        set_str(ld, out, s);
        return true;
    }
    if (!want_list(ld, what, val, false))
        return false;
    buf b = BUF_INIT;
    bool ok = true;
    for (yaml_node_item_t *i = val->data.sequence.items.start; i < val->data.sequence.items.top;
         i++) {
        const char *s = get_string(ld, what, node_at(ld, *i));
        if (!s)
            ok = false;
        else
            buf_printf(&b, "%s%s", b.len ? "," : "", s);
    }
    if (ok && b.failed)
        ld->oom = true;
    if (!ok || b.failed) {
        buf_free(&b);
        return false;
    }
    free(*out);
    *out = b.data ? buf_steal(&b, NULL) : dup_or_oom(ld, "");
    return true;
}

static void set_header_list(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    get_header_list(ld, f->key, val, member(f, obj));
}

/* ---- handler references ------------------------------------------------ */

static bool is_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] == '\0';
}

static bool is_plugin_name(const char *s)
{
    return *s && s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] ==
                     '\0';
}

/* "plugin:symbol".  Whether the plugin exists is checked by check_refs()
 * once all of `plugins:` is known; whether it exports the symbol, by the
 * binder. */
static bool parse_ref(loader *ld, const char *what, yaml_node_t *val, config_ref *ref)
{
    const char *s = get_string(ld, what, val);
    if (!s)
        return false;
    const char *colon = strchr(s, ':');
    if (!colon) {
        report(ld, val, "%s: '%s' is not a reference of the form plugin:symbol", what, s);
        return false;
    }
    size_t plen = (size_t)(colon - s);
    const char *sym = colon + 1;
    if (plen == 0 || *sym == '\0') {
        report(ld, val, "%s: '%s' has an empty %s name (expected plugin:symbol)", what, s,
               plen == 0 ? "plugin" : "symbol");
        return false;
    }
    if (!is_identifier(sym)) {
        report(ld, val, "%s: '%s' is not a C identifier (in '%s')", what, sym, s);
        return false;
    }
    char *plugin = strndup(s, plen);
    char *symbol = dup_or_oom(ld, sym);
    if (!plugin || !symbol) {
        ld->oom = true;
        free(plugin);
        free(symbol);
        return false;
    }
    free(ref->plugin);
    free(ref->symbol);
    *ref = (config_ref){plugin, symbol, mark_of(val)};
    return true;
}

static void set_ref(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    parse_ref(ld, f->key, val, member(f, obj));
}

/* ---- server ------------------------------------------------------------- */

static void server_host(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    const char *s = get_string(ld, f->key, val);
    if (s && !*s)
        report(ld, val, "host: must not be empty");
    else if (s)
        set_str(ld, &((config *)obj)->host, s);
}

/* Custom request headers to keep for plugins: libwebsockets only
 * enumerates the headers it knows, so others must be named. */
static void server_headers(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    char **headers = &((config *)obj)->custom_headers;
    if (get_header_list(ld, f->key, val, headers))
        for (char *p = *headers; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

/* maxHeaderSize is Node's: libwebsockets keeps a request head in a buffer
 * sized from it (server.c), so it takes effect at start only.  Beyond
 * maxConnections, new sessions are refused with 503 (http.c); the host
 * caps it to what its descriptor limit allows (server.c). */
static const section server_section = {
    "server key",
    (const field[]){
        {"host", .set = server_host},
        {"port", .set = set_u16, .offset = offsetof(config, port), .min = 0, .max = 65535,
         .literal = true},
        {"headers", .set = server_headers},
        {"maxHeaderSize", .set = set_u32, .offset = offsetof(config, max_header_size), .min = 1024,
         .max = CONFIG_MAX_HEADER_SIZE_MAX},
        {"maxConnections", .set = set_u32, .offset = offsetof(config, max_connections), .min = 1,
         .max = UINT32_MAX},
        {0},
    },
};

/* ---- plugins ------------------------------------------------------------ */

/* Relative paths are relative to the configuration file, not to the
 * directory the host happens to start in. */
static char *resolve_path(loader *ld, const char *path)
{
    if (path[0] == '/')
        return dup_or_oom(ld, path);
    buf b = BUF_INIT;
    buf_printf(&b, "%s/%s", ld->c->dir, path);
    if (b.failed) {
        ld->oom = true;
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, NULL);
}

static void read_plugin_path(loader *ld, config_plugin *p, yaml_node_t *val)
{
    const char *s = get_string(ld, "plugin path", val);
    if (!s)
        return;
    if (!*s) {
        report(ld, val, "plugin '%s': the path is empty", p->name);
        return;
    }
    char *path = resolve_path(ld, s);
    if (!path)
        return;
    free(p->path);
    p->path = path;
    p->path_at = mark_of(val);
}

static void plugin_path(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)f;
    read_plugin_path(ld, obj, val);
}

static bool to_json(loader *ld, yaml_node_t *n, unsigned depth, json_object **out);

static void plugin_config(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_plugin *p = obj;
    if (!want_mapping(ld, f->key, val, true))
        return;
    json_object *json;
    if (to_json(ld, val, 0, &json)) {
        json_object_put(p->config);
        p->config = json;
    }
}

static const section plugin_section = {
    "plugin key",
    (const field[]){
        {"path", .set = plugin_path},
        {"config", .set = plugin_config},
        {0},
    },
};

/* `array` (n elements of `size`, room for *cap) with room for one more:
 * the same pointer, or a larger block (doubling); NULL when out of memory
 * (the old block stays). The caller stores it and zeroes the new slot. */
static void *room_for_one(loader *ld, void *array, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return array;
    size_t more = *cap ? *cap * 2 : 4;
    void *grown = realloc(array, more * size);
    if (!grown) {
        ld->oom = true;
        return NULL;
    }
    *cap = more;
    return grown;
}

static config_plugin *add_plugin(loader *ld)
{
    config *c = ld->c;
    config_plugin *p = room_for_one(ld, c->plugins, c->n_plugins, &ld->cap_plugins, sizeof *p);
    if (!p)
        return NULL;
    c->plugins = p;
    p = &c->plugins[c->n_plugins++];
    *p = (config_plugin){0};
    return p;
}

/* `name: path` or `name: {path, config}`. */
static void plugin_entry(loader *ld, yaml_node_t *key, const char *name, yaml_node_t *val,
                         void *ctx)
{
    (void)ctx;
    /* Still recorded when misnamed, so references to it don't also fail. */
    if (!is_plugin_name(name))
        report(ld, key, "plugin name '%s' may only contain letters, digits, '_' and '-'", name);
    config_plugin *p = add_plugin(ld);
    if (!p || !(p->name = dup_or_oom(ld, name)))
        return;
    p->at = mark_of(key);
    if (val->type == YAML_MAPPING_NODE) {
        walk_section(ld, val, &plugin_section, p);
        if (!has_key(ld, val, "path"))
            report(ld, key, "plugin '%s' has no path", name);
    } else if (resolve(val).kind == SC_STR) {
        read_plugin_path(ld, p, val);
    } else {
        expected(ld, name, val, "a path or a mapping with path and config");
    }
    if (!p->config && !(p->config = json_object_new_object()))
        ld->oom = true;
}

static void read_plugins(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    if (want_mapping(ld, f->key, val, true))
        each_pair(ld, val, plugin_entry, NULL);
}

/* ---- plugin config blocks as JSON ------------------------------------- */

static bool scalar_to_json(loader *ld, yaml_node_t *n, json_object **out)
{
    scalar sc = resolve(n);
    switch (sc.kind) {
    case SC_NULL:
        *out = NULL; /* json-c's null */
        return true;
    case SC_BOOL:
        *out = json_object_new_boolean(sc.b);
        break;
    case SC_INT:
        /* Beyond int64 it is what JavaScript would make of it: a double. */
        *out = sc.big ? json_object_new_double(sc.d) : json_object_new_int64(sc.i);
        break;
    case SC_FLOAT:
        if (!isfinite(sc.d)) {
            report(ld, n, "'%s' cannot be represented in JSON", sc.text);
            return false;
        }
        *out = json_object_new_double(sc.d);
        break;
    case SC_STR:
        *out = json_object_new_string_len(sc.text, (int)sc.len);
        break;
    case SC_COLLECTION: /* not here: to_json() passes scalars only */
        return false;
    }
    if (!*out)
        ld->oom = true;
    return *out != NULL;
}

static bool mapping_to_json(loader *ld, yaml_node_t *n, unsigned depth, json_object *obj)
{
    bool ok = true;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *key = node_at(ld, p->key);
        if (key->type != YAML_SCALAR_NODE) {
            report(ld, key, "a key must be a scalar");
            ok = false;
            continue;
        }
        yaml_node_t *first = earlier_key(ld, n, p, key);
        if (first) {
            report(ld, key, "duplicate key '%s' (first at line %u)",
                   (const char *)key->data.scalar.value, mark_of(first).line);
            ok = false;
            continue;
        }
        json_object *child;
        if (!to_json(ld, node_at(ld, p->value), depth + 1, &child)) {
            ok = false;
            continue;
        }
        if (json_object_object_add(obj, (const char *)key->data.scalar.value, child) < 0) {
            json_object_put(child);
            ld->oom = true;
            ok = false;
        }
    }
    return ok;
}

static bool list_to_json(loader *ld, yaml_node_t *n, unsigned depth, json_object *arr)
{
    bool ok = true;
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        json_object *child;
        if (!to_json(ld, node_at(ld, *i), depth + 1, &child)) {
            ok = false;
            continue;
        }
        if (json_object_array_add(arr, child) < 0) {
            json_object_put(child);
            ld->oom = true;
            ok = false;
        }
    }
    return ok;
}

/* Converts a node; on failure (reported) *out is untouched and nothing is
 * left allocated. */
static bool to_json(loader *ld, yaml_node_t *n, unsigned depth, json_object **out)
{
    if (depth > MAX_JSON_DEPTH || ld->json_budget == 0) {
        /* Reported once: the same cause fails every node after it. */
        if (!ld->json_overflow)
            report(ld, n, "config: nested too deeply or too large (a recursive alias?)");
        ld->json_overflow = true;
        ld->json_budget = 0;
        return false;
    }
    ld->json_budget--;
    if (n->type == YAML_SCALAR_NODE)
        return scalar_to_json(ld, n, out);
    bool map = n->type == YAML_MAPPING_NODE;
    json_object *j = map ? json_object_new_object() : json_object_new_array();
    if (!j) {
        ld->oom = true;
        return false;
    }
    if (!(map ? mapping_to_json(ld, n, depth, j) : list_to_json(ld, n, depth, j))) {
        json_object_put(j);
        return false;
    }
    *out = j;
    return true;
}

/* ---- socket.serverOptions --------------------------------------------- */

static void opt_path(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_server_options *o = obj;
    const char *s = get_string(ld, f->key, val);
    if (!s)
        return;
    if (s[0] != '/') {
        report(ld, val, "path: '%s' must start with '/'", s);
        return;
    }
    /* socket.io strips the trailing slash ("/" becomes "", the root). */
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '/')
        len--;
    char *path = strndup(s, len);
    if (!path) {
        ld->oom = true;
        return;
    }
    free(o->path);
    o->path = path;
}

static void opt_transports(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    if (!want_list(ld, f->key, val, false))
        return;
    unsigned set = 0;
    bool ok = true;
    for (yaml_node_item_t *i = val->data.sequence.items.start; i < val->data.sequence.items.top;
         i++) {
        yaml_node_t *item = node_at(ld, *i);
        const char *s = get_string(ld, "transport", item);
        if (!s)
            ok = false;
        else if (strcmp(s, "polling") == 0)
            set |= CONFIG_TRANSPORT_POLLING;
        else if (strcmp(s, "websocket") == 0)
            set |= CONFIG_TRANSPORT_WEBSOCKET;
        else {
            report(ld, item, "unknown transport '%s' (plugio supports polling and websocket)", s);
            ok = false;
        }
    }
    if (ok && set == 0)
        report(ld, val, "transports: the list is empty; name polling, websocket or both");
    else if (ok)
        ((config_server_options *)obj)->transports = set;
}

/* socket.io takes a parser module; the YAML names one of those plugio has. */
static void opt_parser(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_server_options *o = obj;
    const char *s = get_string(ld, f->key, val);
    if (s && strcmp(s, "default") == 0)
        o->parser = CONFIG_PARSER_DEFAULT;
    else if (s && strcmp(s, "msgpack") == 0)
        o->parser = CONFIG_PARSER_MSGPACK;
    else if (s)
        report(ld, val, "unknown parser '%s' (plugio has default and msgpack)", s);
}

/* ---- compression: perMessageDeflate and httpCompression ---------------- */

/* Each is `true`, `false` or an object of options (socket.io merges it over
 * {threshold: 1024}); the zlib settings are those of Node's zlib options.
 * zlib turns a raw deflate window of 8 bits into 9: windowBits is 9-15. */
#define DEFAULT_COMPRESSION_THRESHOLD 1024
#define COMPRESSION_DEFAULTS(on) \
    ((config_compression){(on), DEFAULT_COMPRESSION_THRESHOLD, -1, 8, 15})

static const section zlib_section = {
    "zlib option",
    (const field[]){
        {"level", .set = set_int, .offset = offsetof(config_compression, level), .min = -1,
         .max = 9},
        {"memLevel", .set = set_int, .offset = offsetof(config_compression, mem_level), .min = 1,
         .max = 9},
        {"windowBits", .set = set_int, .offset = offsetof(config_compression, window_bits),
         .min = 9, .max = 15},
        {0},
    },
};

/* plugio compresses every message on its own, the promise
 * server_no_context_takeover makes, whether or not the client asked for it;
 * compression runs in the event loop, with no pool to limit.  The client's
 * window and context are what it offers: libwebsockets 4.1.6 cannot ask
 * for less, so clientMaxWindowBits, clientNoContextTakeover and
 * zlibInflateOptions are unknown keys here. */
static const section pmd_section = {
    "perMessageDeflate option",
    (const field[]){
        {"threshold", .set = set_u32, .offset = offsetof(config_compression, threshold), .min = 0,
         .max = UINT32_MAX},
        {"zlibDeflateOptions", .set = set_section, .arg = &zlib_section},
        {"serverMaxWindowBits", .set = set_int,
         .offset = offsetof(config_compression, window_bits), .min = 9, .max = 15},
        {"serverNoContextTakeover", .set = check_bool},
        {"concurrencyLimit", .set = check_int, .min = 1, .max = INT64_MAX},
        {0},
    },
};

static const section http_compression_section = {
    "httpCompression option",
    (const field[]){
        {"threshold", .set = set_u32, .offset = offsetof(config_compression, threshold), .min = 0,
         .max = UINT32_MAX},
        {"level", .set = set_int, .offset = offsetof(config_compression, level), .min = -1,
         .max = 9},
        {"memLevel", .set = set_int, .offset = offsetof(config_compression, mem_level), .min = 1,
         .max = 9},
        {"windowBits", .set = set_int, .offset = offsetof(config_compression, window_bits),
         .min = 9, .max = 15},
        {0},
    },
};

/* A config_compression, whose options are the section f->arg.  Set only
 * when the whole value is right. */
static void set_compression(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_compression c = COMPRESSION_DEFAULTS(true);
    size_t errors = ld->n_problems;
    scalar sc = resolve(val);
    if (val->type == YAML_MAPPING_NODE)
        walk_section(ld, val, f->arg, &c);
    else if (sc.kind == SC_BOOL)
        c.enabled = sc.b;
    else
        expected(ld, f->key, val, "true, false or a mapping");
    if (ld->n_problems == errors)
        *(config_compression *)member(f, obj) = c;
}

/* ---- connectionStateRecovery ------------------------------------------- */

/* {maxDisconnectionDuration, skipMiddlewares}, with socket.io's defaults
 * (120000 ms, true) for what is left out; `true` is every default, `false`
 * (or no option) keeps it off, as in socket.io. */
static const section csr_section = {
    "connectionStateRecovery option",
    (const field[]){
        {"maxDisconnectionDuration", .set = set_ms,
         .offset = offsetof(config_server_options, csr.max_disconnection)},
        {"skipMiddlewares", .set = set_bool,
         .offset = offsetof(config_server_options, csr.skip_middlewares)},
        {0},
    },
};

static void opt_connection_state_recovery(loader *ld, const field *f, yaml_node_t *val,
                                          void *obj)
{
    config_server_options *o = obj;
    o->csr.max_disconnection = 120000;
    o->csr.skip_middlewares = true;
    if (resolve(val).kind == SC_BOOL)
        get_bool(ld, f->key, val, &o->csr.enabled);
    else if (want_mapping(ld, f->key, val, false)) {
        o->csr.enabled = true;
        walk_section(ld, val, &csr_section, o);
    }
}

/* ---- cors (the npm `cors` package's options, as socket.io passes them) -- */

/* Copies the origins `val` names (a string or a list of them); false after
 * reporting. */
static bool set_origins(loader *ld, config_cors *cors, yaml_node_t *val)
{
    bool list = val->type == YAML_SEQUENCE_NODE;
    size_t n = list ? (size_t)(val->data.sequence.items.top - val->data.sequence.items.start) : 1;
    char **origins = n ? calloc(n, sizeof *origins) : NULL;
    if (n && !origins) {
        ld->oom = true;
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = list ? node_at(ld, val->data.sequence.items.start[i]) : val;
        const char *s = get_string(ld, "origin", item);
        if (!s || !(origins[i] = dup_or_oom(ld, s)))
            ok = false;
    }
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(origins[i]);
        free(origins);
        return false;
    }
    cors->origins = origins;
    cors->n_origins = n;
    return true;
}

/* origin: "*" | "https://a.example" | [list] | true | false */
static void cors_origin(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_cors *cors = obj;
    scalar sc = resolve(val);
    if (val->type == YAML_SEQUENCE_NODE) {
        set_origins(ld, cors, val);
    } else if (sc.kind == SC_BOOL) {
        /* As in the cors package: true reflects the request's Origin,
         * false turns CORS off. */
        cors->any_origin = cors->reflect_origin = sc.b;
        if (!sc.b)
            cors->enabled = false;
    } else if (sc.kind == SC_STR && strcmp(sc.text, "*") == 0) {
        cors->any_origin = true;
    } else if (sc.kind == SC_STR) {
        set_origins(ld, cors, val);
    } else {
        expected(ld, f->key, val, "a string, a list of strings or a boolean");
    }
}

static const section cors_section = {
    "cors option",
    (const field[]){
        {"origin", .set = cors_origin},
        {"methods", .set = set_header_list, .offset = offsetof(config_cors, methods)},
        {"allowedHeaders", .set = set_header_list,
         .offset = offsetof(config_cors, allowed_headers)},
        {"exposedHeaders", .set = set_header_list,
         .offset = offsetof(config_cors, exposed_headers)},
        {"credentials", .set = set_bool, .offset = offsetof(config_cors, credentials)},
        {"maxAge", .set = set_i64, .offset = offsetof(config_cors, max_age), .min = 0,
         .max = INT64_MAX, .literal = true},
        {0},
    },
};

/* `cors: {...}`, or `cors: true` for the package's defaults, or false. */
static void opt_cors(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_cors *cors = &((config_server_options *)obj)->cors;
    bool has_origin = false;
    if (resolve(val).kind == SC_BOOL) {
        get_bool(ld, f->key, val, &cors->enabled);
    } else if (want_mapping(ld, f->key, val, false)) {
        cors->enabled = true;
        walk_section(ld, val, &cors_section, cors);
        has_origin = has_key(ld, val, "origin");
    }
    if (!cors->enabled)
        return;
    if (!has_origin) /* the package's default origin is "*" */
        cors->any_origin = true;
    if (!cors->methods)
        set_str(ld, &cors->methods, DEFAULT_CORS_METHODS);
}

/* ---- socket ------------------------------------------------------------ */

/* allowEIO3 also serves Socket.IO v2 clients (Engine.IO protocol 3). */
static const section server_option_section = {
    "server option",
    (const field[]){
        {"path", .set = opt_path},
        {"pingInterval", .set = set_ms, .offset = offsetof(config_server_options, ping_interval)},
        {"pingTimeout", .set = set_ms, .offset = offsetof(config_server_options, ping_timeout)},
        {"connectTimeout", .set = set_ms,
         .offset = offsetof(config_server_options, connect_timeout)},
        {"upgradeTimeout", .set = set_ms,
         .offset = offsetof(config_server_options, upgrade_timeout)},
        {"maxHttpBufferSize", .set = set_u64,
         .offset = offsetof(config_server_options, max_http_buffer_size), .min = 1,
         .max = INT64_MAX},
        {"transports", .set = opt_transports},
        {"allowUpgrades", .set = set_bool,
         .offset = offsetof(config_server_options, allow_upgrades)},
        {"cors", .set = opt_cors},
        {"connectionStateRecovery", .set = opt_connection_state_recovery},
        {"parser", .set = opt_parser},
        {"serveClient", .set = set_false_only, .arg = "plugio does not serve the client script"},
        {"allowEIO3", .set = set_bool, .offset = offsetof(config_server_options, allow_eio3)},
        {"perMessageDeflate", .set = set_compression,
         .offset = offsetof(config_server_options, per_message_deflate), .arg = &pmd_section},
        {"httpCompression", .set = set_compression,
         .offset = offsetof(config_server_options, http_compression),
         .arg = &http_compression_section},
        {"cookie", .set = set_false_only, .arg = "plugio does not set the io cookie"},
        {"cleanupEmptyChildNamespaces", .set = set_bool,
         .offset = offsetof(config_server_options, cleanup_empty_child_namespaces)},
        {"maxChildNamespaces", .set = set_u32,
         .offset = offsetof(config_server_options, max_child_namespaces), .min = 1,
         .max = MAX_MAX_CHILD_NAMESPACES},
        {0},
    },
};

static const section socket_section = {
    "socket key",
    (const field[]){
        {"serverOptions", .set = set_section, .offset = offsetof(config, opts),
         .arg = &server_option_section},
        {0},
    },
};

/* ---- events ------------------------------------------------------------ */

/* socket.io's reserved event names other than the two lifecycle events. */
static const char *reserved_reason(const char *name)
{
    static const struct {
        const char *name, *why;
    } reserved[] = {
        {"connect", "socket.io uses it for the namespace handshake; use 'connection'"},
        {"connect_error", "socket.io sends it when a connection is refused"},
        {"disconnecting", "plugio does not dispatch it; use 'disconnect'"},
        {"newListener", "it belongs to Node's EventEmitter"},
        {"removeListener", "it belongs to Node's EventEmitter"},
    };
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (strcmp(name, reserved[i].name) == 0)
            return reserved[i].why;
    return NULL;
}

static void event_name(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_event *ev = obj;
    const char *s = get_string(ld, f->key, val);
    const char *why = s ? reserved_reason(s) : NULL;
    if (s && !*s)
        report(ld, val, "name: an event name must not be empty");
    else if (why)
        report(ld, val, "event name '%s' is reserved: %s", s, why);
    else if (s)
        set_str(ld, &ev->name, s);
}

/* ---- namespaces: a name, or a pattern (dynamic namespaces) ------------ */

/* Where byte `offset` of a scalar's value is in the file: exact when the
 * scalar is written on one line without escapes, else the scalar's start. */
static pio_mark mark_in_scalar(const yaml_node_t *n, size_t offset)
{
    pio_mark at = mark_of(n);
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

/* Records the pattern `source` (compiled when first seen; identical
 * patterns are one namespace).  False once it is known not to compile. */
static bool add_pattern(loader *ld, const char *source, yaml_node_t *val)
{
    config *c = ld->c;
    for (size_t i = 0; i < c->n_patterns; i++)
        if (strcmp(c->patterns[i].source, source) == 0)
            return c->patterns[i].re != NULL; /* reported at its first use */
    config_pattern *p = room_for_one(ld, c->patterns, c->n_patterns, &ld->cap_patterns, sizeof *p);
    if (!p)
        return false;
    c->patterns = p;
    char err[256];
    size_t offset;
    nsp_pattern *re = nsp_pattern_compile(source, err, sizeof err, &offset);
    if (!re)
        report_at(ld, mark_in_scalar(val, offset), "namespace: invalid pattern '%s': %s", source,
                  err);
    char *copy = dup_or_oom(ld, source);
    if (!copy) {
        nsp_pattern_free(re);
        return false;
    }
    c->patterns[c->n_patterns++] = (config_pattern){copy, re, mark_of(val)};
    return re != NULL;
}

static void namespace_match(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_event *e = obj;
    const char *s = get_string(ld, f->key, val);
    if (s && add_pattern(ld, s, val)) {
        set_str(ld, &e->nsp, s);
        e->nsp_match = true;
    }
}

static const section namespace_section = {
    "namespace key",
    (const field[]){
        {"match", .set = namespace_match},
        {0},
    },
};

/* An entry's namespace: a name, or {match: regex} - the regex, with
 * nsp_match set. */
static void set_namespace(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config_event *e = obj;
    if (val->type == YAML_MAPPING_NODE) {
        walk_section(ld, val, &namespace_section, e);
        if (!has_key(ld, val, "match"))
            report(ld, val, "namespace: a pattern is written {match: regex}");
        return;
    }
    if (resolve(val).kind != SC_STR) {
        expected(ld, f->key, val, "a string or {match: regex}");
        return;
    }
    const char *s = get_string(ld, f->key, val);
    if (s && s[0] != '/')
        report(ld, val, "namespace: '%s' must start with '/'", s);
    else if (s)
        set_str(ld, &e->nsp, s);
}

/* ---- events and middleware: one reader ----------------------------------
 * Both are written alike - a handler, a namespace ("/" when left out) and,
 * for an event, a name - and read alike, into a config_event (a
 * middleware's name stays NULL); an entry_kind says what differs. */

typedef struct entry_kind {
    const char *what;             /* "event", "middleware": in messages */
    const char *shape;            /* what a list item must be, for messages */
    const section *keys;
    const char *const *required;  /* keys an entry must have */
    void (*add)(loader *ld, config_event *e); /* stores e, taking its strings */
} entry_kind;

static void ref_free(config_ref *r)
{
    free(r->plugin);
    free(r->symbol);
}

static void event_free(config_event *e)
{
    free(e->name);
    free(e->nsp);
    ref_free(&e->handler);
}

static const section event_section = {
    "event key",
    (const field[]){
        {"name", .set = event_name},
        {"handler", .set = set_ref, .offset = offsetof(config_event, handler)},
        {"namespace", .set = set_namespace},
        {0},
    },
};

static const section middleware_section = {
    "middleware key",
    (const field[]){
        {"handler", .set = set_ref, .offset = offsetof(config_event, handler)},
        {"namespace", .set = set_namespace},
        {0},
    },
};

/* "'/chat'" or "{match: '^/t-[0-9]+$'}", for messages. */
static const char *nsp_label(const char *nsp, bool match, char *out, size_t size)
{
    snprintf(out, size, match ? "{match: '%.200s'}" : "'%.200s'", nsp);
    return out;
}

/* One handler per (namespace, event): a second would be ambiguous.  The
 * same pattern written twice is the same (parent) namespace. */
static void check_duplicate_event(loader *ld, const config_event *ev)
{
    for (const config_event *e = ld->c->events; e < ev; e++) {
        if (e->name && e->nsp && strcmp(e->name, ev->name) == 0 && strcmp(e->nsp, ev->nsp) == 0 &&
            e->nsp_match == ev->nsp_match) {
            char label[256];
            report_at(ld, ev->at, "duplicate event '%s' in namespace %s (first at line %u)",
                      ev->name, nsp_label(ev->nsp, ev->nsp_match, label, sizeof label),
                      e->at.line);
            return;
        }
    }
}

static void add_event(loader *ld, config_event *e)
{
    config *c = ld->c;
    config_event *events =
        room_for_one(ld, c->events, c->n_events, &ld->cap_events, sizeof *events);
    if (!events) {
        event_free(e);
        return;
    }
    c->events = events;
    events[c->n_events++] = *e;
    if (e->name && e->nsp)
        check_duplicate_event(ld, &events[c->n_events - 1]);
}

static void add_middleware(loader *ld, config_event *e)
{
    config *c = ld->c;
    config_middleware *mw =
        room_for_one(ld, c->middleware, c->n_middleware, &ld->cap_middleware, sizeof *mw);
    if (!mw) {
        event_free(e);
        return;
    }
    c->middleware = mw;
    mw[c->n_middleware++] =
        (config_middleware){.nsp = e->nsp, .nsp_match = e->nsp_match, .handler = e->handler,
                            .at = e->at};
}

static const entry_kind event_kind = {
    "event", "a mapping with name and handler", &event_section,
    (const char *const[]){"name", "handler", NULL}, add_event,
};

static const entry_kind middleware_kind = {
    "middleware", "a mapping with handler (and namespace)", &middleware_section,
    (const char *const[]){"handler", NULL}, add_middleware,
};

/* One entry of `events:` or `middleware:`. */
static void read_entry(loader *ld, const entry_kind *kind, yaml_node_t *item)
{
    if (item->type != YAML_MAPPING_NODE) {
        expected(ld, kind->what, item, kind->shape);
        return;
    }
    config_event e = {.at = mark_of(item)};
    walk_section(ld, item, kind->keys, &e);
    for (const char *const *key = kind->required; *key; key++)
        if (!has_key(ld, item, *key))
            report(ld, item, "%s has no %s", kind->what, *key);
    if (!e.nsp)
        e.nsp = dup_or_oom(ld, "/");
    kind->add(ld, &e);
}

/* `events:` or `middleware:`, a list of entries of the kind f->arg. */
static void read_entries(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    (void)obj;
    if (!want_list(ld, f->key, val, true))
        return;
    for (yaml_node_item_t *i = val->data.sequence.items.start; i < val->data.sequence.items.top;
         i++)
        read_entry(ld, f->arg, node_at(ld, *i));
}

/* ---- top level ---------------------------------------------------------- */

static void hook_init(loader *ld, const field *f, yaml_node_t *val, void *obj)
{
    config *c = obj;
    if (parse_ref(ld, f->key, val, &c->init))
        c->has_init = true;
}

static const section hooks_section = {
    "hook",
    (const field[]){
        {"init", .set = hook_init},
        {0},
    },
};

static const section top_section = {
    "top-level key",
    (const field[]){
        {"server", .set = set_section, .arg = &server_section},
        {"plugins", .set = read_plugins},
        {"socket", .set = set_section, .arg = &socket_section},
        {"events", .set = read_entries, .arg = &event_kind},
        {"middleware", .set = read_entries, .arg = &middleware_kind},
        {"hooks", .set = set_section, .arg = &hooks_section},
        {0},
    },
};

/* Every reference must name a plugin of `plugins:`, wherever it is written. */
static void check_ref(loader *ld, const config_ref *ref)
{
    if (!ref->plugin || config_find_plugin(ld->c, ref->plugin))
        return;
    report_at(ld, ref->at, "unknown plugin '%s' in handler '%s:%s'", ref->plugin, ref->plugin,
              ref->symbol);
}

static void check_refs(loader *ld)
{
    for (size_t i = 0; i < ld->c->n_events; i++)
        check_ref(ld, &ld->c->events[i].handler);
    for (size_t i = 0; i < ld->c->n_middleware; i++)
        check_ref(ld, &ld->c->middleware[i].handler);
    if (ld->c->has_init)
        check_ref(ld, &ld->c->init);
}

/* ---- loading ------------------------------------------------------------ */

static config *config_new(loader *ld, const char *file, const char *dir)
{
    config *c = calloc(1, sizeof *c);
    if (!c) {
        ld->oom = true;
        return NULL;
    }
    c->refs = 1;
    ld->c = c;
    c->file = dup_or_oom(ld, file);
    c->dir = dup_or_oom(ld, dir);
    c->host = dup_or_oom(ld, DEFAULT_HOST);
    c->port = DEFAULT_PORT;
    c->max_header_size = CONFIG_MAX_HEADER_SIZE;
    c->opts = (config_server_options){
        .path = dup_or_oom(ld, DEFAULT_PATH),
        .ping_interval = DEFAULT_PING_INTERVAL,
        .ping_timeout = DEFAULT_PING_TIMEOUT,
        .connect_timeout = DEFAULT_CONNECT_TIMEOUT,
        .upgrade_timeout = DEFAULT_UPGRADE_TIMEOUT,
        .max_http_buffer_size = DEFAULT_MAX_HTTP_BUFFER_SIZE,
        .transports = CONFIG_TRANSPORT_POLLING | CONFIG_TRANSPORT_WEBSOCKET,
        .allow_upgrades = true,
        .cors = {.max_age = -1},
        .max_child_namespaces = DEFAULT_MAX_CHILD_NAMESPACES,
        .per_message_deflate = COMPRESSION_DEFAULTS(false),
        .http_compression = COMPRESSION_DEFAULTS(true),
    };
    return c;
}

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

static void report_parse_error(loader *ld, const yaml_parser_t *parser, const char *text,
                               size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        ld->oom = true;
        return;
    }
    const char *what = parser->problem ? parser->problem : "unknown error";
    if (parser->error == YAML_READER_ERROR) {
        report_at(ld, mark_at_offset(text, len, parser->problem_offset), "invalid YAML: %s",
                  what);
        return;
    }
    pio_mark at = {(unsigned)parser->problem_mark.line + 1,
                   (unsigned)parser->problem_mark.column + 1};
    if (parser->context)
        report_at(ld, at, "invalid YAML: %s (%s at line %zu)", what, parser->context,
                  parser->context_mark.line + 1);
    else
        report_at(ld, at, "invalid YAML: %s", what);
}

/* Parses the one document of `text` into ld->doc; false after reporting. */
static bool parse_document(loader *ld, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        ld->oom = true;
        return false;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &ld->doc)) {
        report_parse_error(ld, &parser, text, len);
        yaml_parser_delete(&parser);
        return false;
    }
    /* A second document would be silently ignored; say so instead. */
    yaml_document_t next;
    bool ok = true;
    if (!yaml_parser_load(&parser, &next)) {
        report_parse_error(ld, &parser, text, len);
        ok = false;
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&next);
        if (root) {
            report(ld, root, "only one YAML document is allowed");
            ok = false;
        }
        yaml_document_delete(&next);
    }
    yaml_parser_delete(&parser);
    if (!ok)
        yaml_document_delete(&ld->doc);
    return ok;
}

static config *load_text(const char *text, size_t len, const char *file, const char *dir,
                         diag_list *diags, bool keep_on_error)
{
    loader ld = {.file = file ? file : "<string>", .json_budget = MAX_JSON_NODES};
    config *c = config_new(&ld, ld.file, dir ? dir : ".");
    if (c && parse_document(&ld, text, len)) {
        yaml_node_t *root = yaml_document_get_root_node(&ld.doc);
        if (root && want_mapping(&ld, "the configuration", root, true))
            walk_section(&ld, root, &top_section, c);
        check_refs(&ld);
        yaml_document_delete(&ld.doc);
    }
    if (ld.oom)
        report_at(&ld, (pio_mark){0, 0}, "out of memory");
    bool failed = ld.n_problems > 0;
    flush_problems(&ld, diags);
    if (failed && (!keep_on_error || ld.oom)) {
        config_free(c);
        return NULL;
    }
    return c;
}

config *config_load_string(const char *text, size_t len, const char *file, const char *dir,
                           diag_list *diags)
{
    return load_text(text, len, file, dir, diags, false);
}

/* The directory part of `file`: "." when it has none. */
/* The file's directory, made absolute: plugin paths resolved against it
 * stay valid whatever the working directory, and the watcher needs them
 * absolute. */
static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir = !slash ? strdup(".") : slash == file ? strdup("/")
                                                     : strndup(file, (size_t)(slash - file));
    char *abs = dir ? realpath(dir, NULL) : NULL;
    if (!abs)
        return dir;
    free(dir);
    return abs;
}

static bool read_file(const char *file, buf *b)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return false;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    int saved = ferror(f) ? errno : 0;
    fclose(f);
    if (b->failed)
        saved = ENOMEM;
    errno = saved;
    return saved == 0;
}

config *config_load(const char *file, diag_list *diags)
{
    return config_load_ex(file, diags, false);
}

config *config_load_ex(const char *file, diag_list *diags, bool keep_on_error)
{
    buf text = BUF_INIT;
    if (!read_file(file, &text)) {
        diag_add(diags, file, (pio_mark){0, 0}, "cannot read: %s", strerror(errno));
        buf_free(&text);
        return NULL;
    }
    char *dir = dir_of(file);
    config *c = NULL;
    if (!dir)
        diag_add(diags, file, (pio_mark){0, 0}, "out of memory");
    else
        c = load_text(text.data ? text.data : "", text.len, file, dir, diags, keep_on_error);
    free(dir);
    buf_free(&text);
    return c;
}

static void cors_free(config_cors *cors)
{
    for (size_t i = 0; i < cors->n_origins; i++)
        free(cors->origins[i]);
    free(cors->origins);
    free(cors->methods);
    free(cors->allowed_headers);
    free(cors->exposed_headers);
}

config *config_retain(config *c)
{
    c->refs++;
    return c;
}

void config_free(config *c)
{
    if (!c || --c->refs > 0)
        return;
    for (size_t i = 0; i < c->n_plugins; i++) {
        free(c->plugins[i].name);
        free(c->plugins[i].path);
        json_object_put(c->plugins[i].config);
    }
    free(c->plugins);
    for (size_t i = 0; i < c->n_events; i++)
        event_free(&c->events[i]);
    free(c->events);
    for (size_t i = 0; i < c->n_middleware; i++) {
        free(c->middleware[i].nsp);
        ref_free(&c->middleware[i].handler);
    }
    free(c->middleware);
    for (size_t i = 0; i < c->n_patterns; i++) {
        free(c->patterns[i].source);
        nsp_pattern_free(c->patterns[i].re);
    }
    free(c->patterns);
    ref_free(&c->init);
    cors_free(&c->opts.cors);
    free(c->opts.path);
    free(c->host);
    free(c->custom_headers);
    free(c->dir);
    free(c->file);
    free(c);
}

const config_plugin *config_find_plugin(const config *c, const char *name)
{
    for (size_t i = 0; i < c->n_plugins; i++)
        if (c->plugins[i].name && strcmp(c->plugins[i].name, name) == 0)
            return &c->plugins[i];
    return NULL;
}
