/* The messaging C API: publisher, subscriber, messages and the command
 * channel, over real sockets on 127.0.0.1, every wait bounded. */
#include <pthread.h>
#include <string.h>

#include "check.h"

#define WAIT_MS 5000

static void endpoint_of_publisher(const PyrtPublisher *pub, char *buf, size_t cap) {
    size_t needed = 0;
    CHECK_OK(pyrt_publisher_last_endpoint(pub, buf, cap, &needed));
    CHECK(needed == strlen(buf) + 1);
}

static void test_bad_arguments(void) {
    PyrtPublisher *pub = NULL;
    CHECK_STATUS(pyrt_publisher_new(NULL, PYRT_DEFAULT_HWM, &pub), PYRT_NULL_POINTER);
    CHECK(strstr(pyrt_last_error_message(), "endpoint") != NULL);
    CHECK_STATUS(pyrt_publisher_new("tcp://127.0.0.1:*", -1, &pub), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "sndhwm") != NULL);
    CHECK_STATUS(pyrt_publisher_new("tcp://127.0.0.1:*", 0, NULL), PYRT_NULL_POINTER);
    CHECK_STATUS(pyrt_publisher_new("nonsense", 0, &pub), PYRT_INVALID_ARGUMENT);
    CHECK_STATUS(pyrt_publisher_new("tcp://127.0.0.1:99999", 0, &pub), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "port") != NULL);
    CHECK(pub == NULL); /* no partial success */

    PyrtSubscriber *sub = NULL;
    const char *topics[1] = {"fills"};
    CHECK_STATUS(pyrt_subscriber_new("tcp://127.0.0.1:1", topics, 0, 0, &sub), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "topics") != NULL);
    CHECK_STATUS(pyrt_subscriber_new("tcp://127.0.0.1:1", NULL, 1, 0, &sub), PYRT_NULL_POINTER);
    CHECK(sub == NULL);

    CHECK_STATUS(pyrt_publisher_publish_tick(NULL, NULL), PYRT_NULL_POINTER);
    CHECK_STATUS(pyrt_subscriber_receive(NULL, 0, NULL), PYRT_NULL_POINTER);
    CHECK(pyrt_message_kind(NULL) == PYRT_MESSAGE_NONE);
    CHECK(pyrt_subscriber_decode_errors(NULL) == 0);
    size_t needed = 0;
    CHECK_STATUS(pyrt_subscriber_last_decode_error(NULL, NULL, 0, &needed), PYRT_NULL_POINTER);
    pyrt_subscriber_close(NULL);
    pyrt_publisher_free(NULL);
    pyrt_subscriber_free(NULL);
    pyrt_message_free(NULL);
    pyrt_command_sender_free(NULL);
    pyrt_command_receiver_free(NULL);
}

static void test_publish_and_receive_every_kind(void) {
    PyrtPublisher *pub = NULL;
    PyrtSubscriber *sub = NULL;
    PyrtMessage *msg = NULL;
    char endpoint[128];
    CHECK_OK(pyrt_publisher_new("tcp://127.0.0.1:*", PYRT_DEFAULT_HWM, &pub));
    if (!pub) return;
    endpoint_of_publisher(pub, endpoint, sizeof endpoint);

    /* Too small a buffer: the needed size, and nothing written. */
    char tiny[4] = "xyz";
    size_t needed = 0;
    CHECK_STATUS(pyrt_publisher_last_endpoint(pub, tiny, sizeof tiny, &needed), PYRT_BUFFER_TOO_SMALL);
    CHECK(needed == strlen(endpoint) + 1);
    CHECK(strcmp(tiny, "xyz") == 0);

    const char *topics[5] = {"market.BTC/USD", "fills", "positions", "signals", "orders"};
    CHECK_OK(pyrt_subscriber_new(endpoint, topics, 5, PYRT_DEFAULT_HWM, &sub));
    CHECK_OK(pyrt_message_new(&msg));
    CHECK_OK(pyrt_publisher_wait_for_subscribers(pub, 1, WAIT_MS));

    /* Nothing queued yet: a timeout, and an empty message. */
    CHECK_STATUS(pyrt_subscriber_receive(sub, 0, msg), PYRT_TIMEOUT);
    CHECK(pyrt_message_kind(msg) == PYRT_MESSAGE_NONE);

    PyrtMarketTick other = {"BTC/USDT", 1, 2, 3, 4, 5, "X"};
    PyrtMarketTick tick = {"BTC/USD", -1.5, 2.25, 2.0, 1e6, -42, "Zürich"};
    CHECK_OK(pyrt_publisher_publish_tick(pub, &other)); /* filtered out: exact topics */
    CHECK_OK(pyrt_publisher_publish_tick(pub, &tick));
    PyrtFillReport fill = {"o1", "f1", "ETH/USD", 2.5, 3000.5, 7, -0.25};
    CHECK_OK(pyrt_publisher_publish_fill(pub, &fill));
    PyrtPositionSnapshot position = {"SOL", -3.0, 20.0, 21.5, -4.5, 10.0, 99};
    CHECK_OK(pyrt_publisher_publish_position(pub, &position));
    const char *keys[2] = {"zeta", "alpha"};
    double values[2] = {-1.0, 0.5};
    PyrtTradingSignal signal = {"strat", "BTC/USD", PYRT_TRADING_SIGNAL_SELL, 0.75, 1.5, 11, keys, values, 2};
    CHECK_OK(pyrt_publisher_publish_signal(pub, &signal));
    PyrtOrderRequest order = {"o2", "AAPL", PYRT_ORDER_REQUEST_SELL, 100.0, 187.5, PYRT_ORDER_REQUEST_LIMIT, NULL};
    CHECK_OK(pyrt_publisher_publish_order(pub, &order));

    /* Refused before anything is sent. */
    PyrtOrderRequest bad_order = order;
    bad_order.side = 7;
    CHECK_STATUS(pyrt_publisher_publish_order(pub, &bad_order), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "side") != NULL);
    PyrtMarketTick no_symbol = tick;
    no_symbol.symbol = "";
    CHECK_STATUS(pyrt_publisher_publish_tick(pub, &no_symbol), PYRT_INVALID_ARGUMENT);
    const char *same_keys[2] = {"k", "k"};
    PyrtTradingSignal duplicate = signal;
    duplicate.feature_keys = same_keys;
    CHECK_STATUS(pyrt_publisher_publish_signal(pub, &duplicate), PYRT_INVALID_ARGUMENT);

    PyrtMarketTick t;
    CHECK_OK(pyrt_subscriber_receive(sub, WAIT_MS, msg));
    CHECK(pyrt_message_kind(msg) == PYRT_MESSAGE_MARKET_DATA);
    CHECK_OK(pyrt_message_market_tick(msg, &t));
    CHECK(strcmp(t.symbol, "BTC/USD") == 0 && strcmp(t.exchange, "Zürich") == 0);
    CHECK(t.bid == -1.5 && t.ask == 2.25 && t.last == 2.0 && t.volume == 1e6 && t.timestamp_us == -42);
    PyrtFillReport wrong;
    CHECK_STATUS(pyrt_message_fill_report(msg, &wrong), PYRT_INVALID_ARGUMENT);

    PyrtFillReport f;
    CHECK_OK(pyrt_subscriber_receive(sub, WAIT_MS, msg));
    CHECK_OK(pyrt_message_fill_report(msg, &f));
    CHECK(strcmp(f.order_id, "o1") == 0 && strcmp(f.fill_id, "f1") == 0 && strcmp(f.symbol, "ETH/USD") == 0);
    CHECK(f.filled_quantity == 2.5 && f.fill_price == 3000.5 && f.timestamp_us == 7 && f.commission == -0.25);

    PyrtPositionSnapshot p;
    CHECK_OK(pyrt_subscriber_receive(sub, WAIT_MS, msg));
    CHECK_OK(pyrt_message_position_snapshot(msg, &p));
    CHECK(strcmp(p.symbol, "SOL") == 0 && p.quantity == -3.0 && p.avg_entry_price == 20.0);
    CHECK(p.current_price == 21.5 && p.unrealized_pnl == -4.5 && p.realized_pnl == 10.0 && p.last_update_us == 99);

    PyrtTradingSignal s;
    CHECK_OK(pyrt_subscriber_receive(sub, WAIT_MS, msg));
    CHECK_OK(pyrt_message_trading_signal(msg, &s));
    CHECK(strcmp(s.strategy_id, "strat") == 0 && strcmp(s.symbol, "BTC/USD") == 0);
    CHECK(s.action == PYRT_TRADING_SIGNAL_SELL && s.confidence == 0.75 && s.suggested_quantity == 1.5);
    CHECK(s.timestamp_us == 11 && s.features_len == 2);
    if (s.features_len == 2) { /* sorted by key */
        CHECK(strcmp(s.feature_keys[0], "alpha") == 0 && s.feature_values[0] == 0.5);
        CHECK(strcmp(s.feature_keys[1], "zeta") == 0 && s.feature_values[1] == -1.0);
    }

    PyrtOrderRequest o;
    CHECK_OK(pyrt_subscriber_receive(sub, WAIT_MS, msg));
    CHECK_OK(pyrt_message_order_request(msg, &o));
    CHECK(strcmp(o.order_id, "o2") == 0 && strcmp(o.symbol, "AAPL") == 0 && strcmp(o.strategy_id, "") == 0);
    CHECK(o.side == PYRT_ORDER_REQUEST_SELL && o.order_type == PYRT_ORDER_REQUEST_LIMIT);
    CHECK(o.quantity == 100.0 && o.price == 187.5);

    CHECK_STATUS(pyrt_subscriber_receive(sub, 50, msg), PYRT_TIMEOUT);
    CHECK(pyrt_subscriber_decode_errors(sub) == 0);

    pyrt_message_free(msg);
    pyrt_subscriber_free(sub);
    pyrt_publisher_free(pub);
}

static void test_tick_records(void) {
    PyrtPublisher *pub = NULL;
    PyrtSubscriber *sub = NULL;
    char endpoint[128];
    CHECK_OK(pyrt_publisher_new("tcp://127.0.0.1:*", 0, &pub));
    if (!pub) return;
    endpoint_of_publisher(pub, endpoint, sizeof endpoint);
    const char *topics[1] = {"market."};
    CHECK_OK(pyrt_subscriber_new(endpoint, topics, 1, 0, &sub));
    CHECK_OK(pyrt_publisher_wait_for_subscribers(pub, 1, WAIT_MS));

    enum { N = 100 };
    static PyrtTickRecord sent[N], got[N];
    memset(sent, 0, sizeof sent);
    for (int i = 0; i < N; i++) {
        sent[i].timestamp_us = i;
        sent[i].bid = i * 0.5;
        sent[i].ask = -i * 0.25;
        sent[i].last = 1.0;
        sent[i].volume = 2.0;
        memcpy(sent[i].symbol, i % 2 ? "ETH/USD" : "BTC/USD", 7);
        memset(sent[i].exchange, 'E', PYRT_TICK_EXCHANGE_SIZE); /* full: no NUL */
    }
    CHECK_OK(pyrt_publisher_publish_tick_records(pub, sent, N));
    size_t total = 0, received = 0;
    for (int tries = 0; tries < 100 && total < N; tries++) {
        CHECK_OK(pyrt_subscriber_receive_ticks(sub, got + total, N - total, WAIT_MS, &received));
        total += received;
    }
    CHECK(total == N);
    CHECK(memcmp(sent, got, sizeof sent) == 0);
    CHECK(pyrt_subscriber_truncated(sub) == 0);

    CHECK_OK(pyrt_subscriber_receive_ticks(sub, got, N, 20, &received));
    CHECK(received == 0);
    CHECK_STATUS(pyrt_subscriber_receive_ticks(sub, got, N, 0, NULL), PYRT_NULL_POINTER);
    CHECK_STATUS(pyrt_subscriber_receive_ticks(sub, NULL, N, 0, &received), PYRT_NULL_POINTER);

    pyrt_subscriber_free(sub);
    pyrt_publisher_free(pub);
}

struct receiver_job {
    PyrtCommandReceiver *receiver;
    PyrtStatus status;
    int command_type;
    char payload[64];
};

static void *receive_one(void *arg) {
    struct receiver_job *job = arg;
    PyrtMessage *msg = NULL;
    pyrt_message_new(&msg);
    job->status = pyrt_command_receiver_receive(job->receiver, WAIT_MS, msg);
    PyrtCommand command;
    if (job->status == PYRT_OK && pyrt_message_command(msg, &command) == PYRT_OK) {
        job->command_type = command.command_type;
        snprintf(job->payload, sizeof job->payload, "%s", command.payload);
    }
    pyrt_message_free(msg);
    return NULL;
}

static void test_commands(void) {
    PyrtCommandReceiver *receiver = NULL;
    PyrtCommandSender *sender = NULL;
    char endpoint[128];
    size_t needed = 0;
    CHECK_OK(pyrt_command_receiver_new("tcp://127.0.0.1:*", &receiver));
    if (!receiver) return;
    CHECK_OK(pyrt_command_receiver_last_endpoint(receiver, endpoint, sizeof endpoint, &needed));
    CHECK_OK(pyrt_command_sender_new(endpoint, &sender));

    struct receiver_job job = {receiver, -1, -1, ""};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, receive_one, &job) == 0);
    CHECK_OK(pyrt_command_sender_send(sender, PYRT_COMMAND_UPDATE_RISK_LIMITS, "{\"max\": 5}", WAIT_MS));
    pthread_join(thread, NULL);
    CHECK(job.status == PYRT_OK);
    CHECK(job.command_type == PYRT_COMMAND_UPDATE_RISK_LIMITS);
    CHECK(strcmp(job.payload, "{\"max\": 5}") == 0);

    CHECK_STATUS(pyrt_command_sender_send(sender, 99, "{}", WAIT_MS), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "type") != NULL);
    PyrtMessage *msg = NULL;
    CHECK_OK(pyrt_message_new(&msg));
    CHECK_STATUS(pyrt_command_receiver_receive(receiver, 10, msg), PYRT_TIMEOUT);
    pyrt_message_free(msg);
    pyrt_command_sender_free(sender);
    pyrt_command_receiver_free(receiver);

    /* Nobody there: a timeout, and the sender still works afterwards. */
    CHECK_OK(pyrt_command_sender_new(endpoint, &sender));
    CHECK_STATUS(pyrt_command_sender_send(sender, PYRT_COMMAND_START_TRADING, NULL, 50), PYRT_TIMEOUT);
    CHECK_STATUS(pyrt_command_sender_send(sender, PYRT_COMMAND_START_TRADING, NULL, 50), PYRT_TIMEOUT);
    pyrt_command_sender_free(sender);
}

int main(void) {
    test_bad_arguments();
    test_publish_and_receive_every_kind();
    test_tick_records();
    test_commands();
    CHECK_DONE("test_messaging");
}
