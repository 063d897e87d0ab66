/* SPDX-License-Identifier: Apache-2.0 */
/* Docker-style image references and the forms an image= glob is tried on. */
#pragma once

#include <stddef.h>

#include "error.h"

#define IMAGE_REF_MAX 512

/*
 * The forms of one reference, most specific first, duplicates dropped:
 *   docker.io/library/postgres:16   full normalized (":latest" added when
 *                                   neither tag nor digest is given)
 *   postgres:16                     familiar
 *   docker.io/library/postgres      full, without tag or digest
 *   postgres                        familiar, without tag or digest
 * Every form is a substring of forms[0]; policy matching relies on it.
 */
struct image_ref {
        char *forms[4];
        size_t n_forms;
};

/* Parse and normalize `text`. Invalid references fail with EINVAL. */
int image_ref_parse(const char *text, struct image_ref *ref, struct shm_error *err);
void image_ref_free(struct image_ref *ref);

static inline const char *image_ref_full(const struct image_ref *ref)
{
        return ref->n_forms ? ref->forms[0] : NULL;
}
