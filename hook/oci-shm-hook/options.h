/* SPDX-License-Identifier: Apache-2.0 */
/* The command line of oci-shm-hook: hook mode, check, explain (status parses its own). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mount.h"
#include "policy.h"

#define EXIT_USAGE          2
#define MAX_CLI_ANNOTATIONS 256

enum command { CMD_HOOK, CMD_CHECK, CMD_EXPLAIN };

struct options {
        enum command command;
        const char *policy;
        bool fail_on_policy_error;
        int log_priority;
        enum shm_mount_api mount_api;
        /* explain */
        const char *image;
        const char *k8s_namespace, *k8s_pod, *k8s_container;
        const char *bundle;
        const char *id;
        bool has_memory_limit;
        uint64_t memory_limit;
        const struct annotation *annotations; /* static storage: argv is parsed once */
        size_t n_annotations;
};

/*
 * Parse argv into *o. Returns -1 to go on, or an exit status when it is done
 * (--help, --version) or the words are wrong (the reason printed).
 */
int options_parse(int argc, char **argv, struct options *o);
