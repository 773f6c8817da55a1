package blt4j.compute.opencl;

import blt4j.compute.DType;
import org.jocl.cl_mem;

/** The storage object of an OpenCL tensor: one cl_mem; views of it pass element offsets to the kernels. */
public final class ClBuffer {
    final cl_mem mem;
    final DType dtype;
    final int elements;
    final long bytes;

    ClBuffer(cl_mem mem, DType dtype, int elements, long bytes) {
        this.mem = mem;
        this.dtype = dtype;
        this.elements = elements;
        this.bytes = bytes;
    }

    public long bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return "ClBuffer[" + elements + " x " + dtype + "]";
    }
}
