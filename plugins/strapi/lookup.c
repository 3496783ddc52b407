/*
 * lookup.c - users' roles asked of Strapi (see lookup.h).
 *
 * libcurl's multi interface, driven by the host's loop: curl tells which
 * descriptors to watch (CURLMOPT_SOCKETFUNCTION -> pio_fd_watch) and when
 * to wake it (CURLMOPT_TIMERFUNCTION -> pio_timer_start), and is told back
 * through curl_multi_socket_action.  Thousands of look-ups can be in
 * flight on the loop thread at no thread's cost, where pio_work_submit
 * with blocking requests would hold the host's two workers for a round
 * trip each.
 *
 * Reloads: curl keeps pointers to this version's callbacks, so a version
 * never hands its transfers on.  lookups_free abandons them; the plugin
 * hands the waiting middleware handles to the next version, which asks
 * again (lookups_each_waiting).
 */
#include "lookup.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A user's answer is a few hundred bytes; anything past this is not one. */
#define MAX_ANSWER (256 * 1024)
/* Users whose look-up is in flight at once; more are refused (a storm of
 * reconnections with a cold cache).  curl queues what exceeds its
 * connections to Strapi, which it keeps open between look-ups. */
#define MAX_USERS 20000
#define MAX_CONNECTIONS 32

typedef struct watch {
    struct watch *next;
    uint64_t id;
} watch;

typedef struct user_lookup {
    struct user_lookup *next;
    lookups *l;
    CURL *easy;
    struct curl_slist *headers;
    char user_id[64];
    char *body;
    size_t len;
    uint64_t *pending;
    size_t n_pending, cap_pending;
} user_lookup;

struct lookups {
    pio_ctx *ctx;
    CURLM *multi;
    const strapi_config *c;
    lookup_done_fn done;
    void *ud;
    uint64_t timer;
    user_lookup *users;
    size_t n_users;
    watch *watches;      /* the watch of each socket curl has open (freed at its REMOVE) */
    bool closing;
    char *auth;          /* "Authorization: Bearer <token>" */
};

static void drain(lookups *l);

static void on_fd(pio_ctx *ctx, int fd, unsigned events, void *ud)
{
    (void)ctx;
    lookups *l = ud;
    int mask = (events & PIO_FD_READ ? CURL_CSELECT_IN : 0) |
               (events & PIO_FD_WRITE ? CURL_CSELECT_OUT : 0) |
               (events & PIO_FD_HUP ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(l->multi, fd, mask, &running);
    drain(l);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    lookups *l = userp;
    watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        /* The socket is done with (curl forgets its socketp): its watch
         * goes now, not at lookups_free - a server that runs for weeks
         * opens a connection to Strapi per idle gap. */
        if (w && w->id && !l->closing)
            pio_fd_unwatch(l->ctx, w->id);
        for (watch **link = &l->watches; w && *link; link = &(*link)->next)
            if (*link == w) {
                *link = w->next;
                free(w);
                break;
            }
        if (!l->closing)
            curl_multi_assign(l->multi, fd, NULL);
        return 0;
    }
    if (l->closing)
        return 0;
    unsigned ev = (what & CURL_POLL_IN ? PIO_FD_READ : 0) | (what & CURL_POLL_OUT ? PIO_FD_WRITE : 0);
    if (w && w->id)
        return pio_fd_update(l->ctx, w->id, ev) == PIO_OK ? 0 : -1;
    if (!w) {
        if (!(w = calloc(1, sizeof *w)))
            return -1;
        w->next = l->watches;
        l->watches = w;
    }
    w->id = pio_fd_watch(l->ctx, fd, ev, on_fd, l);
    curl_multi_assign(l->multi, fd, w);
    return w->id ? 0 : -1;
}

static void on_timer(pio_ctx *ctx, uint64_t timer, void *ud)
{
    (void)ctx;
    (void)timer;
    lookups *l = ud;
    l->timer = 0;
    int running;
    curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(l);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    lookups *l = userp;
    if (l->closing)
        return 0;
    if (l->timer)
        pio_timer_cancel(l->ctx, l->timer);
    l->timer = 0;
    if (timeout_ms >= 0) {
        l->timer = pio_timer_start(l->ctx, (uint32_t)timeout_ms, 0, on_timer, l);
        if (!l->timer)
            return -1;
    }
    return 0;
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
    user_lookup *u = ud;
    size_t len = size * n;
    if (u->len + len > MAX_ANSWER)
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    char *grown = realloc(u->body, u->len + len + 1);
    if (!grown)
        return 0;
    u->body = grown;
    memcpy(u->body + u->len, data, len);
    u->len += len;
    u->body[u->len] = '\0';
    return len;
}

lookups *lookups_new(pio_ctx *ctx, const strapi_config *c, lookup_done_fn done, void *ud)
{
    lookups *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ctx = ctx;
    l->c = c;
    l->done = done;
    l->ud = ud;
    size_t alen = strlen("Authorization: Bearer ") + strlen(c->api_token ? c->api_token : "") + 1;
    l->auth = malloc(alen);
    l->multi = curl_multi_init();
    if (!l->auth || !l->multi) {
        lookups_free(l);
        return NULL;
    }
    snprintf(l->auth, alen, "Authorization: Bearer %s", c->api_token ? c->api_token : "");
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)MAX_CONNECTIONS);
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)MAX_CONNECTIONS);
    return l;
}

static void user_free(user_lookup *u)
{
    if (u->easy) {
        curl_multi_remove_handle(u->l->multi, u->easy);
        curl_easy_cleanup(u->easy);
    }
    curl_slist_free_all(u->headers);
    free(u->body);
    free(u->pending);
    free(u);
}

static bool add_pending(user_lookup *u, uint64_t pending)
{
    if (u->n_pending == u->cap_pending) {
        size_t cap = u->cap_pending ? 2 * u->cap_pending : 4;
        uint64_t *grown = realloc(u->pending, cap * sizeof *grown);
        if (!grown)
            return false;
        u->pending = grown;
        u->cap_pending = cap;
    }
    u->pending[u->n_pending++] = pending;
    return true;
}

/* The user's id as a path segment: Strapi's ids are digits, Strapi 5's
 * access tokens carry them as strings; anything else is refused before a
 * request is made of it. */
static bool plain_id(const char *id)
{
    if (!*id)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool start(lookups *l, user_lookup *u)
{
    char url[1024];
    int n = snprintf(url, sizeof url, "%s/api/users/%s?populate=role", l->c->url, u->user_id);
    if (n < 0 || (size_t)n >= sizeof url || !(u->easy = curl_easy_init()))
        return false;
    u->headers = curl_slist_append(NULL, l->auth);
    struct curl_slist *h = u->headers ? curl_slist_append(u->headers, "Accept: application/json")
                                      : NULL;
    if (!h)
        return false;
    u->headers = h;
    curl_easy_setopt(u->easy, CURLOPT_URL, url);
    curl_easy_setopt(u->easy, CURLOPT_HTTPHEADER, u->headers);
    curl_easy_setopt(u->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(u->easy, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(u->easy, CURLOPT_PRIVATE, u);
    curl_easy_setopt(u->easy, CURLOPT_TIMEOUT_MS, (long)l->c->lookup_timeout_ms);
    curl_easy_setopt(u->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(u->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(u->easy, CURLOPT_FOLLOWLOCATION, 0L);
    return curl_multi_add_handle(l->multi, u->easy) == CURLM_OK;
}

bool lookups_wait(lookups *l, const char *user_id, uint64_t pending)
{
    for (user_lookup *u = l->users; u; u = u->next)
        if (strcmp(u->user_id, user_id) == 0)
            return add_pending(u, pending);
    if (!plain_id(user_id) || strlen(user_id) >= sizeof l->users->user_id ||
        l->n_users >= MAX_USERS)
        return false;
    user_lookup *u = calloc(1, sizeof *u);
    if (!u)
        return false;
    u->l = l;
    snprintf(u->user_id, sizeof u->user_id, "%s", user_id);
    if (!add_pending(u, pending) || !start(l, u)) {
        user_free(u);
        return false;
    }
    u->next = l->users;
    l->users = u;
    l->n_users++;
    return true;
}

/* What Strapi's answer says: the role's type, or why there is none. */
static const char *read_answer(user_lookup *u, long status, char *role, size_t cap, char *why_buf,
                               size_t why_cap)
{
    if (status == 404)
        return "unknown user";
    if (status != 200) {
        snprintf(why_buf, why_cap, "Strapi answered %ld", status);
        return why_buf;
    }
    const pio_value *v = pio_value_parse(u->body ? u->body : "", u->len, PIO_FORMAT_JSON);
    if (!v)
        return "Strapi's answer is not JSON";
    const char *why = NULL;
    int blocked = 0;
    const char *type;
    size_t len;
    if (pio_value_bool(pio_value_member(v, "blocked"), &blocked) == PIO_OK && blocked)
        why = "user is blocked";
    else if (pio_value_string(pio_value_member(pio_value_member(v, "role"), "type"), &type,
                              &len) != PIO_OK || len == 0 || len >= cap || strlen(type) != len)
        why = "user has no role";
    else
        memcpy(role, type, len + 1);
    pio_value_free(v);
    return why;
}

static void finish(lookups *l, user_lookup *u, CURLcode rc)
{
    for (user_lookup **link = &l->users; *link; link = &(*link)->next)
        if (*link == u) {
            *link = u->next;
            l->n_users--;
            break;
        }
    char role[128] = "", why_buf[160];
    const char *why;
    bool settled = false;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        why = "timed out";
    } else if (rc != CURLE_OK) {
        snprintf(why_buf, sizeof why_buf, "%s", curl_easy_strerror(rc));
        why = why_buf;
    } else {
        long status = 0;
        curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &status);
        why = read_answer(u, status, role, sizeof role, why_buf, sizeof why_buf);
        settled = status == 200 || status == 404;
    }
    curl_multi_remove_handle(l->multi, u->easy);
    curl_easy_cleanup(u->easy);
    u->easy = NULL;
    l->done(l->ctx, u->user_id, why ? NULL : role, why, settled, u->pending, u->n_pending, l->ud);
    user_free(u);
}

static void drain(lookups *l)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        user_lookup *u = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&u);
        if (u)
            finish(l, u, msg->data.result);
    }
}

void lookups_each_waiting(const lookups *l,
                          void (*fn)(const char *user_id, uint64_t pending, void *ud), void *ud)
{
    for (const user_lookup *u = l->users; u; u = u->next)
        for (size_t i = 0; i < u->n_pending; i++)
            fn(u->user_id, u->pending[i], ud);
}

void lookups_free(lookups *l)
{
    if (!l)
        return;
    l->closing = true;
    while (l->users) {
        user_lookup *u = l->users;
        l->users = u->next;
        user_free(u);
    }
    if (l->multi)
        curl_multi_cleanup(l->multi);
    while (l->watches) {
        watch *w = l->watches;
        l->watches = w->next;
        free(w);
    }
    free(l->auth);
    free(l);
}
