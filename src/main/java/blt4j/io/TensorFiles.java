package blt4j.io;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The tensors of one model, held in one safetensors file or sharded over several
 * ({@code model.safetensors.index.json}: a {@code weight_map} from tensor name to shard file, as Hugging Face writes
 * it). Every shard is opened, and the index checked against the shards' headers, before anything is read: a missing
 * shard, a tensor the index places in a shard that lacks it, a tensor in two shards, or a tensor in a shard that the
 * index does not list are each an error naming the file.
 */
public final class TensorFiles implements AutoCloseable {
    /** The index file name Hugging Face uses for sharded safetensors. */
    public static final String INDEX_SUFFIX = ".safetensors.index.json";

    private final Path source;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<SafetensorsFile> files;

    private TensorFiles(Path source, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> files) {
        this.source = source;
        this.byTensor = byTensor;
        this.files = files;
    }

    /** One safetensors file, or the shards an {@code *.safetensors.index.json} file names. */
    public static TensorFiles open(Path file) throws IOException {
        if (file.getFileName().toString().endsWith(INDEX_SUFFIX)) {
            return openIndex(file);
        }
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> map = new LinkedHashMap<>();
        for (String name : f.tensors().keySet()) {
            map.put(name, f);
        }
        return new TensorFiles(file, map, List.of(f));
    }

    /**
     * The weights of a folder: {@code <stem>.safetensors} if present, else {@code <stem>.safetensors.index.json};
     * null when neither exists.
     */
    public static Path find(Path dir, String stem) {
        Path single = dir.resolve(stem + ".safetensors");
        if (Files.isRegularFile(single)) {
            return single;
        }
        Path index = dir.resolve(stem + INDEX_SUFFIX);
        return Files.isRegularFile(index) ? index : null;
    }

    private static TensorFiles openIndex(Path index) throws IOException {
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (String shard : new TreeSet<>(weightMap.values())) {
                Path p = index.resolveSibling(shard);
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsException(index, "shard '" + shard + "' is missing (the index places "
                            + count(weightMap, shard) + " tensors in it)");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                shards.put(shard, f);
            }
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                SafetensorsFile f = shards.get(e.getValue());
                if (!f.contains(e.getKey())) {
                    throw new SafetensorsException(index, "the index places tensor '" + e.getKey() + "' in shard '"
                            + e.getValue() + "', which does not hold it");
                }
                byTensor.put(e.getKey(), f);
            }
            for (Map.Entry<String, SafetensorsFile> s : shards.entrySet()) {
                for (String name : s.getValue().tensors().keySet()) {
                    String listed = weightMap.get(name);
                    if (!s.getKey().equals(listed)) {
                        throw new SafetensorsException(index, "shard '" + s.getKey() + "' holds tensor '" + name + "', "
                                + (listed == null ? "which the index does not list" : "which the index places in '" + listed + "'"));
                    }
                }
            }
            return new TensorFiles(index, byTensor, List.copyOf(opened));
        } catch (IOException | RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static int count(Map<String, String> weightMap, String shard) {
        int n = 0;
        for (String s : weightMap.values()) {
            n += s.equals(shard) ? 1 : 0;
        }
        return n;
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        if (Files.size(index) > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new SafetensorsException(index, "index file is larger than " + SafetensorsFile.MAX_HEADER_BYTES + " bytes");
        }
        JsonElement root;
        try {
            root = JsonParser.parseString(new String(Files.readAllBytes(index), StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            throw new SafetensorsException(index, "index is not valid JSON: " + e.getMessage());
        }
        if (!root.isJsonObject() || !root.getAsJsonObject().has("weight_map")
                || !root.getAsJsonObject().get("weight_map").isJsonObject()) {
            throw new SafetensorsException(index, "index has no \"weight_map\" object");
        }
        JsonObject map = root.getAsJsonObject().getAsJsonObject("weight_map");
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : map.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isEmpty()) {
                throw new SafetensorsException(index, "weight_map entry '" + e.getKey() + "' must name a shard file");
            }
            String shard = v.getAsString();
            if (shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals(".")) {
                throw new SafetensorsException(index, "shard '" + shard + "' must be a file name beside the index");
            }
            out.put(e.getKey(), shard);
        }
        if (out.isEmpty()) {
            throw new SafetensorsException(index, "weight_map is empty");
        }
        return out;
    }

    /** The file or index these tensors were opened from. */
    public Path source() {
        return source;
    }

    /** The safetensors files (one, or every shard). */
    public List<SafetensorsFile> files() {
        return files;
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    public Collection<String> names() {
        return Collections.unmodifiableSet(byTensor.keySet());
    }

    public TensorInfo info(String name) throws SafetensorsException {
        return file(name).info(name);
    }

    public int[] intShape(String name) throws SafetensorsException {
        return file(name).intShape(name);
    }

    public float[] readFloats(String name) throws SafetensorsException {
        return file(name).readFloats(name);
    }

    public java.nio.ShortBuffer mappedBf16(String name) throws SafetensorsException {
        return file(name).mappedBf16(name);
    }

    public short[] readBf16(String name) throws SafetensorsException {
        return file(name).readBf16(name);
    }

    public void readFloats(String name, long fromElement, int count, float[] dst, int dstOffset) throws SafetensorsException {
        file(name).readFloats(name, fromElement, count, dst, dstOffset);
    }

    /** Total bytes of tensor data. */
    public long dataBytes() {
        long n = 0;
        for (SafetensorsFile f : files) {
            n += f.fileSize() - f.dataStart();
        }
        return n;
    }

    private SafetensorsFile file(String name) throws SafetensorsException {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) {
            // the single-file error lists the closest names
            return files.size() == 1 ? files.get(0) : fail(name);
        }
        return f;
    }

    private SafetensorsFile fail(String name) throws SafetensorsException {
        throw new SafetensorsException(source, "no tensor named '" + name + "' in " + files.size() + " shards");
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
