/* The C guest of inventory.wit, with the canonical ABI written out by hand (wasm32: pointers
 * and size_t are 32 bits). Flattened parameters: a record is its fields, an enum an i32, an
 * option<u32> (discriminant, value), a list<s32> (pointer, length) allocated by the host through
 * cabi_realloc. A result<s64, string> is returned through a pointer to static memory: the
 * discriminant byte at 0 and the payload at 8. Returned strings are static (no post-return). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__attribute__((export_name("cabi_realloc"))) void *cabi_realloc(void *ptr, size_t old_size,
                                                                 size_t align, size_t new_size) {
    (void)old_size;
    if (new_size == 0) {
        return (void *)align;
    }
    void *result = realloc(ptr, new_size);
    if (result == NULL) {
        abort();
    }
    return result;
}

static const uint64_t PER_UNIT[] = {1, 12, 480};

__attribute__((export_name("test:inventory/stock@0.2.0#pieces")))
uint64_t pieces(uint32_t sku, uint32_t count, uint32_t unit) {
    (void)sku;
    return (uint64_t)count * PER_UNIT[unit];
}

static struct {
    uint8_t tag;
    uint8_t pad[7];
    union {
        int64_t ok;
        struct {
            const char *ptr;
            uint32_t len;
        } err;
    } payload;
} TOTAL;
_Static_assert(sizeof(TOTAL) == 16, "result<s64, string> is 16 bytes");

static const char EMPTY[] = "no values to add";

__attribute__((export_name("test:inventory/stock@0.2.0#total")))
void *total(int32_t *values, uint32_t len) {
    int64_t sum = 0;
    for (uint32_t i = 0; i < len; i++) {
        sum += values[i];
    }
    if (len > 0) {
        free(values);
    }
    if (len == 0) {
        TOTAL.tag = 1;
        TOTAL.payload.err.ptr = EMPTY;
        TOTAL.payload.err.len = sizeof(EMPTY) - 1;
    } else {
        TOTAL.tag = 0;
        TOTAL.payload.ok = sum;
    }
    return &TOTAL;
}

__attribute__((export_name("test:inventory/stock@0.2.0#or-default")))
uint32_t or_default(uint32_t is_some, uint32_t value, uint32_t fallback) {
    return is_some ? value : fallback;
}

static struct {
    const char *ptr;
    uint32_t len;
} TEXT;

static void *text(const char *value) {
    TEXT.ptr = value;
    TEXT.len = (uint32_t)strlen(value);
    return &TEXT;
}

static const char *const UNIT_NAMES[] = {"piece", "box", "pallet"};

__attribute__((export_name("test:inventory/stock@0.2.0#describe")))
void *describe_item(uint32_t sku, uint32_t count, uint32_t unit) {
    static char line[64];
    char *at = line;
    const char *name = UNIT_NAMES[unit];
    at += sizeof("sku ") - 1;
    memcpy(line, "sku ", 4);
    char digits[12];
    int n = 0;
    do {
        digits[n++] = (char)('0' + sku % 10);
        sku /= 10;
    } while (sku > 0);
    while (n > 0) {
        *at++ = digits[--n];
    }
    *at++ = ':';
    *at++ = ' ';
    n = 0;
    do {
        digits[n++] = (char)('0' + count % 10);
        count /= 10;
    } while (count > 0);
    while (n > 0) {
        *at++ = digits[--n];
    }
    *at++ = ' ';
    strcpy(at, name);
    return text(line);
}

__attribute__((export_name("describe"))) void *describe(void) { return text("inventory 0.2.0"); }
