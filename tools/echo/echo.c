/* Echo: returns the value it is given. The seed's first tool, in C through the seed's flow. */
#include "llm_agent_tool.h"

static const lat_param PARAMS[] = {
    {LAT_STR("value"), LAT_STR("Value to be echoed"), LAT_STR("string"), true},
};

static const lat_usage USAGE[] = {
    {LAT_STR("Please echo back 'hello'"), LAT_STR("USE_TOOL: Echo, value=hello")},
    {LAT_STR("Repeat after me: red, green, blue"),
     LAT_STR("USE_TOOL: Echo, value=\"red, green, blue\"")},
};

const lat_metadata lat_tool_metadata = {
    LAT_STR("Echo"), LAT_STR("Echos the passed in value"), LAT_STR("0.1.0"),
    LAT_LIST(PARAMS), LAT_LIST(USAGE),
};

void lat_tool_execute(const lat_args *args, lat_reply *reply) {
    const lat_string *value = lat_arg_get(args, "value");
    if (value == NULL) {
        lat_reply_err(reply, "missing required parameter 'value'");
        return;
    }
    lat_reply_ok(reply, value->ptr, value->len);
}
