package dev.pyrt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyrtTest {
    @Test
    void versionMatchesPython() throws Exception {
        Process p = new ProcessBuilder(Peer.python(), "-c", "import pyrt; print(pyrt.__version__)").start();
        String python = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor());
        assertEquals(python, Pyrt.version());
    }

    @Test
    void catalogUsesTalibNames() {
        Indicator macd = Pyrt.indicator("MACD");
        assertEquals(List.of("real"), macd.inputs());
        assertEquals(List.of("macd", "macdsignal", "macdhist"), macd.outputs());
        assertEquals(List.of("fastperiod", "slowperiod", "signalperiod"),
                macd.params().stream().map(Indicator.Param::name).toList());
        assertTrue(Pyrt.indicators().size() >= 6);
    }

    private static Map<String, Double> params(JsonObject o) {
        Map<String, Double> out = new HashMap<>();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            out.put(e.getKey(), e.getValue().getAsDouble());
        }
        return out;
    }

    private static void assertSameBits(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                fail(what + " differs at bar " + i + ": " + actual[i] + " vs Python's " + expected[i]);
            }
        }
    }

    /** Every catalog function through run, default and other parameters, bit for bit equal to pyrt.talib. */
    @Test
    void runEqualsPythonBitForBit() throws Exception {
        Peer.Reference ref = Peer.reference();
        assertEquals(Pyrt.indicators().size(), ref.functions.size(), "catalog size seen by Python and Java");
        for (JsonElement element : ref.functions) {
            JsonObject f = element.getAsJsonObject();
            String name = f.get("name").getAsString();
            double[][] inputs = ref.series(f.getAsJsonArray("inputs"));
            for (JsonElement r : f.getAsJsonArray("runs")) {
                Map<String, Double> p = params(r.getAsJsonObject().getAsJsonObject("params"));
                double[][] got = Pyrt.run(name, inputs, p);
                var expected = r.getAsJsonObject().getAsJsonArray("outputs");
                assertEquals(expected.size(), got.length, name + " outputs");
                for (int k = 0; k < got.length; k++) {
                    assertSameBits(Peer.decode(expected.get(k).getAsString()), got[k], name + " " + p + " output " + k);
                }
                // The same through native memory, without copies.
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment[] in = new MemorySegment[inputs.length];
                    for (int i = 0; i < inputs.length; i++) {
                        in[i] = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, inputs[i]);
                    }
                    MemorySegment[] out = new MemorySegment[got.length];
                    for (int k = 0; k < got.length; k++) {
                        out[k] = arena.allocate(ValueLayout.JAVA_DOUBLE, inputs[0].length);
                    }
                    Pyrt.run(name, in, p, out);
                    for (int k = 0; k < got.length; k++) {
                        assertSameBits(got[k], out[k].toArray(ValueLayout.JAVA_DOUBLE), name + " native output " + k);
                    }
                }
            }
        }
    }

    private static double[] tick(double[][] series, int bar) {
        double[] t = new double[series.length];
        for (int i = 0; i < series.length; i++) {
            t[i] = series[i][bar];
        }
        return t;
    }

    /** Python's saved state resumes in Java with Python's values (which the peer checked against TA-Lib). */
    @Test
    void pythonStateResumesInJava() throws Exception {
        Peer.Reference ref = Peer.reference();
        for (JsonElement element : ref.functions) {
            JsonObject f = element.getAsJsonObject();
            String name = f.get("name").getAsString();
            JsonObject s = f.getAsJsonObject("stream");
            assertTrue(s.get("talib_mismatch").isJsonNull(), name + ": " + s.get("talib_mismatch"));
            double[][] series = ref.series(f.getAsJsonArray("inputs"));
            int history = s.get("history").getAsInt();
            int ticks = s.get("ticks").getAsInt();
            List<Double> got = new ArrayList<>();
            try (Stream stream = Stream.load(Base64.getDecoder().decode(s.get("state").getAsString()))) {
                assertEquals(name, stream.indicator().name());
                for (int k = 0; k < ticks; k++) {
                    for (double v : stream.update(tick(series, history + k))) {
                        got.add(v);
                    }
                }
            }
            assertSameBits(Peer.decode(s.get("values").getAsString()),
                    got.stream().mapToDouble(Double::doubleValue).toArray(), name + " resumed in Java");
        }
    }

    /** Java's saved state resumes in Python: the same values bit for bit, and TA-Lib's. */
    @Test
    void javaStateResumesInPython(@TempDir Path dir) throws Exception {
        Peer.Reference ref = Peer.reference();
        int history = 250;
        int before = 7;
        int after = 12;
        List<Map<String, Object>> saved = new ArrayList<>();
        for (JsonElement element : ref.functions) {
            JsonObject f = element.getAsJsonObject();
            String name = f.get("name").getAsString();
            double[][] series = ref.series(f.getAsJsonArray("inputs"));
            double[][] hist = new double[series.length][];
            for (int i = 0; i < series.length; i++) {
                hist[i] = java.util.Arrays.copyOf(series[i], history);
            }
            try (Stream stream = Stream.create(name, hist, null)) {
                for (int k = history; k < history + before; k++) {
                    stream.update(tick(series, k));
                }
                byte[] state = stream.save();
                List<Double> values = new ArrayList<>();
                for (int k = history + before; k < history + before + after; k++) {
                    for (double v : stream.update(tick(series, k))) {
                        values.add(v);
                    }
                }
                saved.add(Map.of("name", name, "state", Base64.getEncoder().encodeToString(state),
                        "start", history + before,
                        "values", Peer.encode(values.stream().mapToDouble(Double::doubleValue).toArray())));
            }
        }
        Path file = dir.resolve("java-states.json");
        Files.writeString(file, new Gson().toJson(saved));
        String out = Peer.run("resume", file.toString());
        assertTrue(out.contains("resumed " + saved.size() + " states, 0 failures"), out);
    }

    private static void assertPyrtError(int status, String mentions, Executable call) {
        PyrtException e = assertThrows(PyrtException.class, call::run);
        assertEquals(status, e.status(), e.getMessage());
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty() && e.getMessage().contains(mentions),
                "message \"" + e.getMessage() + "\" should mention " + mentions);
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Throwable;
    }

    @Test
    void badInputThrowsWithTheCoresMessage() {
        double[] close = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertPyrtError(PyrtException.NOT_FOUND, "NOPE", () -> Pyrt.run("NOPE", new double[][] {close}, null));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "input", () -> Pyrt.run("SMA", new double[][] {close, close}, null));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "close",
                () -> Pyrt.run("ATR", new double[][] {close, close, java.util.Arrays.copyOf(close, 9)}, null));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "timeperiod",
                () -> Pyrt.run("SMA", new double[][] {close}, Map.of("timeperiod", 0.0)));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "timeperiod",
                () -> Pyrt.run("SMA", new double[][] {close}, Map.of("period", 3.0)));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "NUL", () -> Pyrt.run("SMA\0", new double[][] {close}, null));
        assertPyrtError(PyrtException.INSUFFICIENT_HISTORY, "",
                () -> Stream.create("SMA", new double[][] {{1, 2, 3}}, null));
        assertPyrtError(PyrtException.INVALID_STATE, "", () -> Stream.load("not a state".getBytes()));
        assertPyrtError(PyrtException.INVALID_STATE, "", () -> Stream.load(new byte[0]));
        assertPyrtError(PyrtException.NOT_FOUND, "pyrt-java-no-such-ring", () -> Ring.open("pyrt-java-no-such-ring"));

        Stream s = Stream.create("SMA", new double[][] {close}, Map.of("timeperiod", 3.0));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "", () -> s.update(Double.NaN));
        assertPyrtError(PyrtException.INVALID_ARGUMENT, "", () -> s.update(1, 2));
        assertArrayEquals(new double[] {10}, s.update(11), "the stream is unchanged by refused bars");
        s.close();
        s.close();
        assertPyrtError(PyrtException.CLOSED, "closed", () -> s.update(12));
        assertPyrtError(PyrtException.CLOSED, "closed", s::save);
    }

    /**
     * Two threads update one SMA stream: with a history of zeros and ticks of 1.0, the k-th update
     * applied gives exactly k/period, so the outputs both threads saw must be 1..n (times 1/period),
     * each once: a serial order, nothing lost or torn.
     */
    @Test
    void streamSharedByThreadsGivesASerialOrder() throws Exception {
        int period = 2000;
        int perThread = 1000;
        Stream s = Stream.create("SMA", new double[][] {new double[period]}, Map.of("timeperiod", (double) period));
        ConcurrentLinkedQueue<Long> seen = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    seen.add(Math.round(s.update(1.0)[0] * period));
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        List<Long> all = new ArrayList<>(seen);
        Collections.sort(all);
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i), "update counts seen");
        }
        assertEquals(2 * perThread, all.size());
        // close racing with updates: they finish or throw CLOSED, never crash.
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        List<Thread> racing = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            racing.add(Thread.ofPlatform().start(() -> {
                while (true) {
                    try {
                        s.update(1.0);
                    } catch (PyrtException e) {
                        if (e.status() != PyrtException.CLOSED) {
                            unexpected.add(e);
                        }
                        return;
                    }
                }
            }));
        }
        Thread.sleep(5);
        s.close();
        for (Thread t : racing) {
            t.join();
        }
        assertTrue(unexpected.isEmpty(), unexpected.toString());
    }

    private static Ring.Record seq(long i) {
        return new Ring.Record((int) (i % 1000), i * 0.5, i % 7 + 1, i);
    }

    /** A ring created and filled by a Python process (100,000 records), read here in order. */
    @Test
    void ringFromPythonReadInOrder() throws Exception {
        int count = 100_000;
        String name = "pyrt-java-ring-" + ProcessHandle.current().pid();
        Process producer = Peer.command("ring-produce", name, Integer.toString(count), "4096")
                .redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(producer.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", lines.readLine());
            try (Ring ring = Ring.open(name)) {
                long got = 0;
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (got < count) {
                    Ring.Record[] batch = ring.popBatch(4096);
                    for (Ring.Record r : batch) {
                        assertEquals(seq(got), r, "record " + got);
                        got++;
                    }
                    if (batch.length == 0) {
                        assertTrue(System.nanoTime() < deadline, "only " + got + " records arrived");
                        Thread.sleep(0, 100_000);
                    }
                }
                assertEquals(0, producer.waitFor(), "producer exit status");
                assertEquals(0, ring.popBatch(10).length, "records after the last one");
            }
        } finally {
            producer.destroy();
            Ring.unlink(name);
        }
    }

    @Test
    void ringCloseIsSafeAndFinal() throws Exception {
        String name = "pyrt-java-close-" + ProcessHandle.current().pid();
        Ring ring = Ring.create(name, 64);
        try {
            assertTrue(ring.push(seq(1)));
            List<Thread> closers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                closers.add(Thread.ofPlatform().start(ring::close));
            }
            for (Thread t : closers) {
                t.join();
            }
            assertPyrtError(PyrtException.CLOSED, "closed", () -> ring.popBatch(1));
            assertPyrtError(PyrtException.CLOSED, "closed", () -> ring.push(seq(2)));
            try (Ring again = Ring.open(name)) {
                assertArrayEquals(new Ring.Record[] {seq(1)}, again.popBatch(4));
            }
            assertPyrtError(PyrtException.INVALID_ARGUMENT, "NUL", () -> Ring.create("bad\0name", 64));
        } finally {
            Ring.unlink(name);
        }

    }
}
