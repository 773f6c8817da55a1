package blt4j.compute.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Device selection as data: a {@code tornado-config/*.properties} file names the backend, how to find the
 * OpenCL platform and device, the kernel variants, work-group sizes, build options and (FPGAs) a prebuilt
 * program binary. See {@code tornado-config/README.md} for the keys.
 *
 * <p>Profiles are looked up as a file path, then {@code <config dir>/<name>.properties} (config dir =
 * {@code -Dblt4j.config.dir}, else {@code ./tornado-config}), then the copy embedded in the jar under
 * {@code /tornado-config/}, so the shaded jar works without the repository.
 */
public final class DeviceProfile {
    /** The matmul kernel variant. */
    public enum MatmulVariant { NAIVE, TILED, AUTO }

    public static final String DEFAULT_NAME = "auto";
    /** Profiles shipped in the jar. */
    public static final List<String> BUILT_IN = List.of("auto", "pocl-cpu", "gpu-generic", "fpga-binary");

    private final String name;
    private final String source;
    private final Properties props;
    private final Path baseDir;

    private DeviceProfile(String name, String source, Properties props, Path baseDir) {
        this.name = name;
        this.source = source;
        this.props = props;
        this.baseDir = baseDir;
        String backend = get("backend", "opencl");
        if (!backend.equalsIgnoreCase("opencl")) {
            throw new IllegalArgumentException("profile " + name + " (" + source + ") is for backend '" + backend + "', not opencl");
        }
        matmulVariant(); // validate early
        int tile = matmulTile();
        int red = reduceWorkGroup();
        if (tile <= 0 || red <= 0 || Integer.bitCount(red) != 1) {
            throw new IllegalArgumentException("profile " + name + ": workgroup.matmul.tile must be > 0 and workgroup.reduce a power of two, got "
                    + tile + " and " + red);
        }
    }

    /** The profile named by {@code $BLT4J_OPENCL_PROFILE} or {@code -Dblt4j.opencl.profile}, else "auto". */
    public static DeviceProfile defaultProfile() {
        String p = System.getProperty("blt4j.opencl.profile");
        if (p == null || p.isBlank()) {
            p = System.getenv("BLT4J_OPENCL_PROFILE");
        }
        return load(p == null || p.isBlank() ? DEFAULT_NAME : p);
    }

    /** Loads a profile by file path or name (see class comment). */
    public static DeviceProfile load(String nameOrPath) {
        Path direct = Path.of(nameOrPath);
        if (nameOrPath.endsWith(".properties") && Files.isRegularFile(direct)) {
            return fromFile(direct);
        }
        String dir = System.getProperty("blt4j.config.dir", "tornado-config");
        Path inDir = Path.of(dir).resolve(nameOrPath + ".properties");
        if (Files.isRegularFile(inDir)) {
            return fromFile(inDir);
        }
        String res = "/tornado-config/" + nameOrPath + ".properties";
        try (InputStream in = DeviceProfile.class.getResourceAsStream(res)) {
            if (in != null) {
                Properties p = new Properties();
                try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                return new DeviceProfile(nameOrPath, "classpath:" + res, p, null);
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading profile resource " + res + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no OpenCL device profile '" + nameOrPath + "': not a .properties file, not in "
                + Path.of(dir).toAbsolutePath() + ", not built in (built-in profiles: " + String.join(", ", BUILT_IN) + ")");
    }

    public static DeviceProfile fromFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read profile " + file + ": " + e.getMessage(), e);
        }
        String fn = file.getFileName().toString();
        return new DeviceProfile(fn.replaceFirst("\\.properties$", ""), file.toAbsolutePath().toString(), p,
                file.toAbsolutePath().getParent());
    }

    /** A profile from in-memory properties (tests, programmatic use); relative binary paths resolve from the cwd. */
    public static DeviceProfile of(String name, Properties props) {
        Properties copy = new Properties();
        copy.putAll(props);
        return new DeviceProfile(name, "in-memory", copy, null);
    }

    /** A copy with some keys changed (e.g. {@code kernel.matmul=tiled}). */
    public DeviceProfile with(String key, String value) {
        Properties copy = new Properties();
        copy.putAll(props);
        copy.setProperty(key, value);
        return new DeviceProfile(name + "+" + key + "=" + value, source, copy, baseDir);
    }

    public String name() {
        return name;
    }

    /** Where the profile came from: a file path, a classpath resource or "in-memory". */
    public String source() {
        return source;
    }

    public Properties properties() {
        Properties copy = new Properties();
        copy.putAll(props);
        return copy;
    }

    String get(String key, String def) {
        String v = props.getProperty(key);
        return v == null || v.isBlank() ? def : v.trim();
    }

    private int intValue(String key, int def) {
        String v = get(key, null);
        if (v == null) {
            return def;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("profile " + name + ": " + key + "=" + v + " is not an integer");
        }
    }

    /** Regex (case-insensitive, "find") on the platform name; null = any. */
    public Pattern platformName() {
        String v = get("platform.name", null);
        return v == null ? null : Pattern.compile(v, Pattern.CASE_INSENSITIVE);
    }

    /** -1 = any. */
    public int platformIndex() {
        return intValue("platform.index", -1);
    }

    public Pattern deviceName() {
        String v = get("device.name", null);
        return v == null ? null : Pattern.compile(v, Pattern.CASE_INSENSITIVE);
    }

    /** Index among the devices that pass the other filters; -1 = the first. */
    public int deviceIndex() {
        return intValue("device.index", -1);
    }

    /** CPU, GPU, ACCELERATOR or ALL; with ALL and no other filter, a GPU is preferred, then an accelerator, then a CPU. */
    public String deviceType() {
        return get("device.type", "ALL").toUpperCase(Locale.ROOT);
    }

    public MatmulVariant matmulVariant() {
        String v = get("kernel.matmul", "auto").toUpperCase(Locale.ROOT);
        try {
            return MatmulVariant.valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("profile " + name + ": kernel.matmul=" + v + " (use naive, tiled or auto)");
        }
    }

    public int matmulTile() {
        return intValue("workgroup.matmul.tile", 16);
    }

    /** Work-group size of row reductions (norms, softmax, loss); a power of two. */
    public int reduceWorkGroup() {
        return intValue("workgroup.reduce", 64);
    }

    /** Local size for elementwise kernels; 0 lets the driver choose. */
    public int elementwiseWorkGroup() {
        return intValue("workgroup.elementwise", 0);
    }

    public String buildOptions() {
        return get("build.options", "");
    }

    /** Prebuilt program binary to load instead of compiling (FPGAs), resolved against the profile's folder; null if none. */
    public Path programBinary() {
        String v = get("program.binary", null);
        if (v == null) {
            return null;
        }
        v = v.replace("${user.home}", System.getProperty("user.home"));
        Path p = Path.of(v);
        if (!p.isAbsolute() && baseDir != null) {
            p = baseDir.resolve(p);
        }
        return p;
    }

    /** Whether compiled programs are also cached on disk (~/.cache/blt4j/opencl). */
    public boolean diskCache() {
        String sys = System.getProperty("blt4j.opencl.diskCache");
        if (sys != null) {
            return Boolean.parseBoolean(sys);
        }
        return Boolean.parseBoolean(get("cache.disk", "true"));
    }

    @Override
    public String toString() {
        return "profile " + name + " (" + source + ")";
    }
}
