package dev.pyrt;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * pyrt's trading-analytics core from Java: every catalog indicator by its TA-Lib name.
 *
 * <p>The library is libpyrt, found through the PYRT_LIBRARY environment variable (an absolute path),
 * else the system loader. Every failure is a {@link PyrtException} carrying the core's message.
 */
public final class Pyrt {
    private Pyrt() {}

    /** The ABI version this binding was written for (PYRT_ABI_VERSION of pyrt.h); a library of another is refused. */
    public static final int ABI_VERSION = Native.ABI;

    /** The library's semantic version, e.g. "0.1.0". */
    public static String version() {
        try {
            return Native.cString((MemorySegment) Native.VERSION.invokeExact());
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Every indicator run and {@link Stream#create} accept. */
    public static List<Indicator> indicators() {
        return Indicator.all();
    }

    /** The catalog record of the indicator called name. */
    public static Indicator indicator(String name) {
        return Indicator.lookup(name);
    }

    /**
     * Computes the indicator called name (TA-Lib's, e.g. "ADX") over inputs in the record's order
     * (e.g. high, low, close) with params by TA-Lib's parameter names (absent ones take their
     * defaults; params may be null). Returns one series per output in TA-Lib's order, each as long
     * as the inputs, NaN where not yet defined (a series shorter than the lookback is all NaN).
     */
    public static double[][] run(String name, double[][] inputs, Map<String, Double> params) {
        Indicator indicator = Indicator.lookup(name);
        int n = indicator.seriesLength("input", inputs);
        int nIn = inputs.length;
        int nOut = indicator.outputs().size();
        double[][] result = new double[nOut][];
        // The generic call takes arrays of pointers, which Java arrays cannot provide (the collector
        // moves them): the series travel through native memory, this thread's scratch when small.
        long series = (long) (nIn + nOut) * n * Double.BYTES;
        long header = (long) (nIn + nOut + indicator.params().size()) * Long.BYTES;
        Arena own = series > Scratch.MAX_REUSED ? Arena.ofConfined() : null;
        try {
            MemorySegment memory = own == null ? Scratch.get(header + series)
                    : own.allocate(header + series, 16);
            MemorySegment pointers = memory.asSlice(0, (long) (nIn + nOut) * Long.BYTES);
            MemorySegment p = indicator.paramArray(memory.asSlice((long) (nIn + nOut) * Long.BYTES), params);
            long at = header;
            for (int i = 0; i < nIn; i++) {
                MemorySegment s = memory.asSlice(at, (long) n * Double.BYTES);
                MemorySegment.copy(inputs[i], 0, s, JAVA_DOUBLE, 0, n);
                pointers.setAtIndex(ADDRESS, i, s);
                at += (long) n * Double.BYTES;
            }
            long outputsAt = at;
            for (int k = 0; k < nOut; k++) {
                pointers.setAtIndex(ADDRESS, nIn + k, memory.asSlice(at, (long) n * Double.BYTES));
                at += (long) n * Double.BYTES;
            }
            call(indicator, p, params, pointers, nIn, n, pointers.asSlice((long) nIn * Long.BYTES), nOut);
            for (int k = 0; k < nOut; k++) {
                result[k] = new double[n];
                MemorySegment.copy(memory, JAVA_DOUBLE, outputsAt + (long) k * n * Double.BYTES, result[k], 0, n);
            }
        } finally {
            if (own != null) {
                own.close();
            }
        }
        return result;
    }

    /**
     * As {@link #run(String, double[][], Map)} over native memory, without a copy: inputs and
     * outputs are native segments of doubles (outputs one per indicator output, each as long as the
     * inputs). For large series, where copying Java arrays would cost as much as the computation.
     */
    public static void run(String name, MemorySegment[] inputs, Map<String, Double> params, MemorySegment[] outputs) {
        Indicator indicator = Indicator.lookup(name);
        long n = -1;
        for (MemorySegment s : inputs) {
            requireNative(indicator, s);
            long len = s.byteSize() / Double.BYTES;
            if (n >= 0 && len != n) {
                throw new PyrtException(PyrtException.INVALID_ARGUMENT,
                        indicator.name() + ": inputs of different lengths (" + n + " and " + len + ")");
            }
            n = len;
        }
        n = Math.max(n, 0);
        for (MemorySegment s : outputs) {
            requireNative(indicator, s);
            if (s.byteSize() / Double.BYTES != n) {
                throw new PyrtException(PyrtException.INVALID_ARGUMENT, indicator.name() + ": an output has room for "
                        + s.byteSize() / Double.BYTES + " values, the inputs have " + n);
            }
        }
        int nIn = inputs.length;
        int nOut = outputs.length;
        MemorySegment memory = Scratch.get((long) (nIn + nOut + indicator.params().size()) * Long.BYTES);
        MemorySegment pointers = memory.asSlice(0, (long) (nIn + nOut) * Long.BYTES);
        for (int i = 0; i < nIn; i++) {
            pointers.setAtIndex(ADDRESS, i, inputs[i]);
        }
        for (int k = 0; k < nOut; k++) {
            pointers.setAtIndex(ADDRESS, nIn + k, outputs[k]);
        }
        MemorySegment p = indicator.paramArray(memory.asSlice((long) (nIn + nOut) * Long.BYTES), params);
        call(indicator, p, params, pointers, nIn, n, pointers.asSlice((long) nIn * Long.BYTES), nOut);
    }

    private static void requireNative(Indicator indicator, MemorySegment s) {
        if (s == null || !s.isNative()) {
            throw new PyrtException(PyrtException.INVALID_ARGUMENT,
                    indicator.name() + ": series must be native memory segments (use the double[][] run for arrays)");
        }
    }

    private static void call(Indicator indicator, MemorySegment p, Map<String, Double> params, MemorySegment inputs,
            long nInputs, long len, MemorySegment outputs, long nOutputs) {
        int status;
        try {
            status = (int) Native.INDICATOR_RUN.invokeExact(indicator.cName, p, (long) indicator.paramCount(params),
                    inputs, nInputs, len, outputs, nOutputs);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        Native.check(status);
    }
}
