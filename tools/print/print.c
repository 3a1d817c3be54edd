/* Print: writes its message to WASI stdout, proving that the sandbox's stdout reaches the
 * runner (which captures it); the seed had the same tool for the same reason. */
#include "llm_agent_tool.h"

static const lat_param PARAMS[] = {
    {LAT_STR("message"), LAT_STR("Text to print to standard output"), LAT_STR("string"), true},
};

static const lat_usage USAGE[] = {
    {LAT_STR("Print 'hello world' to the console"),
     LAT_STR("USE_TOOL: Print, message=hello world")},
    {LAT_STR("Print the line: one, two, three"),
     LAT_STR("USE_TOOL: Print, message=\"one, two, three\"")},
};

const lat_metadata lat_tool_metadata = {
    LAT_STR("Print"),
    LAT_STR("Prints the message to stdout and says how many bytes it wrote"),
    LAT_STR("0.1.0"),
    LAT_LIST(PARAMS),
    LAT_LIST(USAGE),
};

void lat_tool_execute(const lat_args *args, lat_reply *reply) {
    const lat_string *message = lat_arg_get(args, "message");
    if (message == NULL) {
        lat_reply_err(reply, "missing required parameter 'message'");
        return;
    }
    size_t written = fwrite(message->ptr, 1, message->len, stdout);
    if (written == message->len) {
        written += fwrite("\n", 1, 1, stdout);
    }
    if (fflush(stdout) != 0 || written != message->len + 1) {
        lat_reply_err(reply, "could not write to standard output");
        return;
    }
    char text[64];
    int n = snprintf(text, sizeof text, "printed %zu bytes to stdout", written);
    lat_reply_ok(reply, text, (size_t)n);
}
