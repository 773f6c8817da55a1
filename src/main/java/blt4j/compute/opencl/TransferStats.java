package blt4j.compute.opencl;

/**
 * Host↔device traffic of one {@link OpenClBackend} since construction or the last reset: data uploads
 * (fromHost/upload) and data downloads (toHost/download/reads of sumOfSquares partials).
 */
public record TransferStats(long uploadCalls, long uploadBytes, long downloadCalls, long downloadBytes) {
    public long calls() {
        return uploadCalls + downloadCalls;
    }

    public long bytes() {
        return uploadBytes + downloadBytes;
    }
}
