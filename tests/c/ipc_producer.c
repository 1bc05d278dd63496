/* Pushes records 0..count-1 (see ipc_seq.h) into an existing ring, one
 * pyrt_ring_push per record, waiting while the ring is full.
 * Usage: ipc_producer NAME COUNT [TIMEOUT_SECONDS]  (exit 0 when all pushed). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "ipc_seq.h"

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
        fprintf(stderr, "ipc_producer: %s\n", pyrt_last_error_message());
        return 1;
    }
    int rc = 0;
    for (uint64_t seq = 0; seq < count;) {
        PyrtMarketDataRecord r = seq_record(seq);
        PyrtStatus status = pyrt_ring_push(ring, &r);
        if (status == PYRT_OK) {
            seq++;
        } else if (status == PYRT_FULL) {
            if ((seq & 0xFFF) == 0 && seconds_now() > deadline) {
                fprintf(stderr, "ipc_producer: timed out at record %llu\n", (unsigned long long)seq);
                rc = 1;
                break;
            }
        } else {
            fprintf(stderr, "ipc_producer: push failed (%d): %s\n", (int)status, pyrt_last_error_message());
            rc = 1;
            break;
        }
    }
    pyrt_ring_free(ring);
    return rc;
}
