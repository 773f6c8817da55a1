package blt4j.train;

import blt4j.io.AtomicFiles;
import blt4j.io.FileWeights;
import blt4j.io.HfNames;
import blt4j.io.SafetensorsWriter;
import blt4j.io.StDtype;
import blt4j.io.TensorFiles;
import blt4j.model.BltConfig;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.model.HfConfig;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
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
import java.util.SplittableRandom;

/**
 * Writes a BLT and its entropy model in a released layout: the reference layout of {@code facebook/blt-1b}
 * ({@code config.json} with {@code args}, {@code model.safetensors}, {@code entropy_model/params.json} and
 * {@code entropy_model/model.safetensors}) or the Hugging Face port's (one config, one set of weights, the hash tables
 * fused), in F32, BF16 or F16, in one file or in shards. Tensors are streamed chunk by chunk from their source, so a
 * model larger than memory can be converted or initialised. The folder is written beside its target and renamed into
 * place when complete.
 */
public final class ModelExport {
    private ModelExport() {}

    public enum Target { REFERENCE, HF }

    /** @param shardBytes the most tensor bytes one shard holds (0: one file) */
    public record Options(Target target, StDtype dtype, long shardBytes) {}

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    /** One tensor to write: its name in the target layout, shape, and where its elements come from. */
    private record Planned(String name, long[] shape, SafetensorsWriter.FloatChunks chunks) {
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Converts the models of {@code from} (any layout blt4j reads) into {@code out}. */
    public static void convert(ModelFolder from, Path out, Options o) throws IOException {
        BltConfig blt = from.bltConfig();
        EntropyModelConfig entropy = from.entropyConfig();
        if (blt == null) {
            throw new IOException(from.dir() + " holds no BLT to convert (kind " + from.kind() + ")");
        }
        if (entropy == null) {
            throw new IOException(from.dir() + " has no entropy model; both released layouts carry one");
        }
        List<Parameter> bltParams = ByteLatentTransformer.declaredParameters(blt);
        List<Parameter> entropyParams = EntropyModel.declaredParameters(entropy);
        try (ParameterStore.WeightSource bltSource = from.bltWeights(ModelFiles.names(bltParams));
             ParameterStore.WeightSource entropySource = from.entropyWeights(ModelFiles.names(entropyParams))) {
            for (Parameter p : bltParams) {
                bltSource.requireShape(p.name(), p.shape());
            }
            for (Parameter p : entropyParams) {
                entropySource.requireShape(p.name(), p.shape());
            }
            write(blt, entropy, out, o, p -> chunks(bltSource, p), p -> chunks(entropySource, p), bltParams, entropyParams);
        }
    }

    /** Writes a model of this shape with seeded random weights (for measuring memory, load time and speed). */
    public static void init(BltConfig blt, EntropyModelConfig entropy, long seed, Path out, Options o) throws IOException {
        List<Parameter> bltParams = ByteLatentTransformer.declaredParameters(blt);
        List<Parameter> entropyParams = EntropyModel.declaredParameters(entropy);
        write(blt, entropy, out, o, p -> random(p, seed), p -> random(p, seed ^ 0x5DEECE66DL), bltParams, entropyParams);
    }

    private interface ChunkSource {
        SafetensorsWriter.FloatChunks of(Parameter p) throws IOException;
    }

    private static void write(BltConfig blt, EntropyModelConfig entropy, Path out, Options o, ChunkSource bltChunks,
                              ChunkSource entropyChunks, List<Parameter> bltParams, List<Parameter> entropyParams)
            throws IOException {
        if (Files.exists(out) && !(Files.isDirectory(out) && isEmpty(out))) {
            throw new IOException(out + " already exists; give a new folder");
        }
        List<Planned> bltPlan = new ArrayList<>();
        List<Planned> entropyPlan = new ArrayList<>();
        List<Parameter> tables = new ArrayList<>();
        List<SafetensorsWriter.FloatChunks> tableChunks = new ArrayList<>();
        for (Parameter p : bltParams) {
            boolean table = HfNames.hashTable(p.name()) >= 0;
            if (table && o.target() == Target.HF) {
                tables.add(p);
                tableChunks.add(bltChunks.of(p));
                continue;
            }
            String name = o.target() == Target.HF ? HfNames.blt(p.name()) : p.name();
            bltPlan.add(new Planned(name, SafetensorsWriter.longs(p.shape()), bltChunks.of(p)));
        }
        if (!tables.isEmpty()) {
            bltPlan.add(fused(tables, tableChunks));
        }
        for (Parameter p : entropyParams) {
            String name = o.target() == Target.HF ? HfNames.entropy(p.name()) : p.name();
            entropyPlan.add(new Planned(name, SafetensorsWriter.longs(p.shape()), entropyChunks.of(p)));
        }

        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp-");
        try {
            if (o.target() == Target.HF) {
                writeJson(tmp.resolve("config.json"), HfConfig.toJson(blt, entropy));
                List<Planned> all = new ArrayList<>(bltPlan);
                all.addAll(entropyPlan);
                writeTensors(tmp, "model", all, o);
            } else {
                JsonObject config = new JsonObject();
                config.add("args", JsonParser.parseString(blt.toJson()));
                writeJson(tmp.resolve("config.json"), config);
                writeTensors(tmp, "model", bltPlan, o);
                Path e = Files.createDirectories(tmp.resolve(ModelFolder.ENTROPY_DIR));
                JsonObject params = new JsonObject();
                params.add("entropy_model", JsonParser.parseString(entropy.toJson()));
                JsonObject data = new JsonObject();
                data.add("patcher_args", patcherArgs(blt));
                params.add("data", data);
                writeJson(e.resolve(ModelFolder.PARAMS_FILE), params);
                writeTensors(e, "model", entropyPlan, o);
            }
            if (Files.isDirectory(out)) {
                Files.delete(out); // the empty folder the user named
            }
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Checkpoint.deleteRun(tmp);
            throw e;
        }
    }

    /** The port's fused table: table i at rows i·vocab, streamed from each table's chunks in turn. */
    private static Planned fused(List<Parameter> tables, List<SafetensorsWriter.FloatChunks> chunks) {
        int[] shape = tables.get(0).shape();
        long perTable = (long) shape[0] * shape[1];
        SafetensorsWriter.FloatChunks all = (from, dst, count) -> {
            int done = 0;
            while (done < count) {
                long e = from + done;
                int t = (int) (e / perTable);
                long within = e % perTable;
                int k = (int) Math.min(count - done, perTable - within);
                float[] part = done == 0 ? dst : new float[k];
                chunks.get(t).read(within, part, k);
                if (part != dst) {
                    System.arraycopy(part, 0, dst, done, k);
                }
                done += k;
            }
        };
        return new Planned(HfNames.FUSED_HASH, new long[] {(long) tables.size() * shape[0], shape[1]}, all);
    }

    private static void writeTensors(Path dir, String stem, List<Planned> plan, Options o) throws IOException {
        List<List<Planned>> shards = new ArrayList<>();
        List<Planned> current = new ArrayList<>();
        long bytes = 0;
        for (Planned p : plan) {
            long b = p.numel() * o.dtype().size();
            if (o.shardBytes() > 0 && !current.isEmpty() && bytes + b > o.shardBytes()) {
                shards.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(p);
            bytes += b;
        }
        shards.add(current);
        if (shards.size() == 1 && o.shardBytes() <= 0) {
            shard(plan, o).write(dir.resolve(stem + ".safetensors"));
            return;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format("%s-%05d-of-%05d.safetensors", stem, i + 1, shards.size());
            shard(shards.get(i), o).write(dir.resolve(file));
            for (Planned p : shards.get(i)) {
                weightMap.put(p.name(), file);
                total += p.numel() * o.dtype().size();
            }
        }
        JsonObject index = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        index.add("metadata", meta);
        index.add("weight_map", GSON.toJsonTree(weightMap));
        writeJson(dir.resolve(stem + TensorFiles.INDEX_SUFFIX), index);
    }

    private static SafetensorsWriter shard(List<Planned> plan, Options o) {
        SafetensorsWriter w = new SafetensorsWriter();
        w.putMetadata("format", "pt");
        for (Planned p : plan) {
            w.addFloats(p.name(), o.dtype(), p.chunks(), p.shape());
        }
        return w;
    }

    private static JsonObject patcherArgs(BltConfig c) {
        JsonObject p = new JsonObject();
        p.addProperty("patching_mode", c.patchingMode);
        p.addProperty("threshold", c.patchingThreshold);
        p.addProperty("threshold_add", c.patchingThresholdAdd);
        p.addProperty("monotonicity", c.monotonicity);
        p.addProperty("max_patch_length", c.maxPatchLength);
        p.addProperty("patch_size", c.patchSize);
        return p;
    }

    private static void writeJson(Path file, JsonElement json) throws IOException {
        AtomicFiles.writeString(file, GSON.toJson(json) + "\n");
    }

    // ---------------------------------------------------------------- sources

    /** A parameter's elements from a weight source: ranges of the mapped file, or (a .pth) the tensor read once. */
    private static SafetensorsWriter.FloatChunks chunks(ParameterStore.WeightSource source, Parameter p) {
        if (source instanceof FileWeights fw) {
            FileWeights.Location l = fw.location(p.name());
            long base = l.rows() < 0 ? 0 : l.fromRow() * p.shape()[1];
            return (from, dst, count) -> fw.files().readFloats(l.tensor(), base + from, count, dst, 0);
        }
        float[][] held = new float[1][];
        return (from, dst, count) -> {
            if (held[0] == null) {
                held[0] = source.read(p.name());
            }
            System.arraycopy(held[0], (int) from, dst, 0, count);
            if (from + count == held[0].length) {
                held[0] = null; // written: let it go
            }
        };
    }

    /**
     * Seeded uniform values with the parameter's initial σ (constant parameters such as norms keep their constant).
     * Not the reference initialisation: these weights exist to measure memory and speed at full size.
     */
    private static SafetensorsWriter.FloatChunks random(Parameter p, long seed) {
        Parameter.Init init = p.init();
        float scale = (float) (init.std() * Math.sqrt(3.0));
        SplittableRandom[] rnd = new SplittableRandom[1];
        long[] next = {-1};
        return (from, dst, count) -> {
            if (init.std() == 0) {
                java.util.Arrays.fill(dst, 0, count, init.constant());
                return;
            }
            if (from != next[0]) {
                rnd[0] = new SplittableRandom(seed * 31 + p.name().hashCode() + from);
            }
            for (int i = 0; i < count; i++) {
                dst[i] = (float) (rnd[0].nextDouble(-1.0, 1.0) * scale);
            }
            next[0] = from + count;
        };
    }


    private static boolean isEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
