package blt4j.nn;

import blt4j.compute.Backend;
import blt4j.compute.Ranges;
import blt4j.compute.RopeTables;
import blt4j.compute.Tensor;

/**
 * Where a block of new positions sits for a cached transformer stack: the RoPE positions, the attention mask in
 * cache rows, and the oldest position the caches must keep. Attention is causal within a sliding window
 * ({@code window ≤ 0}: unlimited); with a {@code period}, the context restarts every period positions (positions
 * from 0 again, no attention across the edge: the reference's rows of max_seqlen tokens). Positions past the RoPE
 * table get their angles computed for the block, exactly as a larger table would hold them.
 */
public final class CachedPositions {
    private final Backend backend;
    private final RopeTables table;
    private final int window;
    private final int period;
    private final int slack;
    private final Tensor positions;      // [B] I32 RoPE positions (rows of ropeRows when past the table)
    private final int[] hostPositions;   // [B]
    private final RangeBuffer mask;      // [B] in cache rows
    private RopeTables ropeRows;         // created when a position passes the table
    private RopeTables rope;
    private int n;                       // rows of the last block

    /** @param slack positions a rollback may remove after a block (speculation), which the caches keep in reserve */
    public CachedPositions(Backend backend, RopeTables table, int block, int window, int period, int slack) {
        this.backend = backend;
        this.table = table;
        this.window = window;
        this.period = period;
        this.slack = slack;
        positions = Buffers.i32(backend, block);
        hostPositions = new int[block];
        mask = new RangeBuffer(backend, block);
    }

    /** Buffer rows a cache needs for blocks of {@code block} positions: all of {@code total} without a window. */
    public static int cacheCapacity(int total, int window, int block, int slack) {
        return window > 0 ? Math.min(total, block + 2 * (window + slack)) : total;
    }

    /** The oldest position a block starting at {@code from} reads, or a later rollback may read again. */
    public int keepFrom(int from) {
        int earliest = Math.max(0, from - slack);
        int start = rowStart(earliest);
        return window > 0 ? Math.max(start, earliest - window + 1) : start;
    }

    /** Reserves room for positions [from, from + n) in the caches, then sets the block's positions, mask and RoPE rows. */
    public void prepare(int from, int n, KvCache[] caches) {
        prepareMask(from, n, caches);
        for (int i = 0; i < n; i++) {
            hostPositions[i] = ropePosition(from + i);
        }
        setRopePositions(hostPositions, n);
    }

    /**
     * Reserves room for positions [from, from + n) and returns their mask (in cache rows) only: a batched step
     * takes each sequence's mask from here and sets the RoPE positions of all rows at once ({@link #setRopePositions}).
     */
    public Ranges prepareMask(int from, int n, KvCache[] caches) {
        KvCache.reserve(caches, n, keepFrom(from));
        int cacheOffset = caches.length == 0 ? 0 : caches[0].offset(); // a stack of no layers reads no mask
        for (int i = 0; i < n; i++) {
            int p = from + i;
            int start = rowStart(p);
            mask.lo[i] = (window > 0 ? Math.max(start, p - window + 1) : start) - cacheOffset;
            mask.hi[i] = p + 1 - cacheOffset;
        }
        this.n = n;
        return mask.ranges(n);
    }

    /** The RoPE position of position p (it restarts with every row of the period). */
    public int ropePosition(int p) {
        return p - rowStart(p);
    }

    /** Sets the RoPE positions of rows [0, n); past the table their angles are computed into rows of their own. */
    public void setRopePositions(int[] ropePositions, int n) {
        boolean pastTable = false;
        for (int i = 0; i < n; i++) {
            hostPositions[i] = ropePositions[i];
            pastTable |= ropePositions[i] >= table.maxPositions();
        }
        rope = table;
        if (pastTable) {
            if (ropeRows == null) {
                ropeRows = RopeTables.rowsFor(backend, table.theta(), table.headDim(), hostPositions.length);
            }
            ropeRows.fillRows(hostPositions, n);
            for (int i = 0; i < n; i++) {
                hostPositions[i] = i;
            }
            rope = ropeRows;
        }
        backend.upload(hostPositions, 0, Buffers.first(positions, n));
        this.n = n;
    }

    private int rowStart(int p) {
        return period > 0 ? p - p % period : 0;
    }

    public Tensor positions() {
        return Buffers.first(positions, n);
    }

    public Ranges mask() {
        return mask.ranges(n);
    }

    public RopeTables rope() {
        return rope;
    }
}
