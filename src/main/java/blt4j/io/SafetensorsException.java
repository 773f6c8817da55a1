package blt4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file that is malformed, or that does not hold what the caller asked for. It is an
 * {@link IOException} because a corrupt or mismatched weights file is an input problem that callers
 * (loaders, checkpoint code) handle together with ordinary I/O failures; the message always names the
 * file so that the error is actionable without a stack trace.
 */
public class SafetensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    private final Path file;

    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file the problem was found in. */
    public Path file() {
        return file;
    }
}
