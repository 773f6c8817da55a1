package blt4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * BLT byte tokenizer (BLT-REFERENCE §1): every UTF-8 byte b becomes id b+4; ids 0..3 are specials.
 * It is the only tokenizer the model needs, so it lives next to the model rather than in a text package.
 */
public final class ByteTokenizer {
    /** Beginning-of-example / padding id; also the left pad for n-gram hashing. */
    public static final int BOE = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int BPE_DELIM = 3;
    /** Byte b is id b + OFFSET. */
    public static final int OFFSET = 4;
    /** 256 bytes + 4 specials. */
    public static final int VOCAB = 260;

    private ByteTokenizer() {}

    /** Ids of raw bytes, optionally wrapped in BOS/EOS. */
    public static int[] encode(byte[] bytes, boolean bos, boolean eos) {
        int n = bytes.length + (bos ? 1 : 0) + (eos ? 1 : 0);
        int[] out = new int[n];
        int j = 0;
        if (bos) {
            out[j++] = BOS;
        }
        for (byte b : bytes) {
            out[j++] = (b & 0xFF) + OFFSET;
        }
        if (eos) {
            out[j] = EOS;
        }
        return out;
    }

    /** UTF-8 encodes {@code s}; unencodable chars (lone surrogates) are dropped like Python's errors="ignore". */
    public static int[] encode(String s, boolean bos, boolean eos) {
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.IGNORE)
                .onUnmappableCharacter(CodingErrorAction.IGNORE);
        try {
            ByteBuffer bb = enc.encode(CharBuffer.wrap(s));
            byte[] bytes = new byte[bb.remaining()];
            bb.get(bytes);
            return encode(bytes, bos, eos);
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e); // cannot happen with IGNORE
        }
    }

    /**
     * Raw bytes of {@code ids}, dropping special ids (&lt; 4, including the -1 generation sentinel). With {@code cutAtEos} everything after the
     * first EOS is discarded.
     */
    public static byte[] decodeBytes(int[] ids, boolean cutAtEos) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (cutAtEos && id == EOS) {
                break;
            }
            if (id >= VOCAB) {
                throw new IllegalArgumentException("id out of vocabulary: " + id);
            }
            if (id >= OFFSET) {
                out.write(id - OFFSET);
            }
        }
        return out.toByteArray();
    }

    /** UTF-8 text of {@code ids}; malformed sequences become U+FFFD. */
    public static String decode(int[] ids, boolean cutAtEos) {
        return new String(decodeBytes(ids, cutAtEos), StandardCharsets.UTF_8);
    }

    /** Like {@link #decode} but drops malformed bytes, as the reference does ({@code errors="ignore"}). */
    public static String decodeIgnoringErrors(int[] ids, boolean cutAtEos) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.IGNORE)
                .onUnmappableCharacter(CodingErrorAction.IGNORE);
        try {
            return dec.decode(ByteBuffer.wrap(decodeBytes(ids, cutAtEos))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
