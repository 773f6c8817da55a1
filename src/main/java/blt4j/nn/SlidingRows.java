package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/**
 * The rows of a growing sequence (one row per position) kept from {@link #offset} to {@link #length}: when the
 * buffer is full, rows older than what the caller still needs are dropped by moving the rest to the front, so a
 * sliding window costs a fixed buffer however long the sequence grows. The buffer grows (doubling) only when the
 * rows still needed do not fit.
 */
public final class SlidingRows {
    private final Backend backend;
    private final int width;
    private Tensor rows;
    private int offset;
    private int length;

    public SlidingRows(Backend backend, int capacity, int width) {
        this.backend = backend;
        this.width = width;
        this.rows = backend.zeros(Math.max(1, capacity), width);
    }

    /** Position held by buffer row 0. */
    public int offset() {
        return offset;
    }

    /** One past the last position appended. */
    public int length() {
        return length;
    }

    public int capacity() {
        return rows.rows();
    }

    /**
     * Makes room for {@code n} more rows while keeping positions from {@code keepFrom} on (earlier ones may be
     * dropped). Moves the kept rows to the front when they do not overlap their destination; otherwise grows.
     */
    public void reserve(int n, int keepFrom) {
        if (length - offset + n <= capacity()) {
            return;
        }
        int keep = Math.max(offset, Math.min(keepFrom, length));
        int kept = length - keep;
        if (kept + n <= capacity() && keep - offset >= kept) {
            if (kept > 0) {
                backend.copy(rows.rowSlice(keep - offset, length - offset), rows.rowSlice(0, kept));
            }
        } else {
            int grown = capacity();
            while (grown < kept + n) {
                grown *= 2;
            }
            Tensor bigger = backend.zeros(Math.max(grown, 2 * capacity()), width);
            if (kept > 0) {
                backend.copy(rows.rowSlice(keep - offset, length - offset), bigger.rowSlice(0, kept));
            }
            rows = bigger;
        }
        offset = keep;
    }

    /** Appends {@code n} rows (call {@link #reserve} first); returns the buffer rows to fill. */
    public Tensor append(int n) {
        if (length - offset + n > capacity()) {
            throw new IllegalStateException("no room for " + n + " rows past position " + length + ": reserve them first");
        }
        Tensor slice = rows.rowSlice(length - offset, length - offset + n);
        length += n;
        return slice;
    }

    /** Rows of positions [from, to), all still held. */
    public Tensor slice(int from, int to) {
        if (from < offset || to > length || from > to) {
            throw new IllegalArgumentException("positions [" + from + ", " + to + ") but only [" + offset + ", " + length
                    + ") are held");
        }
        return rows.rowSlice(from - offset, to - offset);
    }

    /** Forgets positions from {@code newLength} on. */
    public void truncate(int newLength) {
        if (newLength < offset || newLength > length) {
            throw new IllegalArgumentException("cannot truncate rows [" + offset + ", " + length + ") to length " + newLength);
        }
        length = newLength;
    }
}
