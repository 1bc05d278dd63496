/* Pops COUNT records from an existing ring with pyrt_ring_pop_batch and
 * checks that they are records 0..COUNT-1 (see ipc_seq.h), each once, in order.
 * Usage: ipc_consumer NAME COUNT [TIMEOUT_SECONDS]  (exit 0 when all match). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "ipc_seq.h"

#define BATCH 4096

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s NAME COUNT [TIMEOUT_SECONDS]\n", argv[0]);
        return 2;
    }
    const char *name = argv[1];
    uint64_t count = strtoull(argv[2], NULL, 10);
    double deadline = seconds_now() + (argc > 3 ? atof(argv[3]) : 60.0);
    PyrtRing *ring = NULL;
    if (pyrt_ring_open(name, &ring) != PYRT_OK) {
        fprintf(stderr, "ipc_consumer: %s\n", pyrt_last_error_message());
        return 1;
    }
    static PyrtMarketDataRecord batch[BATCH];
    uint64_t expected = 0;
    unsigned long long empty_polls = 0;
    int rc = 0;
    while (expected < count && rc == 0) {
        size_t popped = 0;
        PyrtStatus status = pyrt_ring_pop_batch(ring, batch, BATCH, &popped);
        if (status != PYRT_OK) {
            fprintf(stderr, "ipc_consumer: pop failed (%d): %s\n", (int)status, pyrt_last_error_message());
            rc = 1;
            break;
        }
        if (popped == 0 && (++empty_polls & 0xFFF) == 0 && seconds_now() > deadline) {
            fprintf(stderr, "ipc_consumer: timed out after %llu records\n", (unsigned long long)expected);
            rc = 1;
        }
        for (size_t i = 0; i < popped; i++, expected++) {
            if (expected >= count || !seq_matches(&batch[i], expected)) {
                fprintf(stderr, "ipc_consumer: record %llu is wrong (timestamp_us %llu)\n",
                        (unsigned long long)expected, (unsigned long long)batch[i].timestamp_us);
                rc = 1;
                break;
            }
        }
    }
    if (rc == 0) {
        printf("ipc_consumer: %llu records, each once, in order\n", (unsigned long long)expected);
    }
    pyrt_ring_free(ring);
    return rc;
}
