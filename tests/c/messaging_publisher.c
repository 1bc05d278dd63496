/* A C program publishing through pyrt's C API, driven by
 * tests/messaging_c_peer.py, which subscribes from Python.
 *
 * Prints "<publisher endpoint> <command endpoint>" on one line, waits for a
 * subscriber, publishes one message of each kind, then waits for the Python
 * side to confirm with a STOP_TRADING command (acknowledged) before exiting,
 * so nothing is cut off by the process ending. Exit status 0 on success. */
#include <stdio.h>
#include <string.h>

#include <pyrt.h>

#define WAIT_MS 20000

static int fail(const char *what) {
    fprintf(stderr, "messaging_publisher: %s failed: %s\n", what, pyrt_last_error_message());
    return 1;
}

int main(void) {
    PyrtPublisher *pub = NULL;
    PyrtCommandReceiver *commands = NULL;
    PyrtMessage *msg = NULL;
    char pub_endpoint[128], command_endpoint[128];
    size_t needed = 0;
    int status = 1;

    if (pyrt_publisher_new("tcp://127.0.0.1:*", PYRT_DEFAULT_HWM, &pub) != PYRT_OK) return fail("publisher_new");
    if (pyrt_command_receiver_new("tcp://127.0.0.1:*", &commands) != PYRT_OK) {
        status = fail("command_receiver_new");
        goto done;
    }
    if (pyrt_publisher_last_endpoint(pub, pub_endpoint, sizeof pub_endpoint, &needed) != PYRT_OK ||
        pyrt_command_receiver_last_endpoint(commands, command_endpoint, sizeof command_endpoint, &needed) != PYRT_OK) {
        status = fail("last_endpoint");
        goto done;
    }
    printf("%s %s\n", pub_endpoint, command_endpoint);
    fflush(stdout);

    if (pyrt_publisher_wait_for_subscribers(pub, 1, WAIT_MS) != PYRT_OK) {
        status = fail("wait_for_subscribers");
        goto done;
    }
    PyrtMarketTick tick = {"BTC/USD", 50000.25, 50000.75, 50000.5, 1.25, 1700000000000001, "C-Exchange"};
    PyrtFillReport fill = {"order-7", "fill-7", "ETH/USD", 2.5, 3000.125, -1, 0.5};
    PyrtPositionSnapshot position = {"BTC/USD", -0.5, 49000.0, 50000.5, -500.25, 12.5, 1700000000000002};
    const char *keys[3] = {"rsi", "macd", "z"};
    double values[3] = {71.5, -0.25, 3.0};
    PyrtTradingSignal signal = {"c-strategy", "BTC/USD", PYRT_TRADING_SIGNAL_BUY, 0.9, 2.0, 1700000000000003,
                                keys, values, 3};
    PyrtOrderRequest order = {"order-8", "BTC/USD", PYRT_ORDER_SIDE_BUY, 0.1, 0.0,
                              PYRT_ORDER_TYPE_MARKET, "c-strategy"};
    if (pyrt_publisher_publish_tick(pub, &tick) != PYRT_OK) { status = fail("publish_tick"); goto done; }
    if (pyrt_publisher_publish_fill(pub, &fill) != PYRT_OK) { status = fail("publish_fill"); goto done; }
    if (pyrt_publisher_publish_position(pub, &position) != PYRT_OK) { status = fail("publish_position"); goto done; }
    if (pyrt_publisher_publish_signal(pub, &signal) != PYRT_OK) { status = fail("publish_signal"); goto done; }
    if (pyrt_publisher_publish_order(pub, &order) != PYRT_OK) { status = fail("publish_order"); goto done; }

    if (pyrt_message_new(&msg) != PYRT_OK) { status = fail("message_new"); goto done; }
    if (pyrt_command_receiver_receive(commands, WAIT_MS, msg) != PYRT_OK) {
        status = fail("command_receiver_receive");
        goto done;
    }
    PyrtCommand command;
    if (pyrt_message_command(msg, &command) != PYRT_OK) { status = fail("message_command"); goto done; }
    if (command.command_type != PYRT_COMMAND_STOP_TRADING || strcmp(command.payload, "{\"received\": 5}") != 0) {
        fprintf(stderr, "messaging_publisher: unexpected command %d %s\n", command.command_type, command.payload);
        goto done;
    }
    status = 0;

done:
    pyrt_message_free(msg);
    pyrt_command_receiver_free(commands);
    pyrt_publisher_free(pub);
    return status;
}
