package blt4j.compute.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * Built programs, cached in memory by (device, source hash, build options) or (device, binary file), and
 * optionally on disk as program binaries under {@code ~/.cache/blt4j/opencl} (key also holds the driver version).
 * A failed build throws {@link OpenClBuildException} with the compiler's log.
 */
public final class ProgramCache {
    private ProgramCache() {}

    /** A built program and how it was obtained: "source", "disk-cache" or "binary:&lt;path&gt;". */
    public record Built(cl_program program, String origin, long buildNanos, String key) {}

    private static final Map<String, Built> PROGRAMS = new ConcurrentHashMap<>();
    private static volatile int builds;

    /** Programs created (compiled or loaded) in this JVM; cache hits do not count. */
    public static int builds() {
        return builds;
    }

    static Built fromSource(DeviceContext dc, String source, String options, boolean diskCache) {
        String key = dc.info.id() + "|" + dc.info.name() + "|" + dc.info.driverVersion() + "|" + sha256(source) + "|" + options;
        return PROGRAMS.computeIfAbsent(key, k -> {
            long t0 = System.nanoTime();
            Path cacheFile = diskCache ? diskCacheDir().resolve(sha256(k) + ".bin") : null;
            if (cacheFile != null && Files.isRegularFile(cacheFile)) {
                try {
                    cl_program p = createFromBinary(dc, Files.readAllBytes(cacheFile), options, cacheFile.toString());
                    builds++;
                    return new Built(p, "disk-cache", System.nanoTime() - t0, k);
                } catch (IOException | RuntimeException e) {
                    System.err.println("blt4j opencl: ignoring unusable cached binary " + cacheFile + " (" + e.getMessage() + ")");
                    try {
                        Files.deleteIfExists(cacheFile);
                    } catch (IOException ignored) {
                        // best effort
                    }
                    t0 = System.nanoTime();
                }
            }
            cl_program p = clCreateProgramWithSource(dc.context, 1, new String[] {source}, null, null);
            build(p, dc, options, "compiling the blt4j OpenCL kernels for " + dc.info.name() + " with options '" + options + "'");
            builds++;
            Built b = new Built(p, "source", System.nanoTime() - t0, k);
            if (cacheFile != null) {
                try {
                    Files.createDirectories(cacheFile.getParent());
                    Path tmp = Files.createTempFile(cacheFile.getParent(), "prog", ".tmp");
                    Files.write(tmp, binary(p));
                    Files.move(tmp, cacheFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException | RuntimeException e) {
                    System.err.println("blt4j opencl: could not write program cache " + cacheFile + " (" + e.getMessage() + ")");
                }
            }
            return b;
        });
    }

    static Built fromBinaryFile(DeviceContext dc, Path file, String options) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("OpenCL program binary " + file.toAbsolutePath() + " (program.binary) does not exist");
        }
        String key = dc.info.id() + "|" + dc.info.name() + "|binary|" + file.toAbsolutePath().normalize() + "|" + options;
        return PROGRAMS.computeIfAbsent(key, k -> {
            long t0 = System.nanoTime();
            try {
                cl_program p = createFromBinary(dc, Files.readAllBytes(file), options, file.toString());
                builds++;
                return new Built(p, "binary:" + file, System.nanoTime() - t0, k);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read OpenCL program binary " + file + ": " + e.getMessage(), e);
            }
        });
    }

    private static cl_program createFromBinary(DeviceContext dc, byte[] bin, String options, String what) {
        int[] status = new int[1];
        cl_program p;
        try {
            p = clCreateProgramWithBinary(dc.context, 1, new cl_device_id[] {dc.device}, new long[] {bin.length},
                    new byte[][] {bin}, status, null);
        } catch (CLException e) {
            throw new OpenClBuildException("loading OpenCL program binary " + what + " for " + dc.info.name()
                    + " failed: " + e.getMessage() + " (binary status " + status[0] + ")", null, e);
        }
        build(p, dc, options, "building OpenCL program binary " + what + " for " + dc.info.name());
        return p;
    }

    private static void build(cl_program p, DeviceContext dc, String options, String what) {
        try {
            clBuildProgram(p, 1, new cl_device_id[] {dc.device}, options, null, null);
        } catch (CLException e) {
            String log = OpenCl.buildLog(p, dc.device);
            try {
                clReleaseProgram(p);
            } catch (RuntimeException ignored) {
                // already failing
            }
            throw new OpenClBuildException(what + " failed: " + org.jocl.CL.stringFor_errorCode(e.getStatus()), log, e);
        }
    }

    /** The device binary of a built program (CL_PROGRAM_BINARIES), e.g. to save for an FPGA-style profile. */
    public static byte[] binary(cl_program p) {
        long[] sizes = new long[1];
        clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(sizes), null);
        byte[] bin = new byte[(int) sizes[0]];
        Pointer binPtr = Pointer.to(bin);
        clGetProgramInfo(p, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(binPtr), null);
        return bin;
    }

    static Path diskCacheDir() {
        String dir = System.getProperty("blt4j.opencl.cacheDir");
        return dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "blt4j", "opencl");
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
