package blt4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the team's shared test data ({@code ../shared}: corpora and golden fixtures).
 * Under {@code CI=true} a missing folder fails the test; elsewhere the test is skipped with a loud message.
 */
public final class SharedData {
    private SharedData() {}

    /** The shared folder: {@code $BLT4J_SHARED}, else {@code ../shared} next to the project root. */
    public static Path root() {
        String env = System.getenv("BLT4J_SHARED");
        Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("..", "shared");
        p = p.toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            String msg = "shared test data not found at " + p + " (set BLT4J_SHARED or check out ../shared)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(msg + "; under CI=true this is an error, not a skip");
            }
            System.err.println("!!! SKIPPING: " + msg);
            Assumptions.abort(msg);
        }
        return p;
    }

    /** A path under the shared folder that must exist. */
    public static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) {
            fail("shared file missing: " + p);
        }
        return p;
    }

    /** The blt-micro fixture folder. */
    public static Path bltMicro() {
        return file("fixtures/blt-micro");
    }
}
