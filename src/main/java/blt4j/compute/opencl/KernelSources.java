package blt4j.compute.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The OpenCL C sources, one resource per kernel family under {@code /opencl/}, joined into one program. */
public final class KernelSources {
    private KernelSources() {}

    /** Families in program order; {@code common.cl} (helpers, error codes) comes first. */
    public static final List<String> FAMILIES = List.of("common", "elementwise", "matmul", "norm", "rope", "attention",
            "softmax", "embedding", "optimizer");

    private static volatile String combined;

    public static String read(String family) {
        String res = "/opencl/" + family + ".cl";
        try (InputStream in = KernelSources.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalStateException("OpenCL kernel source " + res + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("reading " + res + ": " + e.getMessage(), e);
        }
    }

    /** All families in one source string. */
    public static String combined() {
        String s = combined;
        if (s == null) {
            StringBuilder sb = new StringBuilder();
            for (String f : FAMILIES) {
                sb.append("// ---- ").append(f).append(".cl\n").append(read(f)).append('\n');
            }
            s = sb.toString();
            combined = s;
        }
        return s;
    }
}
