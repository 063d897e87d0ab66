/* SPDX-License-Identifier: Apache-2.0 */
#include "explain.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "engine.h"
#include "lookup.h"
#include "path.h"
#include "size.h"
#include "state.h"

static void print_problems(const struct policy *p, FILE *out)
{
        for (size_t i = 0; i < p->n_problems; i++) {
                const struct policy_problem *pr = &p->problems[i];
                if (pr->line)
                        fprintf(out, "%s:%u: %s\n", pr->file, pr->line, pr->message);
                else
                        fprintf(out, "%s: %s\n", pr->file, pr->message);
        }
}

int run_check(const struct options *o)
{
        struct policy policy;
        struct shm_error err = {0};

        if (policy_load(&policy, o->policy, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return EXIT_FAILURE;
        }
        print_problems(&policy, stdout);
        int status = policy.n_problems ? EXIT_FAILURE : EXIT_SUCCESS;
        if (!policy.n_problems)
                printf("policy OK: %zu rule%s in %zu file%s\n", policy.n_rules,
                       policy.n_rules == 1 ? "" : "s", policy.n_files,
                       policy.n_files == 1 ? "" : "s");
        policy_free(&policy);
        return status;
}

/* The container id of a bundle: Podman's is the parent of "userdata". */
static const char *id_from_bundle(const char *bundle, char *buf, size_t size)
{
        struct path_part part = {bundle, 0};

        if (path_part_from_end(bundle, 0, &part) && path_part_is(&part, "userdata"))
                path_part_from_end(bundle, 1, &part);
        snprintf(buf, size, "%.*s", (int)part.len, part.s);
        return buf;
}

static void print_decision(const struct policy_decision *d)
{
        char rule_text[1024];

        if (d->kind == DECISION_NO_MATCH) {
                printf("rule:         none matched\n");
                printf("action:       none: /dev/shm stays as the engine made it\n");
                return;
        }
        policy_rule_format(d->rule, rule_text, sizeof(rule_text));
        printf("rule:         %s:%u: %s\n", d->rule->file, d->rule->line, rule_text);
        if (d->image_form)
                printf("matched on:   %s\n", d->image_form);
        switch (d->kind) {
        case DECISION_KEEP:
                printf("action:       keep: /dev/shm stays as the engine made it\n");
                break;
        case DECISION_HOST:
                printf("action:       host: bind the host's /dev/shm\n");
                break;
        case DECISION_SIZE:
                printf("action:       size: /dev/shm is at least %" PRIu64 " bytes (%s)\n",
                       d->bytes, size_format(d->bytes).s);
                if (d->warning[0])
                        printf("warning:      %s\n", d->warning);
                break;
        default:
                break;
        }
}

static void print_annotations(const struct oci_spec *spec)
{
        /* A bundle can carry thousands of annotations: show the first ones. */
        size_t shown = spec->n_annotations > 16 ? 16 : spec->n_annotations;
        for (size_t i = 0; i < shown; i++)
                printf("annotation:   %s=%s\n", spec->annotations[i].key,
                       spec->annotations[i].value);
        if (shown < spec->n_annotations + spec->n_annotations_skipped)
                printf("annotation:   ... and %zu more\n",
                       spec->n_annotations + spec->n_annotations_skipped - shown);
}

/* explain --bundle: the engine and image as the hook would find them. */
static int explain_bundle(const struct options *o, struct oci_spec *spec, struct engine *engine,
                          struct image_lookup *lookup, struct policy_input *in, char *id_buf,
                          size_t id_size)
{
        struct shm_error err = {0};
        const char *id = o->id ? o->id : id_from_bundle(o->bundle, id_buf, id_size);

        if (oci_spec_load(o->bundle, NULL, spec, &err) < 0 ||
            engine_identify(id, o->bundle, spec, engine, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return -1;
        }
        *lookup = (struct image_lookup){.id = id, .engine = engine, .spec = spec};
        printf("container:    %s\n", id);
        printf("engine:       %s%s\n", engine_name(engine->kind),
               engine->kind == ENGINE_NONE ? " (no engine claims the bundle: annotations are "
                                             "believed)"
                                           : " (from the bundle's location)");
        if (engine->sandbox)
                printf("sandbox:      yes: the hook leaves pod sandboxes alone\n");
        in->annotations = spec->annotations;
        in->n_annotations = spec->n_annotations;
        in->memory_limit = spec->memory_limit;
        in->k8s_namespace = engine->k8s_namespace;
        in->k8s_pod = engine->k8s_pod;
        in->k8s_container = engine->k8s_container;
        in->image = image_lookup_find(lookup);
        if (in->image)
                printf("image:        %s (from %s)\n", image_ref_full(in->image), lookup->source);
        else if (lookup->ref)
                printf("image:        %s (from %s; %s: image= rules cannot match)\n", lookup->ref,
                       lookup->source, lookup->parse_error);
        else
                printf("image:        none found: %s (image= rules cannot match)\n", lookup->note);
        print_annotations(spec);
        return 0;
}

/* explain --image/--annotation/...: the container as the options describe it. */
static void explain_options(const struct options *o, struct image_ref *image,
                            struct policy_input *in)
{
        struct shm_error err = {0};

        if (o->image && image_ref_parse(o->image, image, &err) < 0)
                printf("image:        %s (%s: image= rules cannot match)\n", o->image, err.message);
        else if (o->image)
                in->image = image;
        if (in->image)
                printf("image:        %s (from --image)\n", image_ref_full(in->image));
        in->annotations = o->annotations;
        in->n_annotations = o->n_annotations;
        in->memory_limit = o->has_memory_limit ? o->memory_limit : 0;
        in->k8s_namespace = o->k8s_namespace;
        in->k8s_pod = o->k8s_pod;
        in->k8s_container = o->k8s_container;
        for (size_t i = 0; i < in->n_annotations; i++)
                printf("annotation:   %s=%s\n", in->annotations[i].key, in->annotations[i].value);
}

/* What the decision is taken on, as the rules see it. */
static void print_inputs(const struct policy_input *in)
{
        if (in->image) {
                printf("forms:       ");
                for (size_t i = 0; i < in->image->n_forms; i++)
                        printf(" %s", in->image->forms[i]);
                printf("\n");
        }
        if (in->k8s_namespace || in->k8s_pod || in->k8s_container)
                printf("kubernetes:   namespace=%s pod=%s container=%s\n",
                       in->k8s_namespace ? in->k8s_namespace : "(none)",
                       in->k8s_pod ? in->k8s_pod : "(none)",
                       in->k8s_container ? in->k8s_container : "(none)");
        if (in->memory_limit)
                printf("memory limit: %" PRIu64 " bytes (%s)\n", in->memory_limit,
                       size_format(in->memory_limit).s);
        else
                printf("memory limit: none (host memory %s)\n", size_format(in->host_memory).s);
}

int run_explain(const struct options *o)
{
        struct policy policy;
        struct oci_spec spec = {0};
        struct engine engine = {0};
        struct image_lookup lookup = {0};
        struct image_ref image = {0};
        struct policy_decision decision;
        struct shm_error err = {0};
        char id_buf[CONTAINER_ID_MAX + 1];
        int status = EXIT_FAILURE;
        struct policy_input in = {.host_memory = cgroup_host_memory()};

        if (policy_load(&policy, o->policy, &err) < 0) {
                fprintf(stderr, "oci-shm-hook: %s\n", err.message);
                return EXIT_FAILURE;
        }
        if (policy.n_problems) {
                print_problems(&policy, stderr);
                fprintf(stderr, "oci-shm-hook: the policy is invalid; hooks leave /dev/shm "
                                "unchanged until it is fixed\n");
                goto out;
        }
        if (o->bundle) {
                if (explain_bundle(o, &spec, &engine, &lookup, &in, id_buf, sizeof(id_buf)) < 0)
                        goto out;
        } else {
                explain_options(o, &image, &in);
        }
        print_inputs(&in);
        if (policy_decide(&policy, &in, &decision, &err) < 0) {
                printf("error:        %s\n", err.message);
                goto out;
        }
        print_decision(&decision);
        status = EXIT_SUCCESS;
out:
        image_ref_free(&image);
        image_lookup_free(&lookup);
        engine_free(&engine);
        oci_spec_free(&spec);
        policy_free(&policy);
        return status;
}
