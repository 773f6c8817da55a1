package blt4j.cli;

import blt4j.io.SafetensorsFile;
import blt4j.io.StDtype;
import blt4j.io.TensorFiles;
import blt4j.io.TensorInfo;
import blt4j.io.TorchCheckpoint;
import blt4j.model.BltConfig;
import blt4j.model.EntropyModelConfig;
import blt4j.train.ModelFolder;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code blt inspect DIR}: which layout a model folder is in, its configs, parameter counts and dtypes. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Name the layout of a model folder (blt4j checkpoint or run, released facebook/blt-1b / blt-7b, "
                + "facebook/blt-entropy, facebook/blt consolidated .pth, Hugging Face BltForCausalLM), its configs, "
                + "parameter counts, weight files and dtypes. Reads headers only.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Model folder.")
    Path dir;

    @Override
    public Integer call() throws IOException {
        ModelFolder f = ModelFolder.open(dir);
        PrintStream out = System.out;
        out.println("folder    " + f.dir());
        out.println("layout    " + f.layout().description());
        out.println("kind      " + f.kind());
        BltConfig blt = f.bltConfig();
        if (blt != null) {
            out.printf("BLT       d_local %d (%d enc / %d dec layers), d_global %d (%d layers, %d heads), k %d, hash %d × %,d × %d%n",
                    blt.dimLocalEncoder, blt.nLayersLocalEncoder, blt.nLayersLocalDecoder, blt.dimGlobal, blt.nLayersGlobal,
                    blt.nHeadsGlobal, blt.crossAttnK, blt.hashTables(), blt.encoderHashByteGroupVocab, blt.dimLocalEncoder);
            out.printf("          %,d parameters (%,d in hash tables, %,d others)%n", blt.parameterCount(),
                    blt.hashParameterCount(), blt.parameterCount() - blt.hashParameterCount());
            out.println("patching  " + blt.patching().describe() + "  (from " + f.patchingSource() + ")");
            weights("BLT weights", f.bltWeightsFile(), out);
        }
        EntropyModelConfig e = f.entropyConfig();
        if (e != null) {
            out.printf("entropy   d %d, %d layers, %d heads, window %d, max_seqlen %d, RoPE θ %.0f: %,d parameters%n", e.dim,
                    e.nLayers, e.nHeads, e.window(), e.maxSeqlen, e.ropeTheta, e.parameterCount());
            Path ew = f.entropyWeightsFile();
            if (ew != null && !ew.equals(f.bltWeightsFile())) {
                weights("entropy weights", ew, out);
            }
        } else if (blt != null) {
            out.println("entropy   none found (patching modes that need entropies will fail)");
        }
        return 0;
    }

    private static void weights(String what, Path file, PrintStream out) throws IOException {
        if (file == null) {
            return;
        }
        Map<StDtype, long[]> byDtype = new TreeMap<>();
        String where;
        if (file.getFileName().toString().endsWith(".pth")) {
            try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
                for (TorchCheckpoint.StoredTensor t : c.tensors().values()) {
                    long[] n = byDtype.computeIfAbsent(t.dtype(), k -> new long[2]);
                    n[0]++;
                    n[1] += t.numel();
                }
                where = file.toString();
            }
        } else {
            try (TensorFiles files = TensorFiles.open(file)) {
                for (String name : files.names()) {
                    TensorInfo t = files.info(name);
                    long[] n = byDtype.computeIfAbsent(t.dtype(), k -> new long[2]);
                    n[0]++;
                    n[1] += t.numel();
                }
                where = file + (files.files().size() > 1 ? " (" + files.files().size() + " shards)" : "");
                long bytes = 0;
                for (SafetensorsFile s : files.files()) {
                    bytes += s.fileSize();
                }
                where += String.format(", %.2f GB", bytes / 1e9);
            }
        }
        out.println(String.format("%-9s %s", what.startsWith("BLT") ? "weights" : "e-weights", where));
        byDtype.forEach((d, n) -> out.printf("          %s: %,d tensors, %,d values%n", d, n[0], n[1]));
    }
}
