package blt4j.compute.opencl;

/**
 * Host↔device traffic of one {@link OpenClBackend} since construction or the last reset: data uploads
 * (fromHost/upload), data downloads (toHost/download/reads of sumOfSquares partials) and the small reads of
 * the device error flag that follow kernels which can report bad ids.
 */
public record TransferStats(long uploadCalls, long uploadBytes, long downloadCalls, long downloadBytes, long errorFlagReads) {
    public long calls() {
        return uploadCalls + downloadCalls;
    }

    public long bytes() {
        return uploadBytes + downloadBytes;
    }
}
