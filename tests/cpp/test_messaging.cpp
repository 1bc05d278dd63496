// The C++ layer over the messaging C API: RAII handles, exceptions, timeouts.
#include <cstdio>
#include <cstring>

#include "pyrt.hpp"

static int failures = 0;
#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            std::fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

int main() {
    pyrt::Publisher pub("tcp://127.0.0.1:*");
    pyrt::Subscriber sub(pub.endpoint(), {"market.BTC/USD", "fills"});
    pub.wait_for_subscribers(1, 5000);
    pub.publish(PyrtMarketTick{"BTC/USDT", 1, 2, 3, 4, 5, "X"});  // not subscribed: exact topics
    pub.publish(PyrtMarketTick{"BTC/USD", -1.5, 2.5, 2.0, 10.0, 42, "CPP"});
    pub.publish(PyrtFillReport{"o", "f", "BTC/USD", 1.0, 2.0, 3, 0.5});

    pyrt::Message message;
    EXPECT(sub.receive(message, 5000));
    EXPECT(message.kind() == PYRT_MESSAGE_MARKET_DATA);
    PyrtMarketTick tick = message.market_tick();
    EXPECT(std::strcmp(tick.symbol, "BTC/USD") == 0 && std::strcmp(tick.exchange, "CPP") == 0);
    EXPECT(tick.bid == -1.5 && tick.timestamp_us == 42);
    EXPECT(sub.receive(message, 5000));
    EXPECT(std::strcmp(message.fill_report().fill_id, "f") == 0);
    EXPECT(!sub.receive(message, 20));
    EXPECT(sub.decode_errors() == 0);

    bool threw = false;
    try {
        message.market_tick();  // the message is empty after the timeout
    } catch (const pyrt::Error &e) {
        threw = e.status() == PYRT_INVALID_ARGUMENT;
    }
    EXPECT(threw);

    std::string endpoint;
    {
        pyrt::CommandReceiver receiver("tcp://127.0.0.1:*");
        endpoint = receiver.endpoint();
        EXPECT(!receiver.receive(message, 10));
    }
    pyrt::CommandSender sender(endpoint);
    threw = false;
    try {
        sender.send(PYRT_COMMAND_START_TRADING, "{}", 50);
    } catch (const pyrt::Error &e) {
        threw = e.status() == PYRT_TIMEOUT;
    }
    EXPECT(threw);

    if (failures) {
        std::fprintf(stderr, "test_messaging (C++): %d check(s) failed\n", failures);
        return 1;
    }
    std::printf("test_messaging (C++): all checks passed\n");
    return 0;
}
