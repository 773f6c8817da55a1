package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import java.util.Arrays;

/**
 * Capacity-sized host and backend storage for one mask ({@link Ranges}): the bounds are filled on the host and
 * written into the same backend buffers every step; bounds equal to the last upload are not sent again (a fixed
 * batch shape without EOS keeps its local mask on the device).
 */
public final class RangeBuffer {
    /** Host bounds [capacity]; fill the first rows, then call {@link #ranges}. */
    public final int[] lo;
    public final int[] hi;
    private final Tensor loDevice;
    private final Tensor hiDevice;
    private final int[] sentLo;
    private final int[] sentHi;
    private Ranges sent;

    public RangeBuffer(Backend backend, int capacity) {
        lo = new int[capacity];
        hi = new int[capacity];
        sentLo = new int[capacity];
        sentHi = new int[capacity];
        loDevice = Buffers.i32(backend, Math.max(1, capacity));
        hiDevice = Buffers.i32(backend, Math.max(1, capacity));
    }

    public int capacity() {
        return lo.length;
    }

    /** The first {@code rows} bounds as ranges over this buffer's storage (uploaded when they changed). */
    public Ranges ranges(int rows) {
        if (sent != null && sent.count() == rows && Arrays.equals(lo, 0, rows, sentLo, 0, rows)
                && Arrays.equals(hi, 0, rows, sentHi, 0, rows)) {
            return sent;
        }
        sent = Ranges.into(loDevice, hiDevice, lo, hi, rows);
        System.arraycopy(lo, 0, sentLo, 0, rows);
        System.arraycopy(hi, 0, sentHi, 0, rows);
        return sent;
    }
}
