package blt4j.compute.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.compute.AttentionMask;
import blt4j.compute.Ranges;
import blt4j.compute.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Discovery, profiles, the program cache and binary path, errors and transfer counting. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClDeviceTest {
    private OpenClBackend cl;

    @BeforeAll
    void open() {
        cl = OpenClTestSupport.backend();
        System.err.println("[opencl] " + cl.describe());
    }

    @AfterAll
    void close() {
        if (cl != null) {
            cl.close();
        }
    }

    @Test
    void listsDevicesAndReports() {
        List<OpenClDeviceInfo> devices = OpenClDevices.list();
        assertFalse(devices.isEmpty());
        OpenClDeviceInfo d = devices.get(0);
        assertTrue(d.computeUnits() > 0 && d.globalMemBytes() > 0 && d.maxWorkGroupSize() > 0 && d.maxAllocBytes() > 0, d.summary());
        assertTrue(d.openClCVersion().startsWith("OpenCL C"), d.openClCVersion());
        String report = OpenClDevices.report();
        assertTrue(report.contains(cl.device().name()), report);
        assertTrue(report.contains("compute units") && report.contains("max work-group size"), report);
    }

    @Test
    void builtInProfilesLoadFromTheClasspathAndMatchTheConfigFolder() throws IOException {
        for (String name : DeviceProfile.BUILT_IN) {
            String res = "/tornado-config/" + name + ".properties";
            byte[] embedded;
            try (InputStream in = getClass().getResourceAsStream(res)) {
                assertTrue(in != null, "missing resource " + res);
                embedded = in.readAllBytes();
            }
            Path folder = Path.of("tornado-config", name + ".properties");
            assertArrayEquals(Files.readAllBytes(folder), embedded, folder + " and the embedded copy " + res + " differ");
            DeviceProfile p = DeviceProfile.load(name);
            assertEquals(name, p.name());
        }
        System.setProperty("blt4j.config.dir", "/nonexistent");
        try {
            DeviceProfile p = DeviceProfile.load("gpu-generic");
            assertTrue(p.source().startsWith("classpath:"), p.source());
            assertEquals(DeviceProfile.MatmulVariant.TILED, p.matmulVariant());
            assertEquals(256, p.reduceWorkGroup());
        } finally {
            System.clearProperty("blt4j.config.dir");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceProfile.load("no-such-profile"));
        assertTrue(e.getMessage().contains("pocl-cpu"), e.getMessage());
    }

    @Test
    void profileThatMatchesNoDeviceListsWhatExists() {
        DeviceProfile p = OpenClTestSupport.profile().with("device.name", "NoSuchDevice9000");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OpenClBackend(p));
        assertTrue(e.getMessage().contains("NoSuchDevice9000") && e.getMessage().contains(cl.device().name()), e.getMessage());
    }

    @Test
    void buildFailureCarriesTheCompilerLog() {
        DeviceContext dc = DeviceContext.select(OpenClTestSupport.profile());
        OpenClBuildException e = assertThrows(OpenClBuildException.class,
                () -> ProgramCache.fromSource(dc, "__kernel void broken(__global float* x) { x[0] = undefined_name; }", "", false));
        assertTrue(e.getMessage().contains("undefined_name") && e.getMessage().contains("build log"), e.getMessage());
    }

    @Test
    void programIsBuiltOncePerDeviceSourceAndOptions() {
        int before = ProgramCache.builds();
        try (OpenClBackend again = OpenClTestSupport.backend()) {
            assertEquals(before, ProgramCache.builds(), "a second backend with the same profile must reuse the built program");
            assertEquals(cl.buildOptions(), again.buildOptions());
        }
    }

    @Test
    void bufferLargerThanTheDeviceLimitIsAClearError() {
        long limit = cl.device().maxAllocBytes();
        int floats = (int) Math.min(Integer.MAX_VALUE, limit / 4 + 1024);
        if ((long) floats * 4 <= limit) {
            System.err.println("device allows buffers larger than 2^31 floats; skipping the oversize check");
            return;
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cl.zeros(floats));
        assertTrue(e.getMessage().contains("CL_DEVICE_MAX_MEM_ALLOC_SIZE") && e.getMessage().contains(Long.toString((long) floats * 4))
                && e.getMessage().contains(Long.toString(limit)), e.getMessage());
    }

    @Test
    void transfersAreCountedAndOpsStayOnTheDevice() {
        cl.resetTransfers();
        Tensor a = cl.fromHost(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = cl.fromHost(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertEquals(new TransferStats(2, 48, 0, 0), cl.transfers());
        Tensor c = cl.zeros(2, 2);
        Tensor w = cl.fromHost(new float[] {1, 1}, 2);
        cl.resetTransfers();
        cl.matmul(a, false, b, false, c, false);
        Tensor n = cl.zeros(2, 2);
        Tensor rstd = cl.zeros(2);
        cl.rmsNorm(c, w, n, rstd, 1e-5f);
        cl.swiglu(n, n, n);
        cl.axpy(1f, n, c);
        assertEquals(new TransferStats(0, 0, 0, 0), cl.transfers(), "ops must not touch the host");
        float[] out = c.toHost();
        assertEquals(1, cl.transfers().downloadCalls());
        assertEquals(16, cl.transfers().downloadBytes());
        // c[0] = 4 + silu(n0)·n0 with n0 = 4/sqrt(20.5); sanity only, parity tests check values
        assertEquals(4 + 0.5522f, out[0], 0.01f);
        cl.sumOfSquares(c);
        assertEquals(2, cl.transfers().downloadCalls());
    }

    /** Saves CL_PROGRAM_BINARIES, loads them through a binary profile and compares results with the source build. */
    @Test
    void programBinaryProfileRunsLikeTheSourceBuild(@TempDir Path dir) throws IOException {
        Path bin = dir.resolve("blt4j-kernels.bin");
        cl.saveProgramBinary(bin);
        assertTrue(Files.size(bin) > 0);
        Path profileFile = dir.resolve("test-binary.properties");
        Properties p = OpenClTestSupport.profile().properties();
        p.setProperty("program.binary", "blt4j-kernels.bin"); // relative to the profile's folder
        p.setProperty("cache.disk", "false");
        try (var out = Files.newBufferedWriter(profileFile, StandardCharsets.UTF_8)) {
            p.store(out, "binary profile for the test");
        }
        try (OpenClBackend fromBinary = new OpenClBackend(DeviceProfile.load(profileFile.toString()))) {
            assertTrue(fromBinary.programOrigin().startsWith("binary:"), fromBinary.programOrigin());
            assertTrue(fromBinary.describe().contains("binary:"), fromBinary.describe());
            Random rnd = new Random(7);
            float[] x = new float[65 * 33];
            float[] y = new float[33 * 127];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (int i = 0; i < y.length; i++) y[i] = (float) rnd.nextGaussian();
            float[][] results = new float[2][];
            float[][] attn = new float[2][];
            OpenClBackend[] both = {cl, fromBinary};
            for (int i = 0; i < 2; i++) {
                OpenClBackend be = both[i];
                Tensor a = be.fromHost(x, 65, 33);
                Tensor b = be.fromHost(y, 33, 127);
                Tensor c = be.zeros(65, 127);
                be.matmul(a, false, b, false, c, false);
                Tensor s = be.zeros(65);
                be.entropy(c, s);
                results[i] = s.toHost();
                Tensor q = be.fromHost(x, 65, 33).reshape(65, 33);
                Ranges m = AttentionMask.selfAttention(be, 65, 16, null);
                Tensor o = be.zeros(65, 33);
                Tensor lse = be.zeros(3, 65);
                be.attention(q, q, q, o, lse, m, 3);
                attn[i] = o.toHost();
            }
            assertArrayEquals(results[0], results[1], "binary-loaded program must compute what the source build does");
            assertArrayEquals(attn[0], attn[1]);
        }
        // a binary built with other work-group sizes is rejected at start-up
        Properties bad = OpenClTestSupport.profile().properties();
        bad.setProperty("program.binary", bin.toString());
        bad.setProperty("workgroup.reduce", "32");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OpenClBackend(DeviceProfile.of("bad-binary", bad)));
        assertTrue(e.getMessage().contains("RED_WG=64"), e.getMessage());
        // a missing binary is an error naming the path
        Properties missing = OpenClTestSupport.profile().properties();
        missing.setProperty("program.binary", dir.resolve("nope.bin").toString());
        e = assertThrows(IllegalArgumentException.class, () -> new OpenClBackend(DeviceProfile.of("missing-binary", missing)));
        assertTrue(e.getMessage().contains("nope.bin"), e.getMessage());
    }

    /** A child JVM that sees no OpenCL ICD must get the "not available" message with the package names. */
    @Test
    void missingRuntimeNamesThePackagesToInstall(@TempDir Path emptyVendors) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), MissingRuntimeProbe.class.getName());
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString());
        pb.environment().put("OCL_ICD_FILENAMES", "");
        pb.redirectErrorStream(true);
        Process proc = pb.start();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        proc.getInputStream().transferTo(buf);
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("EXCEPTION " + OpenClUnavailableException.class.getName()), out);
        assertTrue(out.contains("OpenCL is not available") && out.contains(OpenClUnavailableException.DEBIAN_PACKAGES), out);
        assertTrue(out.contains("REPORT opencl: OpenCL is not available"), out);
    }
}
