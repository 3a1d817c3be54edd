/*
 * llm_agent_memory.h: the canonical-ABI glue for importing `llm-agent:memory/store@0.1.0`
 * (wit-lib/memory/memory.wit) from a C tool. Include it after llm_agent_tool.h (whose
 * cabi_realloc the host uses to hand strings back) and build the tool for `memory-tool-world`.
 *
 *   lam_string note;
 *   if (lam_get(LAM_KEY("user_name"), &note)) { ...; lam_string_free(&note); }
 *   lam_string why;
 *   if (!lam_set(LAM_KEY("user_name"), value, value_len, &why)) { ...; lam_string_free(&why); }
 *
 * Strings the host returns are malloc'ed in the guest (through cabi_realloc): the caller owns
 * them and frees them with lam_string_free / lam_keys_free.
 *
 * Core signatures (wasm32; a string is ptr,len; results wider than one value go through a
 * return area the caller provides):
 *   get(key)        (i32 ptr, i32 len, i32 ret)        ret: u8 is_some @0, string @4
 *   set(key, value) (i32, i32, i32, i32, i32 ret)      ret: u8 is_err @0, string @4
 *   remove(key)     (i32 ptr, i32 len) -> i32          bool
 *   keys()          (i32 ret)                          ret: list<string> ptr @0, len @4
 */
#ifndef LLM_AGENT_MEMORY_H
#define LLM_AGENT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LAM_MODULE "llm-agent:memory/store@0.1.0"

/* A string the host returned: owned by the caller. */
typedef struct {
    char *ptr;
    size_t len;
} lam_string;

/* A key from a string literal: LAM_KEY("name") expands to its pointer and length. */
#define LAM_KEY(literal) (literal), (sizeof(literal) - 1)

typedef struct {
    uint8_t tag;
    lam_string payload;
} lam__option_or_result;

_Static_assert(sizeof(lam__option_or_result) == 12, "option<string>/result<_, string> layout");
_Static_assert(sizeof(lam_string) == 8, "string layout");

__attribute__((import_module(LAM_MODULE), import_name("get"))) void
lam__import_get(const char *key, size_t key_len, lam__option_or_result *ret);

__attribute__((import_module(LAM_MODULE), import_name("set"))) void
lam__import_set(const char *key, size_t key_len, const char *value, size_t value_len,
                lam__option_or_result *ret);

__attribute__((import_module(LAM_MODULE), import_name("remove"))) int32_t
lam__import_remove(const char *key, size_t key_len);

typedef struct {
    lam_string *ptr;
    size_t len;
} lam__list;

__attribute__((import_module(LAM_MODULE), import_name("keys"))) void
lam__import_keys(lam__list *ret);

static inline void lam_string_free(lam_string *s) {
    if (s->len) { /* an empty string was "allocated" by cabi_realloc without malloc */
        free(s->ptr);
    }
    s->ptr = NULL;
    s->len = 0;
}

/* The value under `key` into *out (owned); false when there is none. */
static inline bool lam_get(const char *key, size_t key_len, lam_string *out) {
    lam__option_or_result ret = {0};
    lam__import_get(key, key_len, &ret);
    if (!ret.tag) {
        return false;
    }
    *out = ret.payload;
    return true;
}

/* Store `value` under `key`; false with the host's reason in *err (owned) when refused. */
static inline bool lam_set(const char *key, size_t key_len, const char *value, size_t value_len,
                           lam_string *err) {
    lam__option_or_result ret = {0};
    lam__import_set(key, key_len, value, value_len, &ret);
    if (!ret.tag) {
        return true;
    }
    *err = ret.payload;
    return false;
}

/* Remove `key`; true when it was there. */
static inline bool lam_remove(const char *key, size_t key_len) {
    return lam__import_remove(key, key_len) != 0;
}

/* Every key (sorted) into *keys (owned); returns how many. */
static inline size_t lam_keys(lam_string **keys) {
    lam__list ret = {0};
    lam__import_keys(&ret);
    *keys = ret.ptr;
    return ret.len;
}

static inline void lam_keys_free(lam_string *keys, size_t count) {
    for (size_t i = 0; i < count; i++) {
        lam_string_free(&keys[i]);
    }
    if (count) {
        free(keys);
    }
}

#endif /* LLM_AGENT_MEMORY_H */
