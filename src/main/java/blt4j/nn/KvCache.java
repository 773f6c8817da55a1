package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Tensor;

/**
 * Keys and values of one attention layer for incremental decoding, by position. Positions older than a caller's
 * window are dropped when room is needed ({@link #reserve}), so a sliding-window layer keeps a fixed buffer; mask
 * bounds are in cache rows, i.e. positions minus {@link #offset()}.
 */
public final class KvCache {
    private final SlidingRows k;
    private final SlidingRows v;

    public KvCache(Backend backend, int capacity, int width) {
        this.k = new SlidingRows(backend, capacity, width);
        this.v = new SlidingRows(backend, capacity, width);
    }

    /** One past the last position held. */
    public int length() {
        return k.length();
    }

    /** Position held by cache row 0. */
    public int offset() {
        return k.offset();
    }

    public int capacity() {
        return k.capacity();
    }

    /** Forgets every position from {@code newLength} on (speculative decoding rolls back rejected bytes). */
    public void truncate(int newLength) {
        if (newLength < offset() || newLength > length()) {
            throw new IllegalArgumentException("cannot truncate a KV cache of positions [" + offset() + ", " + length()
                    + ") to " + newLength);
        }
        k.truncate(newLength);
        v.truncate(newLength);
    }

    /** Truncates every cache of a stack. */
    public static void truncate(KvCache[] caches, int newLength) {
        for (KvCache c : caches) {
            c.truncate(newLength);
        }
    }

    /** Makes room in every cache of a stack for n more positions, keeping those from {@code keepFrom} on. */
    public static void reserve(KvCache[] caches, int n, int keepFrom) {
        for (KvCache c : caches) {
            c.k.reserve(n, keepFrom);
            c.v.reserve(n, keepFrom);
        }
    }

    /** Appends rows of keys and values (room reserved first, or the cache grows); returns the cache row of the first. */
    int append(Backend backend, Tensor newK, Tensor newV) {
        int n = newK.rows();
        k.reserve(n, offset());
        v.reserve(n, offset());
        int at = length() - offset();
        backend.copy(newK, k.append(n));
        backend.copy(newV, v.append(n));
        return at;
    }

    Tensor keys() {
        return k.slice(offset(), length());
    }

    Tensor values() {
        return v.slice(offset(), length());
    }
}
