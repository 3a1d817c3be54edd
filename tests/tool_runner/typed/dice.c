/* Dice: a C tool of llm-agent:tool@0.2.0 (typed choices and bounds), for the tests. */
#define LLM_AGENT_TOOL_0_2
#include "llm_agent_tool.h"

static const lat_string KINDS[] = {LAT_STR("d4"), LAT_STR("d6"), LAT_STR("d20")};

static const lat_param PARAMS[] = {
    {LAT_STR("kind"), LAT_STR("Which die"), LAT_TYPE_STRING, true, LAT_LIST(KINDS),
     LAT_NO_BOUND, LAT_NO_BOUND},
    {LAT_STR("count"), LAT_STR("How many dice"), LAT_TYPE_INTEGER, false, LAT_NO_CHOICES,
     LAT_BOUND(1), LAT_BOUND(10)},
    {LAT_STR("bias"), LAT_STR("Added to the total"), LAT_TYPE_NUMBER, false, LAT_NO_CHOICES,
     LAT_BOUND(-0.5), LAT_NO_BOUND},
};

static const lat_usage USAGE[] = {
    {LAT_STR("Roll three six-sided dice"), LAT_STR("USE_TOOL: Dice, kind=d6, count=3")},
};

const lat_metadata lat_tool_metadata = {
    LAT_STR("Dice"), LAT_STR("Describes a roll of dice"), LAT_STR("0.2.0"),
    LAT_LIST(PARAMS), LAT_LIST(USAGE),
};

void lat_tool_execute(const lat_args *args, lat_reply *reply) {
    const lat_string *kind = lat_arg_get(args, "kind");
    const lat_string *count = lat_arg_get(args, "count");
    if (kind == NULL) {
        lat_reply_err(reply, "missing required parameter 'kind'");
        return;
    }
    char line[64];
    int n = snprintf(line, sizeof line, "%.*s x %.*s", count ? (int)count->len : 1,
                     count ? count->ptr : "1", (int)kind->len, kind->ptr);
    lat_reply_ok(reply, line, n > 0 ? (size_t)n : 0);
}
