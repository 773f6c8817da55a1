package blt4j.experiment;

import blt4j.train.Checkpoint;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What an experiment folder (scripts/experiments.sh) holds: its runs (labels from {@code experiment.json}, steps
 * and training FLOPs from the latest checkpoint, wall time from the log) and its evaluations ({@code evals/RUN@TAG.json}).
 */
public final class ExperimentResults {

    /** One training run. {@code labels} holds every field of its experiment.json (group, model, budget, train, …). */
    public record Run(String name, Map<String, JsonElement> labels, boolean done, int steps, double trainFlops,
                      double trainSeconds, long trainedPositions) {
        public String group() {
            return label("group");
        }

        public String model() {
            return label("model");
        }

        public String train() {
            return label("train");
        }

        public String label(String key) {
            JsonElement e = labels.get(key);
            return e == null || e.isJsonNull() ? "" : e.getAsString();
        }

        public double number(String key) {
            JsonElement e = labels.get(key);
            return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
        }

        /** "blt", "bpe-4096", "byte", "blt (hash 4099)": the model family as the tables name it. */
        public String family() {
            String variant = group().equals("matched") && !label("family").isEmpty() ? " (" + label("family") + ")" : "";
            return switch (model()) {
                case "bpe-transformer" -> "bpe-" + label("bpe_vocab");
                case "byte-transformer" -> "byte";
                default -> model();
            } + variant;
        }

        /** Passes over the training text (bytes trained / its size), or NaN when its size is not recorded. */
        public double epochs() {
            return trainedPositions / number("train_bytes");
        }
    }

    /** One evaluation of a run on a text. */
    /** @param bytesPerToken for a BPE model, byte-stream positions per token of the text (NaN otherwise) */
    public record Eval(String run, String tag, double bitsPerByte, long predictedBytes, double meanPatchSize,
                       double flopsPerByteAnalytic, double flopsPerByteCounted, long parameters, Path data,
                       double bytesPerToken) {}

    private final Path dir;
    private final Map<String, Run> runs = new TreeMap<>();
    private final List<Eval> evals = new ArrayList<>();

    private ExperimentResults(Path dir) {
        this.dir = dir;
    }

    public static ExperimentResults read(Path dir) throws IOException {
        if (!Files.isDirectory(dir.resolve("runs"))) {
            throw new IOException(dir + " is not an experiment folder (no runs/; made by scripts/experiments.sh)");
        }
        ExperimentResults r = new ExperimentResults(dir);
        try (Stream<Path> s = Files.list(dir.resolve("runs"))) {
            for (Path run : s.sorted().toList()) {
                Path label = run.resolve("experiment.json");
                if (Files.isRegularFile(label)) {
                    r.runs.put(run.getFileName().toString(), readRun(dir, run, label));
                }
            }
        }
        Path evalDir = dir.resolve("evals");
        if (Files.isDirectory(evalDir)) {
            try (Stream<Path> s = Files.list(evalDir)) {
                for (Path f : s.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    r.evals.add(readEval(f));
                }
            }
        }
        return r;
    }

    public Path dir() {
        return dir;
    }

    public Map<String, Run> runs() {
        return runs;
    }

    public List<Eval> evals() {
        return evals;
    }

    /** The evaluation of {@code run} tagged {@code tag}, or null. */
    public Eval eval(String run, String tag) {
        for (Eval e : evals) {
            if (e.run().equals(run) && e.tag().equals(tag)) {
                return e;
            }
        }
        return null;
    }

    private static final Pattern TRAINED = Pattern.compile("trained (\\d+) steps in ([0-9.]+) s: ([0-9,]+) bytes");

    private static Run readRun(Path dir, Path run, Path label) throws IOException {
        Map<String, JsonElement> labels = new LinkedHashMap<>();
        for (var e : parse(label).entrySet()) {
            labels.put(e.getKey(), e.getValue());
        }
        int steps = 0;
        double flops = 0;
        Path latest = Checkpoint.latestDir(run);
        if (latest != null && Files.isRegularFile(latest.resolve("state.json"))) {
            JsonObject state = parse(latest.resolve("state.json"));
            steps = state.get("step").getAsInt();
            flops = state.has("train_flops") ? state.get("train_flops").getAsDouble() : 0;
        }
        double seconds = 0;
        long positions = 0;
        Path log = dir.resolve("logs").resolve(run.getFileName() + ".log");
        if (Files.isRegularFile(log)) {
            Matcher m = TRAINED.matcher(Files.readString(log));
            while (m.find()) {
                seconds += Double.parseDouble(m.group(2));
                positions += Long.parseLong(m.group(3).replace(",", ""));
            }
        }
        return new Run(run.getFileName().toString(), labels, Files.exists(run.resolve(".done")), steps, flops, seconds, positions);
    }

    private static Eval readEval(Path f) throws IOException {
        String name = f.getFileName().toString().replaceFirst("\\.json$", "");
        int at = name.indexOf('@');
        if (at < 0) {
            throw new IOException(f + ": an evaluation file is named RUN@TAG.json");
        }
        JsonObject o = parse(f);
        return new Eval(name.substring(0, at), name.substring(at + 1), num(o, "bits_per_byte"),
                (long) num(o, "predicted_bytes"), num(o, "mean_patch_size"), num(o, "forward_flops_per_byte_analytic"),
                num(o, "forward_flops_per_byte_counted"), (long) num(o, "parameters"), Path.of(o.get("data").getAsString()),
                num(o, "bytes_per_token"));
    }

    private static double num(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static JsonObject parse(Path f) throws IOException {
        try {
            return JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IOException(f + " is not a JSON object: " + e.getMessage(), e);
        }
    }
}
