/*
 * llm_agent_tool.h: the canonical-ABI glue for a C tool of `llm-agent:tool/tool@0.1.0`, or of
 * `@0.2.0` when the tool defines LLM_AGENT_TOOL_0_2 before including it (and embeds
 * wit-lib/tool-0.2/tool.wit). 0.2's `param` types what 0.1 writes as a JSON Schema fragment:
 *
 *   {LAT_STR("op"), LAT_STR("What to do"), LAT_TYPE_STRING, true,
 *    LAT_LIST(OP_CHOICES), LAT_NO_BOUND, LAT_NO_BOUND}
 *   {LAT_STR("count"), LAT_STR("How many"), LAT_TYPE_INTEGER, false,
 *    LAT_NO_CHOICES, LAT_BOUND(1), LAT_BOUND(10)}
 *
 * No wit-bindgen for C is reachable in this project, so the lowering and lifting for our one
 * small interface (wit-lib/tool/tool.wit) is written here once and shared by every C tool.
 * It provides the core-wasm exports a component of `tool-world` needs:
 *
 *   cabi_realloc                                         the allocator the host lowers into
 *   llm-agent:tool/tool@0.x.0#get-metadata               -> pointer to a `metadata` record
 *   llm-agent:tool/tool@0.x.0#execute                    (args ptr, args len) -> pointer to a
 *                                                        `result<string, string>`
 *   cabi_post_llm-agent:tool/tool@0.x.0#execute          frees the returned string
 *
 * A tool includes this header in exactly one .c file, then defines
 *
 *   const lat_metadata lat_tool_metadata = { ... };      (static strings, see LAT_STR/LAT_LIST)
 *   void lat_tool_execute(const lat_args *args, lat_reply *reply);
 *
 * and answers with lat_reply_ok / lat_reply_err / lat_reply_errf. Arguments arrive already
 * validated by the host against the metadata (names known, required ones present, values in
 * canonical form), but a tool should still check what it relies on.
 *
 * Memory layout. On wasm32 a pointer and size_t are 32 bits, so these C structs have exactly
 * the canonical ABI layout (string = ptr,len: 8 bytes, align 4; records laid out in field
 * order with natural alignment); the static asserts below keep it that way. The metadata is
 * returned straight from static memory, so get-metadata needs no post-return.
 */
#ifndef LLM_AGENT_TOOL_H
#define LLM_AGENT_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A UTF-8 string: not NUL-terminated. */
typedef struct {
    const char *ptr;
    size_t len;
} lat_string;

#ifdef LLM_AGENT_TOOL_0_2
#define LAT__EXPORT(name) "llm-agent:tool/tool@0.2.0#" name

/* The `value-type` enum (a u8 in the canonical ABI). */
#define LAT_TYPE_STRING 0
#define LAT_TYPE_INTEGER 1
#define LAT_TYPE_NUMBER 2
#define LAT_TYPE_BOOLEAN 3

typedef struct {
    const lat_string *ptr;
    size_t len;
} lat_string_list;

/* option<f64>: the discriminant byte, the value at offset 8. */
typedef struct {
    bool is_some;
    double value;
} lat_bound;

typedef struct {
    lat_string name;
    lat_string description;
    uint8_t type; /* LAT_TYPE_* */
    bool required;
    lat_string_list choices; /* a string parameter's allowed values (LAT_LIST), or none */
    lat_bound minimum;       /* inclusive bounds of integer and number parameters */
    lat_bound maximum;
} lat_param;

#define LAT_NO_CHOICES {NULL, 0}
#define LAT_NO_BOUND {false, 0.0}
#define LAT_BOUND(number) {true, (double)(number)}

_Static_assert(sizeof(lat_param) == 64 && offsetof(lat_param, required) == 17 &&
                   offsetof(lat_param, choices) == 20 && offsetof(lat_param, minimum) == 32 &&
                   offsetof(lat_param, maximum) == 48,
               "param layout (0.2)");
_Static_assert(sizeof(lat_bound) == 16 && offsetof(lat_bound, value) == 8, "option<f64> layout");
#else
#define LAT__EXPORT(name) "llm-agent:tool/tool@0.1.0#" name

typedef struct {
    lat_string name;
    lat_string description;
    lat_string type; /* "string", "integer", "number" or "boolean", or a JSON Schema fragment
                      * that narrows it: LAT_STR("{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}"),
                      * LAT_STR("{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}") */
    bool required;
} lat_param;

_Static_assert(sizeof(lat_param) == 28 && offsetof(lat_param, required) == 24, "param layout");
#endif

typedef struct {
    lat_string user;
    lat_string assistant;
} lat_usage;

typedef struct {
    const lat_param *ptr;
    size_t len;
} lat_param_list;

typedef struct {
    const lat_usage *ptr;
    size_t len;
} lat_usage_list;

typedef struct {
    lat_string name;
    lat_string description;
    lat_string version;
    lat_param_list params;
    lat_usage_list usage;
} lat_metadata;

typedef struct {
    lat_string name;
    lat_string value;
} lat_arg;

typedef struct {
    const lat_arg *ptr;
    size_t len;
} lat_args;

/* What lat_tool_execute answers: set once with lat_reply_ok or lat_reply_err[f]. */
typedef struct {
    bool set;
    bool is_err;
    char *text; /* malloc'ed, owned until the post-return export frees it */
    size_t len;
} lat_reply;

/* The canonical ABI's `result<string, string>`: a u8 tag, then the payload at offset 4. */
typedef struct {
    uint8_t tag; /* 0 = ok, 1 = err */
    lat_string payload;
} lat__result_string;

_Static_assert(sizeof(void *) == 4, "llm_agent_tool.h targets wasm32");
_Static_assert(sizeof(lat_string) == 8, "string is (ptr, len)");
_Static_assert(sizeof(lat_usage) == 16, "usage layout");
_Static_assert(sizeof(lat_metadata) == 40 && offsetof(lat_metadata, usage) == 32,
               "metadata layout");
_Static_assert(sizeof(lat_arg) == 16, "arg layout");
_Static_assert(offsetof(lat__result_string, payload) == 4, "result payload offset");

/* A static string literal as a lat_string initializer: LAT_STR("Echo"). */
#define LAT_STR(literal) {(literal), sizeof(literal) - 1}
/* A static array as a list initializer: LAT_LIST(PARAMS). */
#define LAT_LIST(array) {(array), sizeof(array) / sizeof((array)[0])}

/* Defined by the tool. */
extern const lat_metadata lat_tool_metadata;
void lat_tool_execute(const lat_args *args, lat_reply *reply);

/* The argument called `name`, or NULL when it was not passed. */
static inline const lat_string *lat_arg_get(const lat_args *args, const char *name) {
    size_t name_len = strlen(name);
    for (size_t i = 0; i < args->len; i++) {
        const lat_string *key = &args->ptr[i].name;
        if (key->len == name_len && memcmp(key->ptr, name, name_len) == 0) {
            return &args->ptr[i].value;
        }
    }
    return NULL;
}

static inline void lat__reply_set(lat_reply *reply, bool is_err, const char *text, size_t len) {
    if (reply->set) {
        return; /* the first answer wins */
    }
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }
    if (len) {
        memcpy(copy, text, len);
    }
    reply->set = true;
    reply->is_err = is_err;
    reply->text = copy;
    reply->len = len;
}

/* Answer with success and a copy of `len` bytes of UTF-8 `text`. */
static inline void lat_reply_ok(lat_reply *reply, const char *text, size_t len) {
    lat__reply_set(reply, false, text, len);
}

/* Answer with an error: a one-line message (a copy of the NUL-terminated `message`). */
static inline void lat_reply_err(lat_reply *reply, const char *message) {
    lat__reply_set(reply, true, message, strlen(message));
}

/* Answer with an error formatted like printf. */
__attribute__((format(printf, 2, 3))) static inline void lat_reply_errf(lat_reply *reply,
                                                                        const char *format, ...) {
    char buffer[512];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buffer, sizeof buffer, format, ap);
    va_end(ap);
    if (n < 0) {
        lat_reply_err(reply, "error message could not be formatted");
        return;
    }
    lat_reply_err(reply, buffer);
}

/* ---- the exports: nothing below is called by the tool itself ---- */

/* The allocator the host uses to pass arguments. Allocation failure traps, as the canonical
 * ABI expects; the host bounds what it passes. */
__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *ptr, size_t old_size,
                                                                 size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) {
        return (void *)align; /* a valid, never-dereferenced pointer for an empty value */
    }
    void *result = realloc(ptr, new_size); /* malloc aligns to 16, enough for any WIT type */
    if (result == NULL) {
        abort();
    }
    return result;
}

__attribute__((export_name(LAT__EXPORT("get-metadata")))) const lat_metadata *
lat__export_get_metadata(void) {
    return &lat_tool_metadata;
}

static lat__result_string lat__execute_return;

static void lat__free_owned(const void *ptr, size_t len) {
    if (len) { /* empty values were "allocated" by cabi_realloc without malloc */
        free((void *)ptr);
    }
}

__attribute__((export_name(LAT__EXPORT("execute")))) lat__result_string *
lat__export_execute(lat_arg *ptr, size_t len) {
    lat_args args = {ptr, len};
    lat_reply reply = {0};
    lat_tool_execute(&args, &reply);
    /* Lowered arguments belong to the callee: free them now that the tool is done. */
    for (size_t i = 0; i < len; i++) {
        lat__free_owned(ptr[i].name.ptr, ptr[i].name.len);
        lat__free_owned(ptr[i].value.ptr, ptr[i].value.len);
    }
    lat__free_owned(ptr, len);
    if (!reply.set) {
        lat_reply_err(&reply, "the tool returned no result");
    }
    /* Anything the tool printed must reach the host's stdout before the call returns. */
    fflush(stdout);
    fflush(stderr);
    lat__execute_return.tag = reply.is_err ? 1 : 0;
    lat__execute_return.payload.ptr = reply.text;
    lat__execute_return.payload.len = reply.len;
    return &lat__execute_return;
}

__attribute__((export_name("cabi_post_" LAT__EXPORT("execute")))) void
lat__post_execute(lat__result_string *ret) {
    free((void *)ret->payload.ptr); /* always malloc'ed by lat__reply_set, even when empty */
    ret->payload.ptr = NULL;
    ret->payload.len = 0;
}

#endif /* LLM_AGENT_TOOL_H */
