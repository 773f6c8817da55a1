package blt4j.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The cpu backend refuses to start without the Vector API module instead of silently running scalar code. */
class CpuBackendVectorApiTest {

    @Test
    void withoutTheVectorModuleConstructionFailsNamingTheFlag() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Probe.class.getName());
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        proc.getInputStream().transferTo(buf);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS));
        String out = buf.toString(StandardCharsets.UTF_8).strip();
        assertEquals("EXCEPTION " + IllegalStateException.class.getName() + ": " + CpuBackend.MISSING_VECTOR_API, out);
        assertTrue(out.contains("--add-modules jdk.incubator.vector"), out);
    }

    @Test
    void withTheModuleItStarts() {
        assertTrue(CpuBackend.vectorApiAvailable());
        try (CpuBackend be = new CpuBackend(1)) {
            assertTrue(be.describe().contains("Vector API"), be.describe());
        }
    }

    /** Run in a child JVM started without {@code --add-modules jdk.incubator.vector}. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                new CpuBackend(2).close();
                System.out.println("NO-ERROR");
            } catch (Throwable e) {
                System.out.println("EXCEPTION " + e.getClass().getName() + ": " + e.getMessage());
            }
        }
    }
}
