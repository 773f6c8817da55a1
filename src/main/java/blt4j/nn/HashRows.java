package blt4j.nn;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One hash n-gram table read row by row where it lies (a memory-mapped file) instead of being copied into the
 * parameter buffer: blt-1b's six tables are 3.07B of its 4.53B parameters, and a byte only ever reads one row of
 * each. Used by inference; a model whose tables are held this way cannot be trained.
 */
public interface HashRows {
    int rows();

    int dim();

    /** Rows {@code ids[0..n)} as fp32 into {@code dst[0 .. n·dim)}. */
    void gather(int[] ids, int n, float[] dst) throws IOException;

    /** A table already in memory ({@code rows × dim}, row-major). */
    static HashRows of(float[] data, int rows, int dim) {
        if ((long) rows * dim != data.length) {
            throw new IllegalArgumentException("a table of " + rows + " × " + dim + " needs " + (long) rows * dim
                    + " values, got " + data.length);
        }
        return new HashRows() {
            @Override
            public int rows() {
                return rows;
            }

            @Override
            public int dim() {
                return dim;
            }

            @Override
            public void gather(int[] ids, int n, float[] dst) {
                for (int i = 0; i < n; i++) {
                    System.arraycopy(data, ids[i] * dim, dst, i * dim, dim);
                }
            }
        };
    }

    /** {@link #gather} for callers that cannot throw: a read error of a mapped file becomes unchecked. */
    default void gatherUnchecked(int[] ids, int n, float[] dst) {
        try {
            gather(ids, n, dst);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read hash table rows: " + e.getMessage(), e);
        }
    }
}
