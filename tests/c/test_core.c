/* The boundary conventions every entry point shares, seen from C. */
#include <string.h>

#include "check.h"

int main(void) {
    CHECK(pyrt_abi_version() == PYRT_ABI_VERSION);
    CHECK(strlen(pyrt_version()) >= 5);

    /* A failure returns a status and leaves a message naming the argument. */
    double prices[4] = {1.0, 2.0, 3.0, 4.0};
    double out[4] = {-1.0, -1.0, -1.0, -1.0};
    CHECK_STATUS(pyrt_sma(prices, 4, 0, out), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "window") != NULL);
    CHECK_STATUS(pyrt_sma(NULL, 4, 2, out), PYRT_NULL_POINTER);
    CHECK(strstr(pyrt_last_error_message(), "prices") != NULL);
    CHECK_STATUS(pyrt_sma(prices, 4, 2, NULL), PYRT_NULL_POINTER);
    CHECK(strstr(pyrt_last_error_message(), "out") != NULL);
    /* No partial success: the output was not touched by the failed calls. */
    CHECK(out[0] == -1.0 && out[3] == -1.0);

    CHECK_OK(pyrt_sma(prices, 4, 2, out));
    CHECK(isnan(out[0]));
    CHECK_CLOSE(out[3], 3.5, 0.0);
    CHECK_DONE("test_core");
}
