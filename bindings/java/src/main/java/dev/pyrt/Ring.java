package dev.pyrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A handle on a named shared-memory ring of market-data records: a single-producer /
 * single-consumer queue between processes in any language (the ring "ticks" is /dev/shm/ticks on
 * Linux). A Ring may be shared by threads; {@link #close} waits for a call in flight, later calls
 * throw (status CLOSED).
 */
public final class Ring implements AutoCloseable {
    static {
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) {
            throw new UnsatisfiedLinkError("pyrt: Ring reads records as little-endian words");
        }
    }

    /** One record: the C layout is symbol id (u32), 4 bytes of padding, price, volume, timestamp (u64). */
    public record Record(int symbolId, double price, double volume, long timestampUs) {}

    private static final long RECORD_SIZE = 32;
    private static final long PRICE = 8;
    private static final long VOLUME = 16;
    private static final long TIMESTAMP = 24;

    /** What the cleaner frees: the handle and the ring's scratch memory, once. */
    private static final class State implements Runnable {
        MemorySegment handle;
        Arena arena = Arena.ofShared();
        MemorySegment scratch = MemorySegment.NULL;
        final MemorySegment count = arena.allocate(JAVA_LONG);

        State(MemorySegment handle) {
            this.handle = handle;
        }

        @Override
        public void run() {
            try {
                Native.RING_FREE.invokeExact(handle);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            handle = null;
            arena.close();
        }

        MemorySegment scratch(long records) {
            if (scratch.byteSize() < records * RECORD_SIZE) {
                scratch = arena.allocate(records * RECORD_SIZE, 8);
            }
            return scratch;
        }
    }

    // Calls are serialized here: they share the scratch buffer, and close must not free the handle
    // under a call (the ring is single-consumer and single-producer anyway).
    private final ReentrantLock lock = new ReentrantLock();
    private long[] popWords = new long[0];
    private final long[] popCount = new long[1];
    private final State state;
    private final Cleaner.Cleanable cleanable;

    private Ring(MemorySegment handle) {
        state = new State(handle);
        cleanable = Stream.CLEANER.register(this, state);
    }

    /** Creates the ring name with room for capacity records (a power of two) and opens it. */
    public static Ring create(String name, long capacity) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check((int) Native.RING_CREATE.invokeExact(Native.cString(arena, "name", name), capacity, out));
            return new Ring(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Opens the existing ring name (its layout is checked). */
    public static Ring open(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Native.check((int) Native.RING_OPEN.invokeExact(Native.cString(arena, "name", name), out));
            return new Ring(out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Removes the name; handles already open keep working. */
    public static void unlink(String name) {
        try (Arena arena = Arena.ofConfined()) {
            Native.check((int) Native.RING_UNLINK.invokeExact(Native.cString(arena, "name", name)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private MemorySegment handle() {
        if (state.handle == null) {
            throw new PyrtException(PyrtException.CLOSED, "ring: is closed");
        }
        return state.handle;
    }

    /** Takes up to max of the oldest records, in order (none when the ring is empty). */
    public Record[] popBatch(int max) {
        if (max < 0) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT, "max: must be at least 0, got " + max);
        }
        lock.lock();
        try {
            MemorySegment handle = handle();
            // Records land in a Java long[] (4 per record: the C layout read as 64-bit words),
            // reused from call to call; reading a Java array is cheaper than native memory.
            if (popWords.length < 4 * max) {
                popWords = new long[4 * max];
            }
            long[] words = popWords;
            long[] count = popCount;
            int status = (int) Native.RING_POP_BATCH.invokeExact(handle, MemorySegment.ofArray(words), (long) max,
                    MemorySegment.ofArray(count));
            Native.check(status);
            int n = (int) count[0];
            Record[] out = new Record[n];
            for (int i = 0, w = 0; i < n; i++, w += 4) {
                // Little-endian: the symbol id is the low half of the first word, the padding the high half.
                out[i] = new Record((int) words[w], Double.longBitsToDouble(words[w + 1]),
                        Double.longBitsToDouble(words[w + 2]), words[w + 3]);
            }
            return out;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** Appends as many of records as fit, in order; returns how many (0 when full). */
    public int pushBatch(Record... records) {
        lock.lock();
        try {
            MemorySegment handle = handle();
            MemorySegment buffer = state.scratch(Math.max(records.length, 1));
            for (int i = 0; i < records.length; i++) {
                long at = i * RECORD_SIZE;
                Record r = records[i];
                buffer.set(JAVA_INT, at, r.symbolId());
                buffer.set(JAVA_INT, at + 4, 0);
                buffer.set(JAVA_DOUBLE, at + PRICE, r.price());
                buffer.set(JAVA_DOUBLE, at + VOLUME, r.volume());
                buffer.set(JAVA_LONG, at + TIMESTAMP, r.timestampUs());
            }
            Native.check((int) Native.RING_PUSH_BATCH.invokeExact(handle, buffer, (long) records.length, state.count));
            return (int) state.count.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** Appends one record; false when the ring is full (nothing written). */
    public boolean push(Record record) {
        return pushBatch(record) == 1;
    }

    /** Records in the ring now (a snapshot while a peer is active). */
    public long size() {
        lock.lock();
        try {
            Native.check((int) Native.RING_LEN.invokeExact(handle(), state.count));
            return state.count.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** How many records the ring holds. */
    public long capacity() {
        lock.lock();
        try {
            return (long) Native.RING_CAPACITY.invokeExact(handle());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            lock.unlock();
        }
    }

    /** Closes this handle (the ring stays until {@link #unlink}); safe to call twice or from several threads. */
    @Override
    public void close() {
        lock.lock();
        try {
            cleanable.clean();
        } finally {
            lock.unlock();
        }
    }
}
