/* SPDX-License-Identifier: Apache-2.0 */
#include "imageref.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

#define DEFAULT_DOMAIN "docker.io"
#define OFFICIAL_REPO  "library/"
#define NAME_MAX_LEN   255
#define TAG_MAX_LEN    128

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t len)
{
        size_t i = 0;

        if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
                return false;
        while (i < len) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t sep = i;
                while (i < len && !is_lower_alnum(s[i]))
                        i++;
                size_t n = i - sep;
                bool dashes = strspn(s + sep, "-") >= n;
                if (!(n == 1 && (s[sep] == '.' || s[sep] == '_')) &&
                    !(n == 2 && s[sep] == '_' && s[sep + 1] == '_') && !dashes)
                        return false;
        }
        return true;
}

/* host[:port], each host label [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])? */
static bool valid_domain(const char *s, size_t len)
{
        const char *colon = memchr(s, ':', len);
        size_t host_len = colon ? (size_t)(colon - s) : len;

        if (host_len == 0)
                return false;
        for (size_t start = 0; start < host_len;) {
                size_t end = start;
                while (end < host_len && s[end] != '.')
                        end++;
                if (end == start || !is_alnum(s[start]) || !is_alnum(s[end - 1]))
                        return false;
                for (size_t i = start; i < end; i++)
                        if (!is_alnum(s[i]) && s[i] != '-')
                                return false;
                start = end + 1;
                if (end < host_len && start == host_len)
                        return false; /* trailing dot */
        }
        if (colon) {
                size_t port_len = len - host_len - 1;
                if (port_len == 0 || port_len > 5)
                        return false;
                for (size_t i = host_len + 1; i < len; i++)
                        if (s[i] < '0' || s[i] > '9')
                                return false;
        }
        return true;
}

/* tag: [\w][\w.-]{0,127} */
static bool valid_tag(const char *s)
{
        size_t len = strlen(s);
        if (len == 0 || len > TAG_MAX_LEN || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
                        return false;
        return true;
}

/* digest: algorithm ":" hex{32,}; algorithm [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* */
static bool valid_digest(const char *s)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (const char *p = s; p < colon; p++) {
                if (is_alnum(*p))
                        continue;
                if (!strchr("-_+.", *p) || p + 1 == colon || !is_alnum(p[1]) ||
                    (p[1] >= '0' && p[1] <= '9'))
                        return false;
        }
        size_t hex_len = strlen(colon + 1);
        if (hex_len < 32)
                return false;
        for (const char *p = colon + 1; *p; p++)
                if (!is_hex(*p))
                        return false;
        return true;
}

static int add_form(struct image_ref *ref, const char *a, const char *b, const char *c)
{
        char *form;
        if (asprintf(&form, "%s%s%s", a, b, c) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ref->n_forms; i++)
                if (strcmp(ref->forms[i], form) == 0) {
                        free(form);
                        return 0;
                }
        ref->forms[ref->n_forms++] = form;
        return 0;
}

/*
 * Docker's splitDockerDomain: a first part with '.' or ':', "localhost", or an
 * upper-case letter is a registry host (it must be a valid one). Cuts name.
 */
static bool split_domain(char *name, const char **domain, char **remainder)
{
        char *slash = strchr(name, '/');
        bool has_upper = false;

        *remainder = name;
        if (!slash)
                return true;
        size_t first_len = (size_t)(slash - name);
        for (size_t i = 0; i < first_len; i++)
                has_upper |= name[i] >= 'A' && name[i] <= 'Z';
        if (!memchr(name, '.', first_len) && !memchr(name, ':', first_len) &&
            !(first_len == 9 && memcmp(name, "localhost", 9) == 0) && !has_upper)
                return true;
        if (!valid_domain(name, first_len))
                return false;
        *slash = '\0';
        *domain = strcmp(name, "index.docker.io") == 0 ? DEFAULT_DOMAIN : name;
        *remainder = slash + 1;
        return true;
}

/* Every '/'-separated component of the repository path is valid. */
static bool valid_path(const char *path)
{
        for (const char *component = path;;) {
                const char *end = strchr(component, '/');
                size_t len = end ? (size_t)(end - component) : strlen(component);
                if (!valid_path_component(component, len))
                        return false;
                if (!end)
                        return true;
                component = end + 1;
        }
}

/* The four forms a glob is tried on: full and familiar, with and without tag. */
static int add_forms(struct image_ref *ref, const char *full_name, const char *familiar_name,
                     const char *suffix)
{
        int r = add_form(ref, full_name, suffix, "");
        if (r == 0)
                r = add_form(ref, familiar_name, suffix, "");
        if (r == 0)
                r = add_form(ref, full_name, "", "");
        if (r == 0)
                r = add_form(ref, familiar_name, "", "");
        return r;
}

int image_ref_parse(const char *text, struct image_ref *ref, struct shm_error *err)
{
        _cleanup_free_ char *copy = NULL;
        _cleanup_free_ char *suffix = NULL;
        /* Declared here: a goto below must not jump past a cleanup variable's initialization. */
        _cleanup_free_ char *full_name = NULL;
        char *name, *tag = NULL, *digest = NULL, *remainder, *slash;
        const char *domain = DEFAULT_DOMAIN;
        const char *official = "";

        memset(ref, 0, sizeof(*ref));
        if (!text || !*text)
                return shm_error_set(err, EINVAL, "empty image reference");
        if (strlen(text) > IMAGE_REF_MAX)
                return shm_error_set(err, EINVAL, "image reference is longer than %d bytes",
                                     IMAGE_REF_MAX);
        copy = strdup(text);
        if (!copy)
                return shm_error_set(err, ENOMEM, "out of memory");

        name = copy;
        digest = strchr(name, '@');
        if (digest) {
                *digest++ = '\0';
                if (!valid_digest(digest))
                        goto invalid;
        }
        slash = strrchr(name, '/');
        tag = strrchr(slash ? slash : name, ':');
        if (tag) {
                *tag++ = '\0';
                if (!valid_tag(tag))
                        goto invalid;
        }
        if (strlen(name) == 0 || strlen(name) > NAME_MAX_LEN)
                goto invalid;

        if (!split_domain(name, &domain, &remainder) || !valid_path(remainder))
                goto invalid;
        bool is_docker_hub = strcmp(domain, DEFAULT_DOMAIN) == 0;
        if (is_docker_hub && !strchr(remainder, '/'))
                official = OFFICIAL_REPO;

        if (asprintf(&suffix, "%s%s%s%s", tag || !digest ? ":" : "",
                     tag ? tag : (digest ? "" : "latest"), digest ? "@" : "",
                     digest ? digest : "") < 0)
                return shm_error_set(err, ENOMEM, "out of memory");

        if (asprintf(&full_name, "%s/%s%s", domain, official, remainder) < 0)
                return shm_error_set(err, ENOMEM, "out of memory");
        /* Docker's limit is on the normalized name, and the whole normalized reference
         * must parse again (a long digest after a short name can pass the input's
         * bound and not the normalized form's): the fuzzer found both. */
        if (strlen(full_name) > NAME_MAX_LEN || strlen(full_name) + strlen(suffix) > IMAGE_REF_MAX)
                goto invalid;
        /* The familiar name drops docker.io/, and library/ from one-part names. */
        const char *familiar_name = full_name;
        if (is_docker_hub) {
                familiar_name += strlen(DEFAULT_DOMAIN) + 1;
                if (strncmp(familiar_name, OFFICIAL_REPO, strlen(OFFICIAL_REPO)) == 0 &&
                    !strchr(familiar_name + strlen(OFFICIAL_REPO), '/'))
                        familiar_name += strlen(OFFICIAL_REPO);
        }

        if (add_forms(ref, full_name, familiar_name, suffix) < 0) {
                image_ref_free(ref);
                return shm_error_set(err, ENOMEM, "out of memory");
        }
        return 0;

invalid:
        return shm_error_set(err, EINVAL, "invalid image reference '%s'", text);
}

void image_ref_free(struct image_ref *ref)
{
        for (size_t i = 0; i < ref->n_forms; i++)
                free(ref->forms[i]);
        ref->n_forms = 0;
}
