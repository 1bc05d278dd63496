/* The record the ring tests send as number `seq`, so that a receiver can
 * check every field of every record it gets, and the clock they time out on. */
#ifndef PYRT_TEST_IPC_SEQ_H
#define PYRT_TEST_IPC_SEQ_H

#include <stdint.h>
#include <time.h>

#include <pyrt.h>

static inline PyrtMarketDataRecord seq_record(uint64_t seq) {
    PyrtMarketDataRecord r;
    r.symbol_id = (uint32_t)(seq % 1000u);
    r._pad = 0;
    r.price = (double)seq * 0.5;
    r.volume = (double)(seq % 7u) + 1.0;
    r.timestamp_us = seq;
    return r;
}

static inline int seq_matches(const PyrtMarketDataRecord *r, uint64_t seq) {
    PyrtMarketDataRecord e = seq_record(seq);
    return r->symbol_id == e.symbol_id && r->price == e.price && r->volume == e.volume &&
           r->timestamp_us == e.timestamp_us;
}

static inline double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
