package dev.pyrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Map;

/**
 * An indicator updated one bar at a time. Its state saves to bytes that any pyrt binding resumes
 * (Python's from_bytes, Go, Node, C). A Stream may be shared by threads: the core serializes the
 * calls, so each sees the state some serial order of updates left. {@link #close} waits for a call in
 * flight; later calls throw (status CLOSED).
 */
public final class Stream implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create();

    private final MemorySegment handle;
    private final Indicator indicator;

    private Stream(MemorySegment handle, Indicator indicator) {
        this.handle = handle;
        this.indicator = indicator;
        // Freed only once the Stream is unreachable, so never under a call; close() merely closes.
        CLEANER.register(this, new Free(handle));
    }

    private record Free(MemorySegment handle) implements Runnable {
        @Override
        public void run() {
            try {
                Native.STREAM_FREE.invokeExact(handle);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
        }
    }

    /**
     * The indicator called name built from history (its inputs in the record's order, as
     * talib.stream.NAME(*history)); params by TA-Lib's names, may be null. Fewer than lookback + 1
     * bars of history is an error (status INSUFFICIENT_HISTORY).
     */
    public static Stream create(String name, double[][] history, Map<String, Double> params) {
        Indicator indicator = Indicator.lookup(name);
        int n = indicator.seriesLength("history", history);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointers = arena.allocate(ADDRESS, Math.max(history.length, 1));
            for (int i = 0; i < history.length; i++) {
                pointers.setAtIndex(ADDRESS, i, arena.allocateFrom(JAVA_DOUBLE, history[i]));
            }
            MemorySegment p = indicator.paramArray(arena, params);
            MemorySegment out = arena.allocate(ADDRESS);
            int status = (int) Native.STREAM_OPEN.invokeExact(indicator.cName, p, (long) indicator.paramCount(params),
                    pointers, (long) history.length, (long) n, out);
            Native.check(status);
            return new Stream(out.get(ADDRESS, 0), indicator);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Resumes a stream from state saved by any pyrt binding (it names its indicator and parameters). */
    public static Stream load(byte[] state) {
        if (state == null) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT, "state: must not be null");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(Math.max(state.length, 1));
            MemorySegment.copy(state, 0, bytes, JAVA_BYTE, 0, state.length);
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check((int) Native.STREAM_LOAD.invokeExact(bytes, (long) state.length, out));
            MemorySegment handle = out.get(ADDRESS, 0);
            MemorySegment index = arena.allocate(JAVA_LONG);
            int status = (int) Native.STREAM_INDICATOR.invokeExact(handle, index);
            if (status != Native.OK) {
                PyrtException e = Native.error(status);
                Native.STREAM_FREE.invokeExact(handle);
                throw e;
            }
            return new Stream(handle, Indicator.at(index.get(JAVA_LONG, 0)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The catalog record of this stream's indicator. */
    public Indicator indicator() {
        return indicator;
    }

    /**
     * Feeds one bar (one value per input, in the record's order) and returns the outputs after it. A
     * bar that is not finite is refused and the stream is unchanged.
     */
    public double[] update(double... tick) {
        double[] out = new double[indicator.outputs().size()];
        update(tick, out);
        return out;
    }

    /** As {@link #update(double...)}, writing the outputs into out (no allocation). */
    public void update(double[] tick, double[] out) {
        int status;
        try {
            status = (int) Native.STREAM_UPDATE.invokeExact(handle, MemorySegment.ofArray(tick), (long) tick.length,
                    MemorySegment.ofArray(out), (long) out.length);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            Reference.reachabilityFence(this);
        }
        Native.check(status);
    }

    /** The stream's state: bytes any pyrt binding resumes. */
    public byte[] save() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment written = arena.allocate(JAVA_LONG);
            int status = (int) Native.STREAM_SAVE.invokeExact(handle, MemorySegment.NULL, 0L, written);
            while (status == PyrtException.BUFFER_TOO_SMALL) {
                long size = written.get(JAVA_LONG, 0);
                MemorySegment buffer = arena.allocate(Math.max(size, 1));
                status = (int) Native.STREAM_SAVE.invokeExact(handle, buffer, size, written);
                if (status == Native.OK) {
                    return buffer.asSlice(0, written.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
                }
            }
            Native.check(status);
            return new byte[0];
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Releases the state; waits for a call in flight on another thread. Closing twice is a no-op. */
    @Override
    public void close() {
        try {
            Native.STREAM_CLOSE.invokeExact(handle);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            Reference.reachabilityFence(this);
        }
    }
}
