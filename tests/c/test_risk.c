/* Risk metrics through the C API; expected values from NumPy, SciPy and
 * empyrical on the same data. */
#include <math.h>
#include <string.h>

#include "check.h"

int main(void) {
    const double r[5] = {-0.02, 0.01, 0.03, -0.01, 0.005};
    double out = 0.0;

    /* -np.quantile([5, 1, 4, 2, 3], 0.05) = -1.2 */
    const double small[5] = {5.0, 1.0, 4.0, 2.0, 3.0};
    CHECK_OK(pyrt_calculate_var(small, 5, 0.95, PYRT_VAR_HISTORICAL, &out));
    CHECK_CLOSE(out, -1.2, 1e-12);
    CHECK_OK(pyrt_calculate_var(r, 5, 0.95, PYRT_VAR_PARAMETRIC, &out));
    CHECK_CLOSE(out, 0.02863939123964467, 1e-15);
    CHECK_OK(pyrt_calculate_var(r, 5, 0.95, PYRT_VAR_CORNISH_FISHER, &out));
    CHECK_CLOSE(out, 0.027822146807252243, 1e-14);
    CHECK_OK(pyrt_calculate_cvar(r, 5, 0.75, &out));
    CHECK_CLOSE(out, 0.015, 1e-15);
    CHECK_OK(pyrt_calculate_sharpe(r, 5, 0.0, 252.0, &out));
    CHECK_CLOSE(out, 2.475829099459356, 1e-12);
    CHECK_OK(pyrt_calculate_sortino(r, 5, 0.0, 252.0, &out));
    CHECK_CLOSE(out, 4.762352359916262, 1e-12);
    const double equity[5] = {100.0, 120.0, 90.0, 130.0, 117.0};
    CHECK_OK(pyrt_calculate_max_drawdown(equity, 5, &out));
    CHECK_CLOSE(out, 0.25, 0.0);
    CHECK_OK(pyrt_calculate_position_size(100000.0, 100.0, 95.0, 0.01, 1.0, &out));
    CHECK_CLOSE(out, 200.0, 0.0);

    /* Failures name the argument and leave the output alone. */
    out = -7.0;
    CHECK_STATUS(pyrt_calculate_var(r, 0, 0.95, PYRT_VAR_HISTORICAL, &out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "returns:", 8) == 0);
    CHECK_STATUS(pyrt_calculate_var(r, 5, 1.0, PYRT_VAR_HISTORICAL, &out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "confidence:", 11) == 0);
    CHECK_STATUS(pyrt_calculate_var(r, 5, 0.95, 42, &out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "method:", 7) == 0);
    CHECK_STATUS(pyrt_calculate_position_size(1000.0, 10.0, 10.0, 0.01, 1.0, &out), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "stop_price:", 11) == 0);
    CHECK_STATUS(pyrt_calculate_cvar(NULL, 5, 0.95, &out), PYRT_NULL_POINTER);
    CHECK(out == -7.0);
    CHECK_DONE("test_risk");
}
