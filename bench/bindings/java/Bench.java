// Java side of the binding benchmark: each pyrt call against a plain Java
// equivalent in the same JVM. Prints "name nanoseconds-per-call" lines.
// Run: java --enable-native-access=ALL-UNNAMED -cp pyrt.jar Bench.java
import dev.pyrt.Pyrt;
import dev.pyrt.Ring;
import dev.pyrt.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

public class Bench {
    static double[] walk(int n) {
        double[] p = new double[n];
        double x = 100.0;
        int s = 12345;
        for (int i = 0; i < n; i++) {
            s = s * 1103515245 + 12345;
            x += ((s >>> 16) & 0x7fff) / 32768.0 - 0.5;
            p[i] = x;
        }
        return p;
    }

    /** The plain Java SMA (TA-Lib's definition, window 30): a running sum. */
    static void smaLoop(double[] in, double[] out, int window) {
        double sum = 0;
        for (int i = 0; i < in.length; i++) {
            sum += in[i];
            if (i >= window) sum -= in[i - window];
            out[i] = i >= window - 1 ? sum / window : Double.NaN;
        }
    }

    static double sink;

    /** Best round of iters calls (after a warm-up round for the JIT): the least disturbed by other work. */
    static double best(int iters, Runnable f) {
        for (int i = 0; i < iters; i++) f.run();
        double best = Double.POSITIVE_INFINITY;
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) f.run();
            best = Math.min(best, (System.nanoTime() - t0) / (double) iters);
        }
        return best;
    }

    public static void main(String[] args) {
        double[] small = walk(1000), big = walk(1_000_000);
        double[] smallOut = new double[small.length], bigOut = new double[big.length];
        System.out.printf("loop_sma_1k %.1f%n", best(20000, () -> smaLoop(small, smallOut, 30)));
        System.out.printf("run_sma_1k %.1f%n", best(20000, () -> sink += Pyrt.run("SMA", new double[][] {small}, null)[0][999]));
        System.out.printf("loop_sma_1m %.1f%n", best(20, () -> smaLoop(big, bigOut, 30)));
        System.out.printf("run_sma_1m %.1f%n", best(20, () -> sink += Pyrt.run("SMA", new double[][] {big}, null)[0][999]));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] in = {arena.allocateFrom(ValueLayout.JAVA_DOUBLE, big)};
            MemorySegment[] out = {arena.allocate(ValueLayout.JAVA_DOUBLE, big.length)};
            System.out.printf("runinto_sma_1m %.1f%n", best(20, () -> Pyrt.run("SMA", in, null, out)));
            MemorySegment[] in1k = {arena.allocateFrom(ValueLayout.JAVA_DOUBLE, small)};
            MemorySegment[] out1k = {arena.allocate(ValueLayout.JAVA_DOUBLE, small.length)};
            System.out.printf("runinto_sma_1k %.1f%n", best(20000, () -> Pyrt.run("SMA", in1k, null, out1k)));
        }

        try (Stream stream = Stream.create("SMA", new double[][] {small}, null)) {
            int[] i = {0};
            double[] tick = new double[1], out = new double[1];
            System.out.printf("update %.1f%n", best(1_000_000, () -> sink += stream.update(100.0 + (++i[0] & 15))[0]));
            System.out.printf("updateinto %.1f%n", best(1_000_000, () -> {
                tick[0] = 100.0 + (++i[0] & 15);
                stream.update(tick, out);
            }));
            double[] window = java.util.Arrays.copyOfRange(small, 970, 1000);
            double[] sum = {0};
            for (double v : window) sum[0] += v;
            int[] pos = {0};
            System.out.printf("loop_update %.1f%n", best(1_000_000, () -> {
                double v = 100.0 + (++i[0] & 15);
                sum[0] += v - window[pos[0]];
                window[pos[0]] = v;
                pos[0] = (pos[0] + 1) % 30;
                sink += sum[0] / 30;
            }));
        }

        String name = "pyrt-bench-java-" + ProcessHandle.current().pid();
        try (Ring ring = Ring.create(name, 8192)) {
            Ring.Record[] recs = new Ring.Record[4096];
            for (int k = 0; k < recs.length; k++) recs[k] = new Ring.Record(k % 1000, k * 0.5, k % 7 + 1, k);
            double best = Double.POSITIVE_INFINITY;
            for (int round = 0; round < 6; round++) {
                long total = 0;
                for (int it = 0; it < 2000; it++) {
                    ring.pushBatch(recs);
                    long t0 = System.nanoTime();
                    Ring.Record[] got = ring.popBatch(4096);
                    total += System.nanoTime() - t0;
                    if (got.length != 4096) throw new IllegalStateException("popped " + got.length);
                }
                if (round > 0) best = Math.min(best, total / 2000.0);
            }
            System.out.printf("pop_4096 %.1f%n", best);
            Ring.Record[] queue = recs.clone();
            System.out.printf("loop_pop_4096 %.1f%n", best(2000, () -> {
                Ring.Record[] out = new Ring.Record[4096];
                for (int k = 0; k < 4096; k++) {
                    Ring.Record r = queue[k];
                    out[k] = new Ring.Record(r.symbolId(), r.price(), r.volume(), r.timestampUs());
                }
                sink += out[4095].price();
            }));
        } finally {
            Ring.unlink(name);
        }
        if (sink == 42) System.out.println();
    }
}
