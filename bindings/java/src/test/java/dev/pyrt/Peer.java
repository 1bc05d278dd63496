package dev.pyrt;

import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Python side of the tests: tests/bindings_peer.py of the repository, run by PYRT_PYTHON (make
 * sets it to the project's virtualenv), else the repository's .venv.
 */
final class Peer {
    private Peer() {}

    static String python() {
        String p = System.getenv("PYRT_PYTHON");
        if (p != null && !p.isEmpty()) {
            return p;
        }
        Path venv = Path.of("../../.venv/bin/python").toAbsolutePath().normalize();
        if (!Files.exists(venv)) {
            fail("no Python with pyrt: set PYRT_PYTHON (tried " + venv + ")");
        }
        return venv.toString();
    }

    static String script() {
        return Path.of("../../tests/bindings_peer.py").toAbsolutePath().normalize().toString();
    }

    static ProcessBuilder command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(python(), script()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    /** Runs the peer to the end; its output, or a test failure with it. */
    static String run(String... args) throws IOException, InterruptedException {
        Process p = command(args).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            fail("bindings_peer.py " + String.join(" ", args) + " failed:\n" + out);
        }
        return out;
    }

    static double[] decode(String base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64)).order(ByteOrder.LITTLE_ENDIAN);
        double[] out = new double[b.remaining() / 8];
        b.asDoubleBuffer().get(out);
        return out;
    }

    static String encode(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** The reference document (see bindings_peer.py `reference`), made once per test run. */
    static final class Reference {
        final Map<String, double[]> walk = new HashMap<>();
        final JsonArray functions;

        Reference(JsonObject doc) {
            for (Map.Entry<String, JsonElement> e : doc.getAsJsonObject("walk").entrySet()) {
                walk.put(e.getKey(), decode(e.getValue().getAsString()));
            }
            functions = doc.getAsJsonArray("functions");
        }

        double[][] series(JsonArray keys) {
            double[][] out = new double[keys.size()][];
            for (int i = 0; i < keys.size(); i++) {
                out[i] = walk.get(keys.get(i).getAsString());
            }
            return out;
        }
    }

    private static Reference reference;

    static synchronized Reference reference() throws IOException, InterruptedException {
        if (reference == null) {
            Path dir = Files.createTempDirectory("pyrt-java-reference");
            Path file = dir.resolve("reference.json");
            run("reference", file.toString());
            reference = new Reference(new Gson().fromJson(Files.readString(file), JsonObject.class));
            Files.delete(file);
            Files.delete(dir);
        }
        return reference;
    }
}
