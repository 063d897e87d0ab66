/* SPDX-License-Identifier: Apache-2.0 */
#include "lookup.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

const struct image_ref *image_lookup_find(struct image_lookup *l)
{
        struct shm_error err = {0};

        if (!l->done) {
                l->done = true;
                engine_find_image(l->engine, l->id, l->spec, &l->ref, &l->source, &l->warn, l->note,
                                  sizeof(l->note));
                if (l->ref && image_ref_parse(l->ref, &l->image, &err) < 0) {
                        char q[IMAGE_REF_MAX + 16];
                        snprintf(l->parse_error, sizeof(l->parse_error), "%.255s", err.message);
                        if (l->log)
                                log_msg(LOG_INFO,
                                        "container=%s image=invalid reference=%s source=%s: "
                                        "image= rules do not apply (%s)",
                                        l->id, log_quoted(l->ref, q, sizeof(q)), l->source,
                                        l->parse_error);
                }
        }
        return l->image.n_forms ? &l->image : NULL;
}

const char *image_lookup_name(struct image_lookup *l)
{
        const struct image_ref *image = image_lookup_find(l);
        return image ? image_ref_full(image) : l->ref ? "invalid" : NULL;
}

void image_lookup_free(struct image_lookup *l)
{
        image_ref_free(&l->image);
        free(l->ref);
}
