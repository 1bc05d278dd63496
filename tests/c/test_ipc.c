/* The shared-memory ring through the C API: layout, full/empty, errors. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ipc_seq.h"

static char name[64];
static char path[96];

/* Replaces the shm object's bytes with `len` bytes of `bytes`. */
static void write_region(const unsigned char *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(bytes, 1, len, f) == len);
        fclose(f);
    }
}

static size_t read_region(unsigned char *bytes, size_t cap) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t n = f ? fread(bytes, 1, cap, f) : 0;
    if (f) fclose(f);
    return n;
}

static void expect_open_refused(PyrtStatus status, const char *words) {
    PyrtRing *ring = NULL;
    CHECK_STATUS(pyrt_ring_open(name, &ring), status);
    CHECK(ring == NULL);
    if (strstr(pyrt_last_error_message(), words) == NULL) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", pyrt_last_error_message(), words);
        check_failures++;
    }
}

int main(void) {
    snprintf(name, sizeof name, "pyrt-c-test-%ld", (long)getpid());
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    pyrt_ring_unlink(name);

    /* The record is the documented 32-byte C layout. */
    CHECK(sizeof(PyrtMarketDataRecord) == PYRT_RING_RECORD_SIZE);
    CHECK(offsetof(PyrtMarketDataRecord, price) == 8);
    CHECK(offsetof(PyrtMarketDataRecord, timestamp_us) == 24);

    PyrtRing *ring = NULL;
    CHECK_STATUS(pyrt_ring_create(name, 6, &ring), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "capacity", 8) == 0);
    CHECK_STATUS(pyrt_ring_create("a/b", 8, &ring), PYRT_INVALID_ARGUMENT);
    CHECK(strncmp(pyrt_last_error_message(), "name", 4) == 0);
    CHECK(ring == NULL);
    expect_open_refused(PYRT_NOT_FOUND, "does not exist");

    CHECK_OK(pyrt_ring_create(name, 4, &ring));
    CHECK(pyrt_ring_capacity(ring) == 4);

    /* The header, read as bytes from the file the name maps to. */
    unsigned char region[4096];
    size_t size = read_region(region, sizeof region);
    CHECK(size == PYRT_RING_RECORDS_OFFSET + 4 * PYRT_RING_RECORD_SIZE);
    uint64_t magic, capacity;
    uint32_t version, record_size;
    memcpy(&magic, region, 8);
    memcpy(&version, region + 8, 4);
    memcpy(&record_size, region + 12, 4);
    memcpy(&capacity, region + 16, 8);
    CHECK(magic == (uint64_t)PYRT_RING_MAGIC && memcmp(region, "PYRTRING", 8) == 0);
    CHECK(version == PYRT_RING_LAYOUT_VERSION && record_size == 32 && capacity == 4);

    /* Empty, then exactly capacity records, then full. */
    PyrtMarketDataRecord out = seq_record(777);
    CHECK_STATUS(pyrt_ring_pop(ring, &out), PYRT_EMPTY);
    CHECK(out.timestamp_us == 777);
    for (uint64_t i = 0; i < 4; i++) {
        PyrtMarketDataRecord r = seq_record(i);
        CHECK_OK(pyrt_ring_push(ring, &r));
    }
    PyrtMarketDataRecord extra = seq_record(99);
    CHECK_STATUS(pyrt_ring_push(ring, &extra), PYRT_FULL);
    size_t len = 0;
    CHECK_OK(pyrt_ring_len(ring, &len));
    CHECK(len == 4);
    CHECK_STATUS(pyrt_ring_len(ring, NULL), PYRT_NULL_POINTER);
    uint64_t producer_cursor;
    read_region(region, sizeof region);
    memcpy(&producer_cursor, region + PYRT_RING_PRODUCER_CURSOR_OFFSET, 8);
    CHECK(producer_cursor == 4);

    PyrtMarketDataRecord batch[8];
    size_t moved = 99;
    CHECK_OK(pyrt_ring_push_batch(ring, batch, 8, &moved));
    CHECK(moved == 0);
    CHECK_OK(pyrt_ring_pop_batch(ring, batch, 3, &moved));
    CHECK(moved == 3 && seq_matches(&batch[0], 0) && seq_matches(&batch[2], 2));
    /* Wrap around: records 4..8 behind record 3. */
    PyrtMarketDataRecord more[5];
    for (uint64_t i = 0; i < 5; i++) more[i] = seq_record(4 + i);
    CHECK_OK(pyrt_ring_push_batch(ring, more, 5, &moved));
    CHECK(moved == 3);
    CHECK_OK(pyrt_ring_pop_batch(ring, batch, 8, &moved));
    CHECK(moved == 4);
    for (size_t i = 0; i < moved; i++) CHECK(seq_matches(&batch[i], 3 + i));

    CHECK_STATUS(pyrt_ring_create(name, 4, &ring), PYRT_INVALID_ARGUMENT);
    CHECK(strstr(pyrt_last_error_message(), "already exists") != NULL);
    pyrt_ring_free(ring);
    pyrt_ring_free(NULL);

    /* Regions that are not a ring of this layout: clear refusals. */
    size = read_region(region, sizeof region);
    unsigned char bad[4096];
    memset(bad, 0xAB, sizeof bad);
    write_region(bad, size);
    expect_open_refused(PYRT_BAD_LAYOUT, "not a pyrt ring");
    memcpy(bad, region, size);
    bad[8] = 2;
    write_region(bad, size);
    expect_open_refused(PYRT_BAD_LAYOUT, "version 2");
    write_region(region, size - 1);
    expect_open_refused(PYRT_BAD_LAYOUT, "needs exactly");
    write_region(region, 10);
    expect_open_refused(PYRT_BAD_LAYOUT, "smaller than a ring header");
    write_region(region, size);
    CHECK_OK(pyrt_ring_open(name, &ring));
    /* A closed handle refuses every call and keeps its capacity. */
    pyrt_ring_close(ring);
    pyrt_ring_close(ring);
    CHECK_STATUS(pyrt_ring_push(ring, &extra), PYRT_CLOSED);
    CHECK_STATUS(pyrt_ring_len(ring, &len), PYRT_CLOSED);
    CHECK(pyrt_ring_capacity(ring) == 4);
    pyrt_ring_free(ring);

    CHECK_OK(pyrt_ring_unlink(name));
    CHECK_STATUS(pyrt_ring_unlink(name), PYRT_NOT_FOUND);
    CHECK_DONE("test_ipc");
}
