/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-shm-runtime's reading of the runtime command line. The shim stands in
 * for runc or crun and must find the bundle exactly where the real runtime
 * will, so it reads the arguments twice: as runc 1.1 does (urfave/cli v1 over
 * Go's flag package: -name and --name, -name=value, flags after the container
 * id moved forward, no abbreviations) and as crun 1.8 does (glibc argp:
 * -bDIR, --bundle=DIR, unique prefixes such as --bund, options stop at the
 * container id). When one reading fails, that runtime would refuse the
 * arguments and the other reading is used; when both succeed they must agree,
 * and when neither does the argument list is refused: the shim never guesses
 * a bundle (and never edits ./config.json on a misreading).
 */
#pragma once

#include <stdbool.h>

#include "error.h"

struct runtime_args {
        int command;        /* index of the command in argv; 0 when there is none */
        bool help;          /* --help, --usage or --version: the runtime only prints */
        bool version;       /* a global --version */
        const char *log;    /* the global --log file, NULL when not given */
        bool log_json;      /* --log-format json */
        bool edit;          /* a create that reads <bundle>/config.json */
        const char *bundle; /* with edit: the bundle directory ("." when not given) */
        bool other_config;  /* create --config FILE (crun): config.json is not what runs */
};

/*
 * Read argv the way runc and crun would. Returns 0 and fills *out, or
 * -EINVAL with a message naming both readings when the list cannot be read
 * or the two runtimes would read different bundles. Even then out->log and
 * out->log_json are filled when a reading got that far, so the error can
 * reach the runtime's log file. out's strings point into argv.
 */
int runtime_args_parse(int argc, char *const *argv, struct runtime_args *out,
                       struct shm_error *err);
