package blt4j.cli;

import blt4j.io.StDtype;
import blt4j.train.ModelExport;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The layout, dtype and sharding flags shared by {@code blt convert} and {@code blt init}. */
final class ExportOptions {
    @Option(names = {"-o", "--out"}, required = true, description = "New folder to write (must not exist, or be empty).")
    Path out;

    @Option(names = "--to", defaultValue = "reference", description = "Layout: reference (facebook/blt-1b: config.json "
            + "args, model.safetensors, entropy_model/) or hf (Hugging Face BltForCausalLM). Default: ${DEFAULT-VALUE}.")
    String to;

    @Option(names = "--dtype", defaultValue = "bf16", description = "f32, bf16 or f16. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--shard-size", description = "Split the weights into shards of at most this many bytes "
            + "(suffix k, M, G; e.g. 5G) with a model.safetensors.index.json.")
    String shardSize;

    ModelExport.Options options() {
        ModelExport.Target target = switch (to) {
            case "reference", "released" -> ModelExport.Target.REFERENCE;
            case "hf" -> ModelExport.Target.HF;
            default -> throw new FlagException("--to must be reference or hf, got '" + to + "'");
        };
        StDtype d = switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "fp32", "float32" -> StDtype.F32;
            case "bf16", "bfloat16" -> StDtype.BF16;
            case "f16", "fp16", "float16" -> StDtype.F16;
            default -> throw new FlagException("--dtype must be f32, bf16 or f16, got '" + dtype + "'");
        };
        return new ModelExport.Options(target, d, shardSize == null ? 0 : bytes(shardSize));
    }

    static long bytes(String s) {
        String t = s.trim();
        long unit = 1;
        char last = t.isEmpty() ? ' ' : Character.toUpperCase(t.charAt(t.length() - 1));
        if (last == 'K' || last == 'M' || last == 'G') {
            unit = last == 'K' ? 1L << 10 : last == 'M' ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new FlagException("--shard-size must be a positive size such as 500M or 5G, got '" + s + "'");
        }
    }
}
