/*
 * config.c - one table of settings, read from flags and the environment.
 *
 * The table is the single description of every setting: the parser, --help
 * and the README's configuration table all come from it, so they cannot
 * disagree. Values are checked here (range, number syntax) so the rest of the
 * program sees only valid settings.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int set_value(const rt_cfg_opt *o, const char *val, const char *from, FILE *err)
{
    if (o->type == RT_CFG_STR) {
        *(const char **)o->out = val;
        return 0;
    }
    /* strtoul accepts leading spaces and '-'; a setting must be plain digits. */
    if (val[0] < '0' || val[0] > '9') {
        fprintf(err, "invalid %s %s=\"%s\": expected a number\n", from, o->env, val);
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long v = strtoul(val, &end, 10);
    if (errno != 0 || *end != '\0' || v < o->min || v > o->max) {
        fprintf(err, "invalid %s %s=\"%s\": expected a number in %lu..%lu\n", from,
                o->env, val, o->min, o->max);
        return -1;
    }
    *(unsigned long *)o->out = v;
    return 0;
}

static void print_help(const rt_cfg_opt *opts, size_t n, FILE *out, const char *usage)
{
    fprintf(out, "%s\n\nSettings (flag, environment variable, default):\n", usage);
    for (size_t i = 0; i < n; i++) {
        const rt_cfg_opt *o = &opts[i];
        fprintf(out, "  --%-20s %-20s default %s\n      %s\n", o->flag, o->env,
                o->def[0] ? o->def : "(empty)", o->help);
    }
    fprintf(out, "\nA flag wins over the environment, which wins over the default.\n");
}

static const rt_cfg_opt *find_flag(const rt_cfg_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].flag) == len && memcmp(opts[i].flag, name, len) == 0)
            return &opts[i];
    return NULL;
}

int rt_config_load(const rt_cfg_opt *opts, size_t n, int argc, char **argv,
                   int *nargs, char ***args, FILE *out, FILE *err,
                   const char *usage)
{
    for (size_t i = 0; i < n; i++) {
        const char *env = getenv(opts[i].env);
        const char *val = (env && env[0]) ? env : opts[i].def;
        if (set_value(&opts[i], val, env && env[0] ? "environment" : "default", err) < 0)
            return -1;
    }

    /* Positional arguments are compacted to the front of argv[1..]. */
    int kept = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(opts, n, out, usage);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            argv[1 + kept++] = argv[i];
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const rt_cfg_opt *o = find_flag(opts, n, name, len);
        if (!o) {
            fprintf(err, "unknown flag %s (see --help)\n", a);
            return -1;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(err, "flag --%s needs a value\n", o->flag);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(o, val, "flag", err) < 0)
            return -1;
    }
    *nargs = kept;
    *args = argv + 1;
    return 0;
}
