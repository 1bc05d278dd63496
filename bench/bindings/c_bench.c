/* The C floor of the binding benchmark: the same calls the bindings make,
 * straight from C. Prints "name nanoseconds-per-call" lines (run.py reads them). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <pyrt.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void must(PyrtStatus status) {
    if (status != PYRT_OK) {
        fprintf(stderr, "c_bench: status %d: %s\n", status, pyrt_last_error_message());
        exit(1);
    }
}

static double *walk(size_t n) {
    double *p = malloc(n * sizeof *p);
    double x = 100.0;
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x += ((s >> 16) & 0x7fff) / 32768.0 - 0.5;
        p[i] = x;
    }
    return p;
}

/* Best of several rounds of `iters` calls: the least disturbed by the other work on the machine. */
static double bench_run(const double *in, double *out, size_t n, int iters) {
    const double *inputs[1] = {in};
    double *outputs[1] = {out};
    double best = INFINITY;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) must(pyrt_indicator_run("SMA", NULL, 0, inputs, 1, n, outputs, 1));
        double t = (now_ns() - t0) / iters;
        if (t < best) best = t;
    }
    return best;
}

int main(void) {
    double *small = walk(1000), *small_out = malloc(1000 * sizeof(double));
    printf("c_run_sma_1k %.1f\n", bench_run(small, small_out, 1000, 20000));
    double *big = walk(1000000), *big_out = malloc(1000000 * sizeof(double));
    printf("c_run_sma_1m %.1f\n", bench_run(big, big_out, 1000000, 20));

    const double *history[1] = {small};
    PyrtStream *stream;
    must(pyrt_stream_open("SMA", NULL, 0, history, 1, 1000, &stream));
    double best = INFINITY, out;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int i = 0; i < 1000000; i++) {
            double tick = 100.0 + (i & 15);
            must(pyrt_stream_update(stream, &tick, 1, &out, 1));
        }
        double t = (now_ns() - t0) / 1e6;
        if (t < best) best = t;
    }
    printf("c_update %.1f\n", best);
    pyrt_stream_free(stream);

    char name[64];
    snprintf(name, sizeof name, "pyrt-bench-c-%d", (int)getpid());
    PyrtRing *ring;
    must(pyrt_ring_create(name, 8192, &ring));
    PyrtMarketDataRecord *recs = calloc(4096, sizeof *recs), *got = calloc(4096, sizeof *got);
    for (int i = 0; i < 4096; i++) {
        recs[i].symbol_id = i % 1000;
        recs[i].price = i * 0.5;
        recs[i].volume = i % 7 + 1;
        recs[i].timestamp_us = i;
    }
    double total = 0;
    int iters = 2000;
    best = INFINITY;
    for (int round = 0; round < 5; round++) {
        total = 0;
        for (int i = 0; i < iters; i++) {
            size_t pushed, popped;
            must(pyrt_ring_push_batch(ring, recs, 4096, &pushed));
            double t0 = now_ns();
            must(pyrt_ring_pop_batch(ring, got, 4096, &popped));
            total += now_ns() - t0;
            if (popped != 4096) { fprintf(stderr, "c_bench: popped %zu\n", popped); return 1; }
        }
        if (total / iters < best) best = total / iters;
    }
    printf("c_pop_4096 %.1f\n", best);
    pyrt_ring_free(ring);
    pyrt_ring_unlink(name);
    return 0;
}
