package dev.pyrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** The C functions of libpyrt, as downcall handles, and the error check every call goes through. */
final class Native {
    private Native() {}

    static final int OK = 0;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBRARY = load();

    /** PYRT_LIBRARY (an absolute path) first, else the system loader's search (LD_LIBRARY_PATH, ld.so.cache). */
    private static SymbolLookup load() {
        String explicit = System.getenv("PYRT_LIBRARY");
        if (explicit != null && !explicit.isEmpty()) {
            try {
                return SymbolLookup.libraryLookup(Path.of(explicit), Arena.global());
            } catch (IllegalArgumentException e) {
                throw new UnsatisfiedLinkError("pyrt: cannot load PYRT_LIBRARY=" + explicit + ": " + e.getMessage());
            }
        }
        String linkerName = System.mapLibraryName("pyrt");
        // The soname too: a runtime-only install has libpyrt.so.0 without the libpyrt.so link.
        for (String name : new String[] {linkerName, linkerName + ".0"}) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                // try the next name
            }
        }
        throw new UnsatisfiedLinkError("pyrt: cannot find " + linkerName + ": set PYRT_LIBRARY to its absolute path, "
                + "or install pyrt where the system loader looks (LD_LIBRARY_PATH, ldconfig)");
    }

    private static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBRARY.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("pyrt: the loaded libpyrt has no " + name + " (an older version?)"));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** PYRT_ABI_VERSION of the pyrt.h this binding follows. */
    static final int ABI = 2;

    // Short calls that read or write Java arrays in place: critical(true) lets them take heap
    // memory without a copy (they never call back into Java and never block for long).
    private static final Linker.Option HEAP = Linker.Option.critical(true);

    static final MethodHandle VERSION = function("pyrt_version", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle ABI_VERSION = function("pyrt_abi_version", FunctionDescriptor.of(JAVA_INT));
    static final MethodHandle LAST_ERROR = function("pyrt_last_error_message", FunctionDescriptor.of(ADDRESS));

    static {
        int loaded;
        try {
            loaded = (int) ABI_VERSION.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (loaded != ABI) {
            throw new UnsatisfiedLinkError("pyrt: the loaded libpyrt has ABI version " + loaded
                    + ", this binding needs " + ABI + " (install the matching pyrt)");
        }
    }

    static final MethodHandle INDICATOR_COUNT = function("pyrt_indicator_count", FunctionDescriptor.of(JAVA_LONG));
    static final MethodHandle INDICATOR_INFO =
            function("pyrt_indicator_info", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle INDICATOR_FIND =
            function("pyrt_indicator_find", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle INDICATOR_RUN = function("pyrt_indicator_run", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG));

    static final MethodHandle STREAM_OPEN = function("pyrt_stream_open", FunctionDescriptor.of(JAVA_INT,
            ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
    static final MethodHandle STREAM_UPDATE = function("pyrt_stream_update",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), HEAP);
    static final MethodHandle STREAM_SAVE =
            function("pyrt_stream_save", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle STREAM_LOAD =
            function("pyrt_stream_load", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle STREAM_INDICATOR =
            function("pyrt_stream_indicator", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle STREAM_CLOSE = function("pyrt_stream_close", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle STREAM_FREE = function("pyrt_stream_free", FunctionDescriptor.ofVoid(ADDRESS));

    static final MethodHandle RING_CREATE =
            function("pyrt_ring_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle RING_OPEN = function("pyrt_ring_open", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RING_PUSH_BATCH =
            function("pyrt_ring_push_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle RING_POP_BATCH = function("pyrt_ring_pop_batch",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), HEAP);
    static final MethodHandle RING_LEN = function("pyrt_ring_len", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle RING_CAPACITY = function("pyrt_ring_capacity", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle RING_FREE = function("pyrt_ring_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle RING_UNLINK = function("pyrt_ring_unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    /**
     * Throws the core's error for a failed status. Called right after the failed call on the same
     * thread (the message is thread-local in the core; a virtual thread cannot move between the two
     * calls, as nothing between them blocks).
     */
    static void check(int status) {
        if (status != OK) {
            throw error(status);
        }
    }

    static PyrtException error(int status) {
        return new PyrtException(status, cString(call(LAST_ERROR)));
    }

    static String cString(MemorySegment pointer) {
        return pointer.equals(MemorySegment.NULL) ? "" : pointer.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** A C string for name in arena, refusing an embedded NUL (C would cut the string there). */
    static MemorySegment cString(Arena arena, String what, String value) {
        if (value == null) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT, what + ": must not be null");
        }
        if (value.indexOf('\0') >= 0) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT, what + ": contains a NUL character");
        }
        return arena.allocateFrom(value);
    }

    private static MemorySegment call(MethodHandle handle) {
        try {
            return (MemorySegment) handle.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** invokeExact declares Throwable; downcalls throw only unchecked errors. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
