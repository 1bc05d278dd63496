/* Links an installed pyrt through find_package and calls it. */
#include <stdio.h>
#include <string.h>
#include <pyrt.h>

int main(void) {
    if (pyrt_abi_version() != PYRT_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: %u vs %u\n", pyrt_abi_version(), (unsigned)PYRT_ABI_VERSION);
        return 1;
    }
    double prices[5] = {1, 2, 3, 4, 5};
    double out[5];
    if (pyrt_sma(prices, 5, 2, out) != PYRT_OK) {
        fprintf(stderr, "pyrt_sma failed: %s\n", pyrt_last_error_message());
        return 1;
    }
    if (out[1] != 1.5 || out[4] != 4.5) {
        fprintf(stderr, "unexpected sma: %g %g\n", out[1], out[4]);
        return 1;
    }
    printf("pyrt %s linked through find_package: sma ok\n", pyrt_version());
    return 0;
}
