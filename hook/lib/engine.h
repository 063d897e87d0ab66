/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which engine made a container, and what that engine says of it.
 *
 * The engine is decided from facts a container's user cannot set: where the
 * bundle lies and how it is laid out, and the engine's own record of the id.
 * Only then is that engine's own key or record read, never another engine's:
 * users set annotations (podman --annotation, docker --annotation, pod
 * annotations that containerd passes on), and a container that could name
 * its own image or pod could claim another's rule, shm=host included.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

/* containers.json of a storage with 10,000 containers is about 16 MiB; it is streamed. */
#define ENGINE_FILE_MAX_BYTES (256u << 20)

enum engine_kind {
        ENGINE_NONE,   /* no engine claims the bundle: runc or crun by hand */
        ENGINE_PODMAN, /* <graphroot>/<driver>-containers/<id>/userdata, beside containers.json */
        ENGINE_CRIO,   /* <runroot>/<driver>-containers/<id>/userdata, no containers.json */
        ENGINE_CONTAINERD, /* <state>/io.containerd.runtime.v2.task/k8s.io/<id> (the CRI) */
        ENGINE_DOCKER, /* /etc/hostname bound from <data-root>/containers/<id>/, config.v2.json */
};

struct engine {
        enum engine_kind kind;
        char *dir;    /* the engine's directory the paths above start with, up to <id> */
        bool sandbox; /* a pod sandbox, by the engine's own key */
        /* Kubernetes identity from the engine's own keys; NULL outside Kubernetes. */
        char *k8s_namespace, *k8s_pod, *k8s_container;
        char *sandbox_id; /* containerd: the pod's sandbox, whose shm the pod shares */
};

/* Every annotation key engine_identify() and engine_find_image() may read. */
extern const struct spec_keys engine_keys;

/* Decide the engine; fails only for lack of memory. */
int engine_identify(const char *id, const char *bundle, const struct oci_spec *spec,
                    struct engine *engine, struct shm_error *err);
void engine_free(struct engine *engine);
const char *engine_name(enum engine_kind kind);

/*
 * The image reference from the engine's own record or key: *ref (caller
 * frees) and *source ("containers-storage", "docker-config",
 * "containerd-annotation", "crio-annotation", "annotation-unverified"), or
 * *ref NULL. A missing or malformed record is "no image", never an error:
 * *note says why, and *warn is set when the engine's own record was expected
 * and is not usable (an admin should hear of it).
 */
void engine_find_image(const struct engine *engine, const char *id, const struct oci_spec *spec,
                       char **ref, const char **source, bool *warn, char *note, size_t note_size);

/*
 * Is `source` (a config.json bind source for /dev/shm) the shm tmpfs this
 * engine manages for a pod or IPC-sharing containers, in this engine's own
 * directory (the same directory by name or by inode, as an admin may move
 * the engine's state behind a symlink; containerd: the pod's own sandbox)?
 * For a bundle no engine claims, any engine's shape will do. The path must
 * hold no "." or "..".
 */
bool engine_shm_source_is_own(const struct engine *engine, const char *source);
