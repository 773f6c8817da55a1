package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.model.EntropyModel;
import blt4j.patch.EntropyScorer;
import blt4j.patch.EntropyPatchStream;
import blt4j.model.BltConfig;
import blt4j.model.PatchingConfig;
import blt4j.patch.EntropyPatcher;
import blt4j.patch.PatchingScheme;
import blt4j.patch.PatchStats;
import blt4j.patch.SpacePatchStream;
import blt4j.patch.StridePatcher;
import blt4j.patch.ThresholdSearch;
import blt4j.train.ModelFiles;
import blt4j.viz.PatchView;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** {@code blt patch FILE}: cut a file into patches with any scheme, show them and their statistics. */
@Command(name = "patch", mixinStandardHelpOptions = true,
        description = "Patch FILE ([BOS] + its bytes) with a scheme, print statistics, show the first bytes coloured by "
                + "patch, and optionally write --html / --png figures or --json lengths. Streams: any file size works.")
final class PatchCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Parameters(index = "0", description = "Input file (any bytes).")
    Path file;

    @Option(names = "--scheme",
            description = "entropy (global threshold), monotonic, combined, space, stride or byte (default: what a BLT "
                    + "checkpoint's config asks for, else entropy).")
    void setScheme(String s) {
        FlagException.require(s == null || List.of("entropy", "monotonic", "combined", "space", "stride", "byte", "static").contains(s),
                "unknown --scheme " + s + " (entropy, monotonic, combined, space, stride, byte)");
        scheme = s;
    }

    String scheme;

    @Option(names = {"-c", "--checkpoint"}, description = "Entropy model, or a BLT run whose patching settings and entropy model are used.")
    Path checkpoint;

    @Option(names = "--threshold", description = "Entropy threshold θ in nats (default: the checkpoint's patching_threshold, else the released 1.3354).")
    void setThreshold(Float v) {
        threshold = FlagException.finite("--threshold", v);
    }

    Float threshold;

    @Option(names = "--threshold-add", description = "Monotonic threshold for --scheme combined.")
    void setThresholdAdd(Float v) {
        thresholdAdd = FlagException.finite("--threshold-add", v);
    }

    Float thresholdAdd;

    @Option(names = "--target-patch-size", description = "Search the threshold that gives this mean patch size on the first --sample bytes.")
    void setTargetPatchSize(Double v) {
        FlagException.require(v == null || Double.isFinite(v) && v >= 1, "--target-patch-size must be a finite number ≥ 1, got " + v);
        targetPatchSize = v;
    }

    Double targetPatchSize;

    @Option(names = "--sample", defaultValue = "1000000", description = "Bytes used by the threshold search (default: ${DEFAULT-VALUE}).")
    void setSample(int v) {
        sample = FlagException.atLeast("--sample", v, 1);
    }

    int sample;

    @Option(names = "--stride", defaultValue = "4", description = "Patch size for --scheme stride (default: ${DEFAULT-VALUE}).")
    void setStride(int v) {
        stride = FlagException.atLeast("--stride", v, 1);
    }

    int stride;

    @Option(names = "--max-patch-length", description = "Split longer patches (default: the checkpoint's max_patch_length, else no limit).")
    void setMaxPatchLength(Integer v) {
        FlagException.require(v == null || v >= 1, "--max-patch-length must be ≥ 1, got " + v);
        maxPatchLength = v;
    }

    Integer maxPatchLength;

    @Option(names = "--next-slot", description = "Include the next-byte slot (lengths sum to N+1, as the model consumes them).")
    boolean nextSlot;

    @Option(names = "--show", defaultValue = "600", description = "Bytes shown coloured and in the figures (default: ${DEFAULT-VALUE}).")
    void setShow(int v) {
        show = FlagException.atLeast("--show", v, 0);
    }

    int show;

    @Option(names = "--offset", defaultValue = "0", description = "Skip this many bytes of FILE before patching.")
    void setOffset(long v) {
        offset = FlagException.atLeast("--offset", v, 0L);
    }

    long offset;

    @Option(names = "--html", description = "Write an HTML figure of the shown bytes.")
    Path html;

    @Option(names = "--png", description = "Write a PNG chart of entropy and patch starts for the shown bytes.")
    Path png;

    @Option(names = "--json", description = "Print {\"lengths\": [...]} (all patches) to standard output instead of the text view.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        requireInputFile(file);
        if (checkpoint != null) {
            ModelFiles.resolve(checkpoint);
        }
        applyCheckpointPatching();
        int maxPatchLength = this.maxPatchLength == null ? 0 : this.maxPatchLength;
        PatchStats stats = new PatchStats();
        Shown shown = new Shown(show);
        Writer jsonOut = json ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16) : null;
        boolean[] firstLength = {true};
        IntConsumer sink = len -> {
            stats.accept(len);
            shown.acceptLength(len);
            if (jsonOut != null) {
                try {
                    jsonOut.write(firstLength[0] ? Integer.toString(len) : "," + len);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                firstLength[0] = false;
            }
        };
        if (jsonOut != null) {
            jsonOut.write("{\"scheme\":\"" + scheme + "\",\"lengths\":[");
        }
        long start = System.nanoTime();
        long tokens;
        Float usedThreshold = null;
        switch (scheme) {
            case "entropy", "monotonic", "combined" -> {
                if (checkpoint == null) {
                    throw new IllegalArgumentException("--scheme " + scheme + " needs an entropy model: --checkpoint DIR");
                }
                try (Backend backend = backendOptions.create()) {
                    EntropyModel model = ModelFiles.loadEntropyModel(checkpoint, backend);
                    EntropyScorer scorer = new EntropyScorer(model);
                    float theta = threshold != null ? threshold : EntropyPatcher.RELEASED_THRESHOLD;
                    if (threshold == null && modelPatching != null && modelPatching.threshold() != null) {
                        theta = modelPatching.threshold().floatValue();
                    }
                    if (targetPatchSize != null) {
                        theta = searchThreshold(scorer);
                    }
                    usedThreshold = theta;
                    EntropyPatcher patcher = switch (scheme) {
                        case "entropy" -> EntropyPatcher.global(theta);
                        case "monotonic" -> EntropyPatcher.monotonic(theta);
                        default -> {
                            if (thresholdAdd == null && modelPatching != null && modelPatching.thresholdAdd() != null) {
                                thresholdAdd = modelPatching.thresholdAdd().floatValue();
                            }
                            if (thresholdAdd == null) {
                                throw new IllegalArgumentException("--scheme combined needs --threshold-add");
                            }
                            yield EntropyPatcher.combined(theta, thresholdAdd);
                        }
                    };
                    patcher = patcher.withIncludeNextToken(nextSlot).withMaxPatchLength(maxPatchLength);
                    EntropyPatchStream stream = new EntropyPatchStream(patcher, sink);
                    try (InputStream in = open()) {
                        tokens = scorer.score(in, true, (pos, token, h) -> {
                            shown.acceptToken(token, h);
                            stream.accept(h);
                        });
                    }
                    stream.finish();
                }
            }
            case "space" -> {
                SpacePatchStream stream = new SpacePatchStream(nextSlot, maxPatchLength, sink);
                tokens = feedBytes(stream::acceptToken, shown);
                stream.finish();
            }
            case "static" -> {
                // the model's static mode: BOS alone, then patches of patch_size (BLT-REFERENCE §4.5)
                tokens = feedBytes(t -> { }, shown);
                int[] lengths = ((StridePatcher) PatchingScheme.patcher(modelPatching, nextSlot)).lengths((int) tokens);
                for (int len : lengths) {
                    sink.accept(len);
                }
            }
            case "stride", "byte" -> {
                int k = "byte".equals(scheme) ? 1 : stride;
                tokens = feedBytes(t -> { }, shown);
                long total = tokens + (nextSlot ? 1 : 0);
                // the reference's fixed-size patches of k; a final shorter patch takes the rest
                for (long at = 0; at < total; at += k) {
                    sink.accept((int) Math.min(k, total - at));
                }
            }
            default -> throw new IllegalArgumentException("unknown --scheme " + scheme
                    + " (entropy, monotonic, combined, space, stride, byte)");
        }
        double secs = (System.nanoTime() - start) / 1e9;
        if (jsonOut != null) {
            jsonOut.write("],\"tokens\":" + tokens + (usedThreshold == null ? "" : ",\"threshold\":" + usedThreshold) + "}\n");
            jsonOut.flush();
        }
        var out = json ? System.err : System.out;
        if (!json) {
            PatchView view = shown.view(usedThreshold);
            out.println(view.terminal());
            out.println();
        }
        out.printf("%s patching of %s: %,d tokens ([BOS] + bytes) in %,d patches%s%n", scheme, file, tokens, stats.count(),
                usedThreshold == null ? "" : String.format(" (θ = %.4f nats)", usedThreshold));
        out.printf("patch length: mean %.3f, median %.1f, max %d; %,.0f bytes/s%n", stats.mean(), stats.median(), stats.max(),
                tokens / secs);
        out.println("histogram (length ≤ 1, 2, 4, 8, 16, 32, ...): " + Arrays.toString(stats.histogramPow2()));
        String title = scheme + " patches of " + file.getFileName() + (usedThreshold == null ? "" : " (θ = " + usedThreshold + ")");
        if (html != null) {
            out.println("wrote " + shown.view(usedThreshold).html(html, title));
        }
        if (png != null) {
            out.println("wrote " + shown.view(usedThreshold).png(png, title));
        }
        return 0;
    }

    /** A readable regular file, or one clear line: not found, a folder, unreadable. */
    static void requireInputFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException("input file not found: " + file);
        }
        if (Files.isDirectory(file)) {
            throw new IOException("input " + file + " is a folder, not a file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IOException("input " + file + " is not a readable file");
        }
    }

    /** Patching settings of the BLT checkpoint given with -c (null for an entropy model or none). */
    private PatchingConfig modelPatching;

    /**
     * Without --scheme, a BLT checkpoint's own patching settings choose the scheme, its threshold(s) and max patch
     * length (explicit flags still win); anything else defaults to the global entropy threshold.
     */
    private void applyCheckpointPatching() throws IOException {
        BltConfig blt = checkpoint == null ? null : ModelFiles.bltConfigOrNull(checkpoint);
        modelPatching = blt == null ? null : blt.patching();
        if (scheme != null) {
            return;
        }
        if (modelPatching == null) {
            scheme = "entropy";
            return;
        }
        switch (modelPatching.mode()) {
            case "entropy" -> {
                if (modelPatching.threshold() == null) {
                    throw new IllegalArgumentException("the checkpoint patches by top-k entropies (no threshold), which needs "
                            + "whole sequences; pass --scheme and --threshold to stream this file");
                }
                scheme = modelPatching.monotonicity() ? "monotonic" : modelPatching.thresholdAdd() != null ? "combined" : "entropy";
            }
            case "space" -> scheme = "space";
            case "byte" -> scheme = "byte";
            default -> scheme = "static";
        }
        if (maxPatchLength == null && modelPatching.maxPatchLength() != null) {
            maxPatchLength = modelPatching.maxPatchLength();
        }
        System.err.println("patching as the checkpoint's config asks: " + modelPatching.describe());
    }

    private InputStream open() throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.skipNBytes(Math.min(offset, Files.size(file)));
        return in;
    }

    /** Feeds [BOS] + bytes to a token consumer, keeping the first bytes for display; returns the token count. */
    private long feedBytes(IntConsumer tokenSink, Shown shown) throws IOException {
        long n = 0;
        tokenSink.accept(ByteTokenizer.BOS);
        shown.acceptToken(ByteTokenizer.BOS, Float.NaN);
        n++;
        byte[] buf = new byte[1 << 16];
        try (InputStream in = open()) {
            int got;
            while ((got = in.read(buf)) > 0) {
                for (int i = 0; i < got; i++) {
                    int t = (buf[i] & 0xFF) + ByteTokenizer.OFFSET;
                    tokenSink.accept(t);
                    shown.acceptToken(t, Float.NaN);
                }
                n += got;
            }
        }
        return n;
    }

    private float searchThreshold(EntropyScorer scorer) throws IOException {
        byte[] head;
        try (InputStream in = open()) {
            head = in.readNBytes(sample);
        }
        float[] h = scorer.score(ByteTokenizer.encode(head, true, false));
        ThresholdSearch.Result r = ThresholdSearch.findThreshold(h, targetPatchSize);
        (json ? System.err : System.out).printf("threshold search on %,d bytes: θ = %.4f nats gives mean patch %.3f bytes (target %.2f)%n",
                head.length, r.threshold(), r.meanPatchSize(), targetPatchSize);
        return r.threshold();
    }

    /** The first bytes and their patches, kept for the views. */
    private static final class Shown {
        private final int limit;
        private int[] tokens = new int[64];
        private float[] entropies = new float[64];
        private int n;
        private boolean hasEntropy;
        private final List<Integer> lengths = new ArrayList<>();
        private long covered;

        Shown(int limit) {
            this.limit = limit + 1;
        }

        void acceptToken(int token, float h) {
            if (n >= limit) {
                return;
            }
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, n * 2);
                entropies = Arrays.copyOf(entropies, n * 2);
            }
            tokens[n] = token;
            entropies[n++] = h;
            hasEntropy |= !Float.isNaN(h);
        }

        void acceptLength(int len) {
            if (covered < limit) {
                lengths.add(len);
                covered += len;
            }
        }

        PatchView view(Float threshold) {
            return new PatchView(Arrays.copyOf(tokens, n), hasEntropy ? Arrays.copyOf(entropies, n) : null,
                    lengths.stream().mapToInt(Integer::intValue).toArray(), threshold);
        }
    }
}
