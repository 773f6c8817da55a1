package blt4j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;

/** Facts about the machine and build that every benchmark file records. */
public record RunInfo(String date, String host, String cpuModel, int cores, String jdk, String commit, String profile,
                      String deviceProfile) {

    /** @param profile size profile (full, quick, tiny); @param deviceProfile OpenCL device profile or "default" */
    public static RunInfo collect(String profile, String deviceProfile) {
        return new RunInfo(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), hostname(), readCpuModel(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name") + " " + Runtime.version(),
                gitCommit(), profile, deviceProfile == null ? "default" : deviceProfile);
    }

    public String machine() {
        return cpuModel + ", " + cores + " cores";
    }

    /** {@code <root>/<yyyy-MM-dd>-<host>}. */
    public Path folder(Path root) {
        return root.resolve(LocalDate.now() + "-" + host);
    }

    /** The CSV columns every table ends with. */
    public static String csvHeader() {
        return "profile,device_profile,machine,cpu_model,jdk,commit";
    }

    public String csvCells() {
        return profile + "," + Stats.csvQuote(deviceProfile) + "," + Stats.csvQuote(host + ", " + cores + " cores") + ","
                + Stats.csvQuote(cpuModel) + "," + Stats.csvQuote(jdk) + "," + commit;
    }

    static String readCpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch") + " (model unknown)";
    }

    /** CPU flags from /proc/cpuinfo (empty when unknown). */
    static String cpuFlags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return " " + line.substring(line.indexOf(':') + 1).trim() + " ";
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "";
    }

    /** The 1, 5 and 15 minute load averages from /proc/loadavg, or "n/a". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static String hostname() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = Files.readString(Path.of("/etc/hostname")).trim();
            } catch (IOException | RuntimeException e) {
                h = null;
            }
        }
        if (h == null || h.isBlank()) {
            try {
                h = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                h = "unknown-host";
            }
        }
        return h.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    static String gitCommit() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "--short", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && !out.isEmpty() && !out.contains(" ")) {
                String dirty = "";
                Process d = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no").redirectErrorStream(true).start();
                String st = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (d.waitFor(10, TimeUnit.SECONDS) && d.exitValue() == 0 && !st.isEmpty()) {
                    dirty = "-dirty";
                }
                return out + dirty;
            }
        } catch (IOException e) {
            // no git
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "unknown";
    }
}
