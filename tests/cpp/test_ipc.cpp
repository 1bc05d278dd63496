// pyrt::Ring, the C++ RAII layer over the shared-memory ring.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pyrt.hpp"

static int failures = 0;
#define EXPECT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) {                                                          \
            std::fprintf(stderr, "%s:%d: EXPECT failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                         \
        }                                                                       \
    } while (0)

int main() {
    const std::string name = "pyrt-cpp-test-" + std::to_string(getpid());
    {
        pyrt::Ring producer = pyrt::Ring::create(name, 4);
        EXPECT(producer.capacity() == 4);
        pyrt::Ring consumer = pyrt::Ring::open(name);
        for (uint32_t i = 0; i < 4; i++) {
            EXPECT(producer.push(i, 100.0 + i, 1.0, 1000 + i));
        }
        EXPECT(!producer.push(9, 9.0, 9.0, 9));  // full: refused, nothing overwritten
        EXPECT(consumer.size() == 4);

        PyrtMarketDataRecord record{};
        EXPECT(consumer.pop(record));
        EXPECT(record.symbol_id == 0 && record.price == 100.0 && record.timestamp_us == 1000);
        std::vector<PyrtMarketDataRecord> rest = consumer.pop_batch(10);
        EXPECT(rest.size() == 3);
        EXPECT(rest.size() == 3 && rest[2].symbol_id == 3 && rest[2].timestamp_us == 1003);
        EXPECT(!consumer.pop(record));

        std::vector<PyrtMarketDataRecord> batch;
        for (uint32_t i = 0; i < 6; i++) {
            batch.push_back(PyrtMarketDataRecord{i, 0, 1.0, 2.0, i});
        }
        EXPECT(producer.push_batch(batch) == 4);

        // A moved-from ring owns nothing; the moved-to one keeps working.
        pyrt::Ring moved = std::move(consumer);
        EXPECT(consumer.get() == nullptr);
        EXPECT(moved.pop_batch(10).size() == 4);

        try {
            pyrt::Ring::create(name, 4);
            EXPECT(false);
        } catch (const pyrt::Error &e) {
            EXPECT(e.status() == PYRT_INVALID_ARGUMENT);
            EXPECT(std::string(e.what()).find("already exists") != std::string::npos);
        }
        // close() stops the handle: later calls are refused, not undefined.
        moved.close();
        try {
            moved.size();
            EXPECT(false);
        } catch (const pyrt::Error &e) {
            EXPECT(e.status() == PYRT_CLOSED);
        }
        pyrt::Ring::unlink(name);
    }
    try {
        pyrt::Ring::open(name);
        EXPECT(false);
    } catch (const pyrt::Error &e) {
        EXPECT(e.status() == PYRT_NOT_FOUND);
        EXPECT(std::string(e.what()).find("does not exist") != std::string::npos);
    }
    try {
        pyrt::Ring::create(name, 12);
        EXPECT(false);
    } catch (const pyrt::Error &e) {
        EXPECT(std::string(e.what()).rfind("capacity", 0) == 0);
    }
    if (failures) {
        std::fprintf(stderr, "test_ipc (C++): %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_ipc (C++): all checks passed\n");
    return 0;
}
