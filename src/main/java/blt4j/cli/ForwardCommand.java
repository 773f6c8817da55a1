package blt4j.cli;

import blt4j.compute.Backend;
import blt4j.io.SafetensorsWriter;
import blt4j.model.ByteLatentTransformer;
import blt4j.tokenizer.ByteTokenizer;
import blt4j.patch.PatchingScheme;
import blt4j.patch.PatchIds;
import blt4j.train.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import java.io.IOException;

/** {@code blt forward}: one BLT forward pass dumped for cross-checks with other implementations. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one BLT forward over an input ([BOS] + its bytes) and write token ids, entropies, patch lengths, "
                + "patch ids, decoder patch ids and logits to a safetensors file.")
final class ForwardCommand implements Callable<Integer> {
    @Mixin
    BackendOptions backendOptions = new BackendOptions();

    @Option(names = {"-c", "--checkpoint"}, required = true, description = "BLT run, checkpoint or reference-layout folder.")
    Path checkpoint;

    @Option(names = {"-i", "--input"}, required = true, description = "Input file (any bytes).")
    Path input;

    @Option(names = "--out", required = true, description = "Output .safetensors file.")
    Path out;

    @Option(names = "--eos", description = "Append EOS (training-style rows; the reference fixtures drop the last token as x).")
    boolean eos;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(input)) {
            throw new IOException("input file not found: " + input);
        }
        int[] tokens = ByteTokenizer.encode(Files.readAllBytes(input), true, eos);
        try (Backend backend = backendOptions.create()) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(checkpoint, backend);
            PatchingScheme scheme = ModelFiles.patchingScheme(checkpoint, blt.config().patching(), backend);
            float[] entropies = scheme.entropies(tokens);
            int[] lengths = scheme.lengths(tokens, entropies);
            int n = tokens.length;
            float[] logits = blt.forward(blt.newState(1, n, lengths.length, false), tokens, new int[][] {lengths}).toHost();
            new SafetensorsWriter()
                    .putMetadata("format", "blt4j forward dump")
                    .putMetadata("patching", scheme.config().describe())
                    .addInts("tokens", tokens, n)
                    .addFloats("entropies", entropies == null ? new float[n] : entropies, n)
                    .addInts("patch_lengths", lengths, lengths.length)
                    .addInts("patch_ids", PatchIds.patchIdsFromLengths(lengths, n), n)
                    .addInts("decoder_patch_ids", PatchIds.decoderPatchIds(lengths, n), n)
                    .addFloats("logits", logits, n, 260)
                    .write(out);
            System.out.printf("wrote %s: %d tokens, %d patches (%s)%n", out, n, lengths.length, scheme.config().describe());
        }
        return 0;
    }
}
