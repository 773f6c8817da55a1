package blt4j.io;

import blt4j.nn.HashRows;
import java.io.IOException;

/**
 * Rows of a safetensors tensor (F32, BF16 or F16), read from the mapping on demand and widened to fp32: a whole
 * tensor, or one table of the Hugging Face port's fused hash table.
 */
public final class MappedRows implements HashRows {
    private final TensorFiles files;
    private final String tensor;
    private final long firstRow;
    private final int rows;
    private final int dim;

    public MappedRows(TensorFiles files, FileWeights.Location location, int rows, int dim) throws IOException {
        TensorInfo info = files.info(location.tensor());
        long fileRows = info.rank() == 2 ? info.dim(0) : -1;
        if (info.rank() != 2 || info.dim(1) != dim || location.fromRow() < 0 || location.fromRow() + rows > fileRows) {
            throw new SafetensorsException(files.source(), "tensor '" + location.tensor() + "' of shape "
                    + java.util.Arrays.toString(info.shape()) + " cannot hold rows [" + location.fromRow() + ", "
                    + (location.fromRow() + rows) + ") of width " + dim);
        }
        switch (info.dtype()) {
            case F32, BF16, F16 -> { }
            default -> throw new SafetensorsException(files.source(), "tensor '" + location.tensor() + "' has dtype "
                    + info.dtype() + "; hash tables must be F32, BF16 or F16");
        }
        this.files = files;
        this.tensor = location.tensor();
        this.firstRow = location.fromRow();
        this.rows = rows;
        this.dim = dim;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public void gather(int[] ids, int n, float[] dst) throws IOException {
        for (int i = 0; i < n; i++) {
            int id = ids[i];
            if (id < 0 || id >= rows) {
                throw new IllegalArgumentException("hash id " + id + " outside the table's " + rows + " rows");
            }
            files.readFloats(tensor, (firstRow + id) * dim, dim, dst, i * dim);
        }
    }
}
