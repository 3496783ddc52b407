/*
 * main.c - the plugio command: check a configuration, or serve it.
 *
 *   plugio [--log-level LEVEL] FILE      serve FILE
 *   plugio --check FILE                  load everything FILE names, report, exit 0 or 2
 */
#include "base/log.h"
#include "base/strmap.h"
#include "config/config.h"
#include "plugin/binding.h"
#include "plugin/plugin.h"
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_CONFIG 2

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: plugio [OPTION]... FILE\n"
            "Serve Socket.IO with the handlers that the YAML configuration FILE names.\n"
            "\n"
            "  -c, --check            check FILE (load every plugin, resolve every handler),\n"
            "                         report each problem as file:line:column, and exit\n"
            "  -l, --log-level LEVEL  debug, info (default), warn or error; wins over\n"
            "                         the configuration's server.log.level\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Exit status: 0 on success, 1 when serving fails, 2 when FILE has errors.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"check", no_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool check = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "cl:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            check = true;
            break;
        case 'l': {
            pio_log_level level;
            if (!log_parse_level(optarg, &level)) {
                fprintf(stderr, "plugio: invalid log level '%s' (debug, info, warn, error)\n",
                        optarg);
                return EXIT_CONFIG;
            }
            log_pin_level(level);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("plugio %s (SDK ABI %d.%d)\n", PLUGIO_VERSION, PIO_ABI_MAJOR, PIO_ABI_MINOR);
            return 0;
        default:
            fprintf(stderr, "Try 'plugio --help' for more information.\n");
            return EXIT_CONFIG;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "plugio: %s\nTry 'plugio --help' for more information.\n",
                optind == argc ? "missing configuration FILE" : "too many arguments");
        return EXIT_CONFIG;
    }
    const char *file = argv[optind];

    /* Before any map holds an entry.  Without the kernel's random bytes
     * neither the hash nor session ids would be unguessable: refuse. */
    if (!strmap_seed()) {
        fprintf(stderr, "plugio: no random bytes from the kernel (getrandom: %s); "
                        "refusing to start, as session ids would be guessable\n",
                strerror(errno));
        return EXIT_FAILURE;
    }

    /* --check goes on past schema errors to load the plugins, so it
     * reports every problem at once. */
    diag_list diags = DIAG_LIST_INIT;
    config *cfg = config_load_ex(file, &diags, check);
    if (cfg) /* before the plugins load: they log */
        log_configure(cfg->log.format, cfg->log.has_level, cfg->log.level);
    binding *b = cfg ? binding_create(cfg, &diags) : NULL;
    if (b && diags.count) {
        binding_destroy(b);
        b = NULL;
    }
    if (!b) {
        diag_print(&diags, stderr);
        fprintf(stderr, "plugio: %s: %zu error%s\n", file, diags.count, diags.count == 1 ? "" : "s");
        diag_free(&diags);
        plugin_rundir_cleanup();
        return EXIT_CONFIG;
    }
    diag_free(&diags);
    if (check) {
        printf("%s: OK (%zu plugin%s, %zu event%s)\n", file, b->n_plugins,
               b->n_plugins == 1 ? "" : "s", b->n_events, b->n_events == 1 ? "" : "s");
        binding_destroy(b);
        plugin_rundir_cleanup();
        return 0;
    }
    return server_run(b);
}
