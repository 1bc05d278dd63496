package dev.pyrt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native memory for the arguments of one call (pointer arrays, parameters, copies of
 * small series): reused from call to call, so a call allocates nothing native. A thread is inside at
 * most one pyrt call (the core never calls back into Java), so one buffer per thread suffices.
 * Series larger than {@link #MAX_REUSED} bytes go through memory of their own, not kept afterwards.
 */
final class Scratch {
    static final long MAX_REUSED = 1 << 20;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private MemorySegment segment = Arena.ofAuto().allocate(4096, 16);

    private Scratch() {}

    /** At least bytes of this thread's scratch memory (contents undefined). */
    static MemorySegment get(long bytes) {
        Scratch s = LOCAL.get();
        if (s.segment.byteSize() < bytes) {
            s.segment = Arena.ofAuto().allocate(Math.max(bytes, 2 * s.segment.byteSize()), 16);
        }
        return s.segment;
    }
}
