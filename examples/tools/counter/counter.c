/* Counter: counts in the host's key-value memory (llm-agent:memory/store), so that a count
 * survives between calls and runs. A small C example of the memory capability. */
#include "llm_agent_tool.h"
#include "llm_agent_memory.h"

static const lat_param PARAMS[] = {
    {LAT_STR("op"), LAT_STR("increment, read or reset"),
     LAT_STR("{\"type\":\"string\",\"enum\":[\"increment\",\"read\",\"reset\"]}"), true},
    {LAT_STR("name"), LAT_STR("Which counter"), LAT_STR("string"), true},
};

static const lat_usage USAGE[] = {
    {LAT_STR("Count one more visit"), LAT_STR("USE_TOOL: Counter, op=increment, name=<name>")},
};

const lat_metadata lat_tool_metadata = {
    LAT_STR("Counter"), LAT_STR("Named counters that persist: increment, read or reset one"),
    LAT_STR("0.1.0"), LAT_LIST(PARAMS), LAT_LIST(USAGE),
};

#define MAX_NAME 64

static bool same(const lat_string *s, const char *literal) {
    return s->len == strlen(literal) && memcmp(s->ptr, literal, s->len) == 0;
}

static long read_count(const char *key, size_t key_len) {
    lam_string stored;
    if (!lam_get(key, key_len, &stored)) {
        return 0;
    }
    char digits[24] = {0};
    size_t n = stored.len < sizeof(digits) - 1 ? stored.len : sizeof(digits) - 1;
    memcpy(digits, stored.ptr, n);
    lam_string_free(&stored);
    return strtol(digits, NULL, 10);
}

void lat_tool_execute(const lat_args *args, lat_reply *reply) {
    const lat_string *op = lat_arg_get(args, "op");
    const lat_string *name = lat_arg_get(args, "name");
    if (op == NULL || name == NULL || name->len == 0 || name->len > MAX_NAME) {
        lat_reply_err(reply, "op and name (1 to 64 bytes) are required");
        return;
    }
    char key[MAX_NAME + 9];
    int key_len = snprintf(key, sizeof(key), "counter:%.*s", (int)name->len, name->ptr);
    long count = read_count(key, (size_t)key_len);
    if (same(op, "increment") || same(op, "reset")) {
        count = same(op, "reset") ? 0 : count + 1;
        char text[24];
        int text_len = snprintf(text, sizeof(text), "%ld", count);
        lam_string why;
        if (!lam_set(key, (size_t)key_len, text, (size_t)text_len, &why)) {
            lat_reply_errf(reply, "cannot store the count: %.*s", (int)why.len, why.ptr);
            lam_string_free(&why);
            return;
        }
    } else if (!same(op, "read")) {
        lat_reply_err(reply, "op must be increment, read or reset");
        return;
    }
    char out[96];
    int out_len = snprintf(out, sizeof(out), "%.*s = %ld", (int)name->len, name->ptr, count);
    lat_reply_ok(reply, out, (size_t)out_len);
}
