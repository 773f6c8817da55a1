package blt4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A PyTorch checkpoint that is malformed, truncated, unsafe to unpickle, or that does not hold what the
 * caller asked for. Like {@link SafetensorsException} the message always starts with the file, so the
 * error is actionable without a stack trace.
 */
public class TorchCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final Path file;

    public TorchCheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public TorchCheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The checkpoint the problem was found in. */
    public Path file() {
        return file;
    }
}
