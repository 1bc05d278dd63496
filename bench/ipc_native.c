/* Native peer for bench/ipc.py, built on the fly against the installed pyrt.
 *
 *   ipc_native produce-single   NAME COUNT          one pyrt_ring_push per record
 *   ipc_native produce-batch    NAME COUNT BATCH    pyrt_ring_push_batch
 *   ipc_native consume-batch    NAME COUNT BATCH    pyrt_ring_pop_batch; prints seconds
 *                                                    from the first record to the last
 *   ipc_native latency-producer NAME COUNT GAP_NS   one record every GAP_NS, stamped
 *                                                    with CLOCK_MONOTONIC nanoseconds
 *   ipc_native latency-consumer NAME COUNT          busy-polls pyrt_ring_pop; prints
 *                                                    one-way latency percentiles (ns)
 *
 * Every wait loop gives up after 60 seconds. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pyrt.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const uint64_t TIMEOUT_NS = 60ull * 1000000000ull;

static int fail(const char *what) {
    fprintf(stderr, "ipc_native: %s: %s\n", what, pyrt_last_error_message());
    return 1;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: ipc_native MODE NAME COUNT [BATCH|GAP_NS]\n");
        return 2;
    }
    const char *mode = argv[1];
    uint64_t count = strtoull(argv[3], NULL, 10);
    uint64_t arg = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    PyrtRing *ring = NULL;
    if (pyrt_ring_open(argv[2], &ring) != PYRT_OK) return fail("open");
    uint64_t deadline = now_ns() + TIMEOUT_NS;
    int rc = 0;

    if (strcmp(mode, "produce-single") == 0) {
        PyrtMarketDataRecord r = {0, 0, 100.0, 1.0, 0};
        for (uint64_t i = 0; i < count;) {
            r.symbol_id = (uint32_t)i;
            r.timestamp_us = i;
            PyrtStatus s = pyrt_ring_push(ring, &r);
            if (s == PYRT_OK) {
                i++;
            } else if (s != PYRT_FULL) {
                rc = fail("push");
                break;
            } else if (now_ns() > deadline) {
                rc = fail("push timed out");
                break;
            }
        }
    } else if (strcmp(mode, "produce-batch") == 0) {
        PyrtMarketDataRecord *batch = calloc(arg, sizeof *batch);
        for (uint64_t i = 0; i < arg; i++) batch[i].timestamp_us = i;
        for (uint64_t sent = 0; sent < count;) {
            size_t want = (size_t)(count - sent < arg ? count - sent : arg), pushed = 0;
            if (pyrt_ring_push_batch(ring, batch, want, &pushed) != PYRT_OK) {
                rc = fail("push_batch");
                break;
            }
            sent += pushed;
            if (pushed == 0 && now_ns() > deadline) {
                rc = fail("push_batch timed out");
                break;
            }
        }
        free(batch);
    } else if (strcmp(mode, "consume-batch") == 0) {
        PyrtMarketDataRecord *batch = calloc(arg, sizeof *batch);
        uint64_t got = 0, start = 0;
        while (got < count) {
            size_t popped = 0;
            if (pyrt_ring_pop_batch(ring, batch, (size_t)arg, &popped) != PYRT_OK) {
                rc = fail("pop_batch");
                break;
            }
            if (popped && got == 0) start = now_ns();
            got += popped;
            if (popped == 0 && now_ns() > deadline) {
                rc = fail("pop_batch timed out");
                break;
            }
        }
        if (rc == 0) printf("%.9f\n", (double)(now_ns() - start) * 1e-9);
        free(batch);
    } else if (strcmp(mode, "latency-producer") == 0) {
        PyrtMarketDataRecord r = {1, 0, 100.0, 1.0, 0};
        for (uint64_t i = 0; i < count;) {
            uint64_t next = now_ns() + arg;
            r.timestamp_us = now_ns(); /* nanoseconds here: the bench needs them */
            PyrtStatus s = pyrt_ring_push(ring, &r);
            if (s == PYRT_OK) {
                i++;
            } else if (s != PYRT_FULL || now_ns() > deadline) {
                rc = fail("push");
                break;
            }
            while (now_ns() < next) {
            }
        }
    } else if (strcmp(mode, "latency-consumer") == 0) {
        uint64_t *lat = calloc(count, sizeof *lat);
        PyrtMarketDataRecord r;
        for (uint64_t i = 0; i < count;) {
            PyrtStatus s = pyrt_ring_pop(ring, &r);
            if (s == PYRT_OK) {
                lat[i++] = now_ns() - r.timestamp_us;
            } else if (s != PYRT_EMPTY) {
                rc = fail("pop");
                break;
            } else if (now_ns() > deadline) {
                rc = fail("pop timed out");
                break;
            }
        }
        if (rc == 0) {
            qsort(lat, count, sizeof *lat, cmp_u64);
            printf("%llu %llu %llu %llu\n", (unsigned long long)lat[0], (unsigned long long)lat[count / 2],
                   (unsigned long long)lat[count * 99 / 100], (unsigned long long)lat[count * 999 / 1000]);
        }
        free(lat);
    } else {
        fprintf(stderr, "ipc_native: unknown mode %s\n", mode);
        rc = 2;
    }
    pyrt_ring_free(ring);
    return rc;
}
