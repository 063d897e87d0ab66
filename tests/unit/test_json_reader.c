/* SPDX-License-Identifier: Apache-2.0 */
/* json_reader.c: the streamed reader of known fields, on a table of its own. */
#include "unit.h"

#include "json_reader.h"

/*
 * {"name": STRING, "count": INTEGER, "items": [{"name": STRING, "tags": [STRING]}],
 *  "labels": {KEY: STRING}, "kind": STRING}
 */
enum {
        T_DOC,
        T_NAME,
        T_COUNT,
        T_ITEMS,
        T_ITEM,
        T_ITEM_NAME,
        T_TAGS,
        T_TAG,
        T_LABELS,
        T_LABEL,
        T_KIND
};
static const struct json_field table[] = {
    [T_DOC] = {-1, NULL, JSON_SHAPE_OBJECT, "doc"},
    [T_NAME] = {T_DOC, "name", JSON_SHAPE_STRING, "doc.name"},
    [T_COUNT] = {T_DOC, "count", JSON_SHAPE_INTEGER, "doc.count"},
    [T_ITEMS] = {T_DOC, "items", JSON_SHAPE_ARRAY, "doc.items"},
    [T_ITEM] = {T_ITEMS, NULL, JSON_SHAPE_OBJECT, "doc.items[]"},
    [T_ITEM_NAME] = {T_ITEM, "name", JSON_SHAPE_STRING, "doc.items[].name"},
    [T_TAGS] = {T_ITEM, "tags", JSON_SHAPE_ARRAY, "doc.items[].tags"},
    [T_TAG] = {T_TAGS, NULL, JSON_SHAPE_STRING, "doc.items[].tags[]"},
    [T_LABELS] = {T_DOC, "labels", JSON_SHAPE_MAP, "doc.labels"},
    [T_LABEL] = {T_LABELS, NULL, JSON_SHAPE_STRING, "doc.labels"},
    [T_KIND] = {T_DOC, "kind", JSON_SHAPE_STRING, "doc.kind"},
};

/* Every event, as text: "v<field>:<key>=<value>;", "b<field>;", "e<field>;". */
struct events {
        char log[8192];
        size_t used;
        int stop_at_field; /* return JSON_READER_STOP on this field's value or end */
        int fail_at_field; /* return -EPERM on this field's value */
        char path[128];    /* json_reader_path of the last T_ITEM_NAME value */
};

static void log_event(struct events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_event(struct events *ev, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(ev->log + ev->used, sizeof(ev->log) - ev->used, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t)n < sizeof(ev->log) - ev->used);
        ev->used += (size_t)n;
}

static int on_value(struct json_reader *r, int field, const char *key, const char *text, size_t len,
                    struct shm_error *err)
{
        struct events *ev = r->ctx;
        char shown[256];
        size_t n = 0;
        /* NUL characters (allowed in map values) shown as \0 */
        for (size_t i = 0; i < len && n + 3 < sizeof(shown); i++) {
                if (text[i] == '\0') {
                        shown[n++] = '\\';
                        shown[n++] = '0';
                } else {
                        shown[n++] = text[i];
                }
        }
        shown[n] = '\0';
        log_event(ev, "v%d:%s=%s;", field, key ? key : "", shown);
        if (field == T_ITEM_NAME)
                json_reader_path(r, field, ev->path, sizeof(ev->path));
        if (field == ev->fail_at_field)
                return shm_error_set(err, EPERM, "refused '%.*s'", (int)len, text);
        return field == ev->stop_at_field ? JSON_READER_STOP : 0;
}

static int on_begin(struct json_reader *r, int field, struct shm_error *err)
{
        (void)err;
        log_event(r->ctx, "b%d;", field);
        return 0;
}

static int on_end(struct json_reader *r, int field, struct shm_error *err)
{
        struct events *ev = r->ctx;
        (void)err;
        log_event(ev, "e%d;", field);
        return field == ev->stop_at_field ? JSON_READER_STOP : 0;
}

static const struct json_reader_ops ops = {.value = on_value, .begin = on_begin, .end = on_end};

static int read_text(const char *text, struct events *ev, struct shm_error *e)
{
        memset(ev, 0, sizeof(*ev));
        ev->stop_at_field = ev->fail_at_field = -2;
        return json_read_buffer(table, sizeof(table) / sizeof(table[0]), &ops, ev, "the doc", text,
                                strlen(text), e);
}

static void expect_events(const char *text, const char *want)
{
        struct events ev;
        struct shm_error e = {0};
        int r = read_text(text, &ev, &e);
        if (r != 0)
                fail_msg("'%s': %d %s", text, r, e.message);
        if (strcmp(ev.log, want) != 0)
                fail_msg("'%s': events\n  %s\nwant\n  %s", text, ev.log, want);
}

static void expect_refused(const char *text, const char *part)
{
        struct events ev;
        struct shm_error e = {0};
        int r = read_text(text, &ev, &e);
        if (r >= 0)
                fail_msg("'%s' was accepted (events %s)", text, ev.log);
        assert_int_equal(r, -e.code);
        if (!strstr(e.message, part))
                fail_msg("'%s': message '%s' lacks '%s'", text, e.message, part);
}

static void test_fields(void **state)
{
        expect_events("{}", "b0;e0;");
        expect_events("{\"name\":\"n\",\"count\":-42,\"kind\":\"k\"}",
                      "b0;v1:=n;v2:=-42;v10:=k;e0;");
        expect_events("{\"items\":[{\"name\":\"a\",\"tags\":[\"x\",\"y\"]},{},{\"tags\":[]}]}",
                      "b0;b3;b4;v5:=a;b6;v7:=x;v7:=y;e6;e4;b4;e4;b4;b6;e6;e4;e3;e0;");
        /* a map: exact keys, any key, repeats delivered as they come */
        expect_events("{\"labels\":{\"Name\":\"1\",\"name\":\"2\",\"name\":\"3\",\"\":\"\"}}",
                      "b0;b8;v9:Name=1;v9:name=2;v9:name=3;v9:=;e8;e0;");
        /* NUL characters are data in map values, and escapes are decoded */
        expect_events("{\"labels\":{\"k\":\"a\\u0000b\"},\"name\":\"\\u0041\\n\"}",
                      "b0;b8;v9:k=a\\0b;e8;v1:=A\n;e0;");
        /* null is absent, at any known field */
        expect_events("{\"name\":null,\"count\":null,\"items\":null,\"labels\":null}", "b0;e0;");
        expect_events("{\"items\":[null,{\"name\":null,\"tags\":[null]}]}",
                      "b0;b3;b4;b6;e6;e4;e3;e0;");
}

static void test_skipped(void **state)
{
        /* unknown members hold anything valid, at any depth, and may repeat */
        expect_events("{\"x\":1e400,\"x\":-0.5e-400,\"y\":[true,false,null,{\"name\":7}],"
                      "\"z\":{\"items\":{\"name\":[]}},\"s\":\"\xff\xfe\",\"name\":\"n\"}",
                      "b0;v1:=n;e0;");
        expect_events("{\"items\":[{\"extra\":{\"tags\":5},\"name\":\"a\",\"n\":[[[[]]]]}]}",
                      "b0;b3;b4;v5:=a;e4;e3;e0;");
        /* 100000 levels of nesting in a skipped member */
        size_t levels = 100000;
        char *text = malloc(2 * levels + 64);
        assert_non_null(text);
        size_t used = (size_t)sprintf(text, "{\"deep\":");
        memset(text + used, '[', levels);
        used += levels;
        memset(text + used, ']', levels);
        used += levels;
        strcpy(text + used, ",\"kind\":\"k\"}");
        expect_events(text, "b0;v10:=k;e0;");
        free(text);
        /* strings are bytes: invalid UTF-8 in a read field is delivered as it is */
        expect_events("{\"name\":\"\xc3\x28\xff\"}", "b0;v1:=\xc3\x28\xff;e0;");
}

static void test_shapes(void **state)
{
        expect_refused("[]", "'doc' is not an object");
        expect_refused("\"x\"", "'doc' is not an object");
        expect_refused("7", "'doc' is not an object");
        expect_refused("{\"name\":7}", "'doc.name' is not a string");
        expect_refused("{\"name\":{}}", "'doc.name' is not a string");
        expect_refused("{\"name\":[\"x\"]}", "'doc.name' is not a string");
        expect_refused("{\"name\":true}", "'doc.name' is not a string");
        expect_refused("{\"count\":\"7\"}", "'doc.count' is not an integer");
        expect_refused("{\"count\":1.0}", "'doc.count' is not an integer");
        expect_refused("{\"count\":1e3}", "'doc.count' is not an integer");
        expect_refused("{\"count\":false}", "'doc.count' is not an integer");
        expect_refused("{\"items\":{}}", "'doc.items' is not an array");
        expect_refused("{\"items\":[{},\"x\"]}", "'doc.items[1]' is not an object");
        expect_refused("{\"items\":[{},{},{\"name\":1}]}", "'doc.items[2].name' is not a string");
        expect_refused("{\"items\":[{\"tags\":[\"a\",{}]}]}",
                       "'doc.items[0].tags[]' is not a string");
        expect_refused("{\"labels\":[]}", "'doc.labels' is not an object");
        expect_refused("{\"labels\":{\"a\":\"x\",\"b\":1}}",
                       "'doc.labels' value of key 'b' is not a string");
        expect_refused("{\"labels\":{\"b\":[]}}", "'doc.labels' value of key 'b' is not a string");
        /* a NUL in a string field that is not a map value */
        expect_refused("{\"name\":\"a\\u0000\"}", "'doc.name' contains a NUL character");
        expect_refused("{\"items\":[{},{\"tags\":[\"\\u0000\"]}]}",
                       "'doc.items[1].tags[]' contains a NUL character");
        /* the whole document must be valid JSON */
        expect_refused("", "the doc is not valid JSON");
        expect_refused("{", "the doc is not valid JSON");
        expect_refused("{} x", "the doc is not valid JSON");
        expect_refused("{}\"", "trailing garbage");
        expect_refused("{\"x\":[1e400,]}", "the doc is not valid JSON");
        expect_refused("{\"x\":'a'}", "the doc is not valid JSON");
        expect_refused("{/* c */}", "the doc is not valid JSON");
}

/* The array index in messages and json_reader_path. */
static void test_paths(void **state)
{
        struct events ev;
        struct shm_error e = {0};
        assert_int_equal(
            read_text("{\"items\":[{},{\"x\":[1,{}]},null,{\"tags\":[],\"name\":\"n\"}]}", &ev, &e),
            0);
        assert_string_equal(ev.path, "doc.items[3].name");
        /* a small buffer is cut, NUL-terminated */
        char small[8];
        struct json_reader r = {.fields = table, .n_fields = sizeof(table) / sizeof(table[0])};
        assert_ptr_equal(json_reader_path(&r, T_COUNT, small, sizeof(small)), small);
        assert_string_equal(small, "doc.cou");
        assert_string_equal(json_reader_path(&r, T_ITEM_NAME, ev.path, sizeof(ev.path)),
                            "doc.items[0].name");
}

/* Go's encoding/json matches a key to a field case-insensitively: refuse those keys. */
static void test_case_variants(void **state)
{
        expect_refused("{\"Name\":\"x\"}",
                       "'doc' has key 'Name', which runc reads as 'name' and crun ignores; "
                       "refusing the ambiguous config");
        expect_refused("{\"name\":\"x\",\"NAME\":\"y\"}", "key 'NAME'");
        expect_refused("{\"COUNT\":1}", "which runc reads as 'count'");
        expect_refused("{\"items\":[{\"Tags\":[]}]}", "'doc.items[0]' has key 'Tags'");
        expect_refused("{\"\xe2\x84\xaaind\":\"x\"}", "which runc reads as 'kind'");
        expect_refused("{\"KIND\":\"x\"}", "which runc reads as 'kind'");
        expect_refused("{\"name\":\"x\",\"name\":\"y\"}", "'doc' has key 'name' twice");
        expect_refused("{\"items\":[],\"items\":[]}", "has key 'items' twice");
        expect_refused("{\"items\":[{\"name\":\"a\",\"name\":\"b\"}]}",
                       "'doc.items[0]' has key 'name' twice");
        /* repeats of a null field count too: the runtime saw the key */
        expect_refused("{\"name\":null,\"name\":\"y\"}", "has key 'name' twice");
        /* the same field in two elements is not a repeat; map keys fold nothing */
        expect_events("{\"items\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"labels\":{\"NAME\":\"c\"}}",
                      "b0;b3;b4;v5:=a;e4;b4;v5:=b;e4;e3;b8;v9:NAME=c;e8;e0;");
        /* keys that do not fold to a field are skipped */
        expect_events("{\"nam\":1,\"names\":2,\"n\xc3\xa1me\":3,\"na\\u006de\":\"esc\"}",
                      "b0;v1:=esc;e0;");
}

static void test_key_folds(void **state)
{
        static const struct {
                const char *key, *field;
                bool folds;
        } cases[] = {
            {"path", "path", true},
            {"Path", "path", true},
            {"PATH", "path", true},
            {"pAtH", "path", true},
            {"Image-Name", "image-name", true},
            {"IMAGE-NAME", "image-name", true},
            {"ID", "id", true},
            {"id", "ID", true},
            {"pat", "path", false},
            {"paths", "path", false},
            {"", "path", false},
            {"", "", true},
            {"image_name", "image-name", false},
            {"imagename", "image-name", false},
            /* only letters fold: '-' | 0x20 is '-' but '\r' | 0x20 is '-' too */
            {"image\rname", "image-name", false},
            {"[", "{", false},
            {"@", "`", false},
            {"1", "1", true},
            /* U+017F LATIN SMALL LETTER LONG S folds to s, U+212A KELVIN SIGN to k */
            {"\xc5\xbfource", "source", true},
            {"\xc5\xbfOURCE", "source", true},
            {"re\xc5\xbfource\xc5\xbf", "resources", true},
            {"\xe2\x84\xaaind", "kind", true},
            {"\xe2\x84\xaa", "K", true},
            {"\xc5\xbf", "S", true},
            {"\xc5\xbfource", "tource", false},
            {"\xe2\x84\xaaind", "mind", false},
            {"\xc5", "s", false},
            {"\xe2\x84", "k", false},
            {"\xc5\xbf", "", false},
            /* other non-ASCII letters do not fold (U+0130, U+0131: Go folds them to nothing ASCII)
             */
            {"\xc4\xb1"
             "d",
             "id", false},
            {"\xc4\xb0"
             "D",
             "id", false},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                if (json_key_folds_to(cases[i].key, strlen(cases[i].key), cases[i].field) !=
                    cases[i].folds)
                        fail_msg("'%s' %s '%s'", cases[i].key,
                                 cases[i].folds ? "should fold to" : "should not fold to",
                                 cases[i].field);
        /* the length, not a NUL, ends the key */
        assert_true(json_key_folds_to("pathX", 4, "path"));
        assert_false(json_key_folds_to("pa\0h", 4, "path"));
}

static void test_integers(void **state)
{
        static const struct {
                const char *text;
                int r;
                long long value;
        } cases[] = {
            {"0", 0, 0},
            {"-0", 0, 0},
            {"42", 0, 42},
            {"-4863", 0, -4863},
            {"9223372036854775807", 0, 9223372036854775807LL},
            {"-9223372036854775807", 0, -9223372036854775807LL},
            {"9223372036854775808", -ERANGE, 0},
            {"18446744073709551616", -ERANGE, 0},
            {"99999999999999999999999", -ERANGE, 0},
            {"", -EINVAL, 0},
            {"-", -EINVAL, 0},
            {"+1", -EINVAL, 0},
            {"1.5", -EINVAL, 0},
            {"1e3", -EINVAL, 0},
            {" 1", -EINVAL, 0},
            {"1 ", -EINVAL, 0},
            {"0x10", -EINVAL, 0},
            {"--1", -EINVAL, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                long long v = 12345;
                int r = json_integer_value(cases[i].text, strlen(cases[i].text), &v);
                if (r != cases[i].r)
                        fail_msg("'%s': %d, want %d", cases[i].text, r, cases[i].r);
                if (r == 0 && v != cases[i].value)
                        fail_msg("'%s': %lld, want %lld", cases[i].text, v, cases[i].value);
                if (r < 0 && v != 12345)
                        fail_msg("'%s': value changed on failure", cases[i].text);
        }
        /* the length bounds the text */
        long long v;
        assert_int_equal(json_integer_value("123abc", 3, &v), 0);
        assert_int_equal(v, 123);
        /* an integer field out of range is still delivered: the caller decides */
        expect_events("{\"count\":123456789012345678901234567890}",
                      "b0;v2:=123456789012345678901234567890;e0;");
}

/* A callback ends the read: an error with its message, or JSON_READER_STOP. */
static void test_callbacks(void **state)
{
        struct events ev;
        struct shm_error e = {0};

        static const char fail_text[] = "{\"name\":\"a\",\"kind\":\"bad\",\"count\":1}";
        memset(&ev, 0, sizeof(ev));
        ev.stop_at_field = -2;
        ev.fail_at_field = T_KIND;
        assert_int_equal(json_read_buffer(table, sizeof(table) / sizeof(table[0]), &ops, &ev,
                                          "the doc", fail_text, strlen(fail_text), &e),
                         -EPERM);
        assert_string_equal(e.message, "refused 'bad'");
        assert_string_equal(ev.log, "b0;v1:=a;v10:=bad;");

        /* STOP on a value: nothing after it is read, not even the garbage */
        static const char stop_value[] = "{\"name\":\"a\",\"kind\":\"k\",\"count\":1} garbage";
        memset(&ev, 0, sizeof(ev));
        ev.fail_at_field = -2;
        ev.stop_at_field = T_KIND;
        assert_int_equal(json_read_buffer(table, sizeof(table) / sizeof(table[0]), &ops, &ev,
                                          "the doc", stop_value, strlen(stop_value), &e),
                         0);
        assert_string_equal(ev.log, "b0;v1:=a;v10:=k;");

        /* STOP on an element's end: the rest of the array is unread, however broken */
        static const char stop_end[] = "{\"items\":[{\"name\":\"a\"},{\"name\":7}, nonsense";
        memset(&ev, 0, sizeof(ev));
        ev.fail_at_field = -2;
        ev.stop_at_field = T_ITEM;
        assert_int_equal(json_read_buffer(table, sizeof(table) / sizeof(table[0]), &ops, &ev,
                                          "the doc", stop_end, strlen(stop_end), &e),
                         0);
        assert_string_equal(ev.log, "b0;b3;b4;v5:=a;e4;");

        /* without STOP the same text is refused */
        expect_refused(stop_end, "'doc.items[1].name' is not a string");

        /* only .value is required */
        static const struct json_reader_ops value_only = {.value = on_value};
        static const char items_text[] = "{\"items\":[{\"name\":\"a\"}]}";
        memset(&ev, 0, sizeof(ev));
        ev.stop_at_field = ev.fail_at_field = -2;
        assert_int_equal(json_read_buffer(table, sizeof(table) / sizeof(table[0]), &value_only, &ev,
                                          "the doc", items_text, strlen(items_text), &e),
                         0);
        assert_string_equal(ev.log, "v5:=a;");
}

/* json_read_fd: the same events from a file read in pieces, bounded by max. */
static void test_read_fd(void **state)
{
        char *dir = unit_mkdtemp();
        size_t cap = 3 * JSON_STREAM_PIECE, used;
        char *text = malloc(cap);
        struct events ev;
        struct shm_error e = {0};
        assert_non_null(text);

        used = (size_t)snprintf(text, cap, "{\"x\":\"");
        while (used < JSON_STREAM_PIECE + JSON_STREAM_PIECE / 2)
                text[used++] = 'a';
        used += (size_t)snprintf(text + used, cap - used,
                                 "\",\"labels\":{\"k\":\"v\"},\"name\":\"cut-%05d\"}\n", 7);
        unit_write_len(dir, "doc.json", text, used);
        char *path = unit_path(dir, "doc.json");

        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        memset(&ev, 0, sizeof(ev));
        ev.stop_at_field = ev.fail_at_field = -2;
        assert_int_equal(json_read_fd(table, sizeof(table) / sizeof(table[0]), &ops, &ev, "the doc",
                                      fd, used, &e),
                         0);
        assert_string_equal(ev.log, "b0;b8;v9:k=v;e8;v1:=cut-00007;e0;");
        close(fd);

        /* one byte over max */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        memset(&ev, 0, sizeof(ev));
        ev.stop_at_field = ev.fail_at_field = -2;
        assert_int_equal(json_read_fd(table, sizeof(table) / sizeof(table[0]), &ops, &ev, "the doc",
                                      fd, used - 1, &e),
                         -EFBIG);
        assert_contains(e.message, "the doc is larger than");
        close(fd);

        /* STOP in the first piece: later pieces are never read, broken or not */
        used = (size_t)snprintf(text, cap, "{\"kind\":\"k\",\"x\":\"");
        while (used < 2 * JSON_STREAM_PIECE)
                text[used++] = 'b';
        memcpy(text + used, "\0\0\0 not json", 12);
        unit_write_len(dir, "doc.json", text, used + 12);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        memset(&ev, 0, sizeof(ev));
        ev.fail_at_field = -2;
        ev.stop_at_field = T_KIND;
        assert_int_equal(json_read_fd(table, sizeof(table) / sizeof(table[0]), &ops, &ev, "the doc",
                                      fd, cap, &e),
                         0);
        assert_string_equal(ev.log, "b0;v10:=k;");
        close(fd);

        /* a truncated file */
        unit_write(dir, "doc.json", "{\"name\":\"a\"");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(json_read_fd(table, sizeof(table) / sizeof(table[0]), &ops, &ev, "the doc",
                                      fd, cap, &e),
                         -EINVAL);
        assert_contains(e.message, "the doc is not valid JSON");
        close(fd);

        free(path);
        free(text);
        unit_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fields),        cmocka_unit_test(test_skipped),
            cmocka_unit_test(test_shapes),        cmocka_unit_test(test_paths),
            cmocka_unit_test(test_case_variants), cmocka_unit_test(test_key_folds),
            cmocka_unit_test(test_integers),      cmocka_unit_test(test_callbacks),
            cmocka_unit_test(test_read_fd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
