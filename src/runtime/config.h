/*
 * config.h - settings from environment variables and command-line flags,
 * described by one table so that --help, the README and the parser agree.
 * Precedence: flag > environment > default.
 */
#ifndef RT_CONFIG_H
#define RT_CONFIG_H

#include "rt.h"
#include <stdio.h>

typedef enum rt_cfg_type {
    RT_CFG_STR,  /* out: const char ** (points into environ/argv or the default) */
    RT_CFG_UINT, /* out: unsigned long *, checked against [min, max] */
} rt_cfg_type;

typedef struct rt_cfg_opt {
    const char *env;     /* "PORT" */
    const char *flag;    /* "port" for --port=N / --port N */
    rt_cfg_type type;
    const char *def;     /* default, as text */
    unsigned long min, max;
    const char *help;
    void *out;
} rt_cfg_opt;

/* Fills every opt's out. Returns 0 on success, 1 when --help was printed to
 * `out`, -1 on a bad value or unknown flag (message on `err`). Arguments that
 * are not flags (no leading "--") are left in argv and their count returned
 * through *nargs (e.g. the "migrate" command). */
int rt_config_load(const rt_cfg_opt *opts, size_t n, int argc, char **argv,
                   int *nargs, char ***args, FILE *out, FILE *err,
                   const char *usage);

#endif
