/* The cost of one pyrt_ring_push call, for A/B comparisons of builds.
 *
 *   cc -O2 -Wall -Wextra -Werror -I include bench/ring_push.c -ldl -o ring_push
 *   ./ring_push LIBPYRT [LIBPYRT ...]        (paths of libpyrt.so builds)
 *
 * Loads each build with dlopen into this one process, gives each a ring of
 * 4096 records, then in rounds, interleaved across builds: times 4096 pushes
 * from this thread (the handle's owner), then empties the ring with one
 * pop_batch (not timed). Prints the best round's nanoseconds per push of each
 * build. Interleaving and taking the best round keep the comparison fair on a
 * machine whose load changes while it runs; compare builds in one run only.
 * No other process touches the rings: this is the call's own cost, without
 * the cache traffic of a consumer in another process (bench/ipc.py has that). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <pyrt.h>

enum { CAPACITY = 4096, ROUNDS = 2000, MAX_BUILDS = 8 };

typedef PyrtStatus (*create_fn)(const char *, uint64_t, PyrtRing **);
typedef PyrtStatus (*push_fn)(PyrtRing *, const PyrtMarketDataRecord *);
typedef PyrtStatus (*pop_batch_fn)(PyrtRing *, PyrtMarketDataRecord *, size_t, size_t *);
typedef PyrtStatus (*unlink_fn)(const char *);

struct build {
    const char *path;
    PyrtRing *ring;
    push_fn push;
    pop_batch_fn pop_batch;
    double best_ns;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int load(struct build *b, int index) {
    void *lib = dlopen(b->path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "ring_push: %s\n", dlerror());
        return 1;
    }
    create_fn create = (create_fn)dlsym(lib, "pyrt_ring_create");
    unlink_fn unlink_ring = (unlink_fn)dlsym(lib, "pyrt_ring_unlink");
    b->push = (push_fn)dlsym(lib, "pyrt_ring_push");
    b->pop_batch = (pop_batch_fn)dlsym(lib, "pyrt_ring_pop_batch");
    if (!create || !unlink_ring || !b->push || !b->pop_batch) {
        fprintf(stderr, "ring_push: %s lacks the ring functions\n", b->path);
        return 1;
    }
    char name[64];
    snprintf(name, sizeof name, "pyrt-ring-push-%d-%d", (int)getpid(), index);
    if (create(name, CAPACITY, &b->ring) != PYRT_OK) {
        fprintf(stderr, "ring_push: cannot create ring %s with %s\n", name, b->path);
        return 1;
    }
    unlink_ring(name); /* the mapping stays; nothing is left behind on exit */
    b->best_ns = 1e9;
    return 0;
}

int main(int argc, char **argv) {
    int n = argc - 1;
    if (n < 1 || n > MAX_BUILDS) {
        fprintf(stderr, "usage: ring_push LIBPYRT [LIBPYRT ...] (at most %d)\n", MAX_BUILDS);
        return 2;
    }
    struct build builds[MAX_BUILDS];
    for (int i = 0; i < n; i++) {
        builds[i].path = argv[i + 1];
        if (load(&builds[i], i) != 0) return 1;
    }
    static PyrtMarketDataRecord drained[CAPACITY];
    PyrtMarketDataRecord r = {0, 0, 100.0, 1.0, 0};
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < n; i++) {
            struct build *b = &builds[i];
            uint64_t start = now_ns();
            for (uint32_t k = 0; k < CAPACITY; k++) {
                r.symbol_id = k;
                r.timestamp_us = k;
                if (b->push(b->ring, &r) != PYRT_OK) {
                    fprintf(stderr, "ring_push: push failed with %s\n", b->path);
                    return 1;
                }
            }
            double ns = (double)(now_ns() - start) / CAPACITY;
            if (ns < b->best_ns) b->best_ns = ns;
            size_t popped = 0;
            if (b->pop_batch(b->ring, drained, CAPACITY, &popped) != PYRT_OK || popped != CAPACITY) {
                fprintf(stderr, "ring_push: pop_batch failed with %s\n", b->path);
                return 1;
            }
        }
    }
    for (int i = 0; i < n; i++) printf("%6.2f ns per push  %s\n", builds[i].best_ns, builds[i].path);
    return 0;
}
