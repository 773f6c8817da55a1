package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Access to the blt-micro golden fixture and the comparison rule its MANIFEST suggests. */
final class Fixtures {
    private Fixtures() {}

    static Path dir() {
        return SharedData.bltMicro();
    }

    static Path caseDir(String name) {
        return dir().resolve("cases").resolve(name);
    }

    static JsonObject expected(String name) throws IOException {
        return new Gson().fromJson(Files.readString(caseDir(name).resolve("expected.json")), JsonObject.class);
    }

    static int[] ints(JsonObject o, String key) {
        var a = o.getAsJsonArray(key);
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    /** |a − e| ≤ atol + rel·|e| element-wise; reports the worst element. */
    static void assertClose(String what, float[] expected, float[] actual, double atol, double rel) {
        assertTrue(expected.length == actual.length, what + ": length " + actual.length + " vs " + expected.length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]) - (atol + rel * Math.abs(expected[i]));
            if (!(err <= 0) && (at < 0 || err > worst)) {
                worst = err;
                at = i;
            }
        }
        if (at >= 0) {
            throw new AssertionError(what + ": element " + at + " is " + actual[at] + ", expected " + expected[at]
                    + " (tolerance " + atol + " + " + rel + "·|e|)");
        }
    }

    static double maxAbs(float[] x) {
        double m = 0;
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
