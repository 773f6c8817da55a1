package blt4j.io;

import java.io.IOException;

/** A consumer that may throw {@link IOException}, so file-writing callbacks need no wrapping. */
@FunctionalInterface
public interface IOConsumer<T> {
    void accept(T value) throws IOException;
}
