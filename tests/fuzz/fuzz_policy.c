/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the policy parser and the decision.
 * Input: POLICY [ '\0' IMAGE [ '\0' KEY=VALUE lines [ '\0' MEMORY-LIMIT ] ] ]
 * (IMAGE is also the Kubernetes namespace, pod and container name)
 * The policy text is parsed as a file; the rest is one container to decide on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ANNOTATIONS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct shm_error err = {0};
        struct policy p;
        struct image_ref image = {0};
        struct annotation annotations[MAX_ANNOTATIONS];
        struct policy_input in = {.annotations = annotations, .host_memory = 8ULL << 30};
        struct policy_decision d;
        char *buf = malloc(size + 1), *parts[4] = {NULL};
        size_t policy_len;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        buf[size] = '\0';
        policy_len = strnlen(buf, size);
        parts[0] = buf;
        for (size_t i = 1, pos = policy_len; i < 4 && pos < size; i++) {
                parts[i] = buf + pos + 1;
                pos += 1 + strlen(parts[i]);
        }

        memset(&p, 0, sizeof(p));
        if (policy_parse_text(&p, "fuzz.conf", buf, policy_len, &err) < 0)
                abort(); /* only out of memory fails the call */
        for (size_t i = 0; i < p.n_problems; i++)
                if (!p.problems[i].message || !p.problems[i].message[0])
                        abort();
        for (size_t i = 0; i < p.n_rules; i++) {
                char text[1024];
                policy_rule_format(&p.rules[i], text, sizeof(text));
        }

        if (parts[1] && image_ref_parse(parts[1], &image, &err) == 0)
                in.image = &image;
        /* the same text as the pod's namespace, name and container name */
        in.k8s_namespace = in.k8s_pod = in.k8s_container = parts[1];
        if (parts[2]) {
                for (char *line = parts[2]; *line && in.n_annotations < MAX_ANNOTATIONS;) {
                        char *nl = strchr(line, '\n'), *eq;
                        if (nl)
                                *nl = '\0';
                        if ((eq = strchr(line, '='))) {
                                *eq = '\0';
                                annotations[in.n_annotations++] =
                                    (struct annotation){.key = line, .value = eq + 1};
                        }
                        if (!nl)
                                break;
                        line = nl + 1;
                }
        }
        if (parts[3])
                in.memory_limit = strtoull(parts[3], NULL, 10);

        if (policy_decide(&p, &in, &d, &err) == 0) {
                if (d.kind != DECISION_NO_MATCH && !d.rule)
                        abort();
                /* any positive limit clamps, to at least the one page a tmpfs needs */
                if (d.kind == DECISION_SIZE &&
                    (d.bytes < 4096 ||
                     (in.memory_limit &&
                      d.bytes > (in.memory_limit < 4096 ? 4096 : in.memory_limit))))
                        abort();
        } else if (!strstr(err.message, "annotation '")) {
                abort(); /* the only refusal names the annotation */
        }
        image_ref_free(&image);
        policy_free(&p);
        free(buf);
        return 0;
}
