package dev.jumbo.models;

import dev.jumbo.io.FormatException;
import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.WeightMatrix;
import dev.jumbo.text.SentencePieceBpe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Andrej Karpathy's llama2.c files: a model checkpoint ({@code stories15M.bin}, {@code stories260K.bin},
 * a Llama 2 exported by its {@code export.py --version 0}) and its tokenizer ({@code tokenizer.bin},
 * {@code tok512.bin}), read as {@code run.c} reads them.
 *
 * <pre>{@code
 * try (Llama llama = Llama2c.load(Path.of("stories260K.bin"))) {
 *     SentencePieceBpe tok = Llama2c.loadTokenizer(Path.of("tok512.bin"), llama.vocabSize());
 *     Generator.Generation g = Generator.generate(llama, tok, "",
 *             GenerationConfig.defaults().greedy(true).bosTokenId(Llama2c.BOS).eosTokenId(Llama2c.BOS), null);
 * }
 * }</pre>
 *
 * <p>The checkpoint is mapped, not read: the model's matrices are {@link WeightMatrix} views on the
 * mapping, so loading copies only the norms. Every size is checked with exact arithmetic against the
 * file's length before any weight is touched; a file that is truncated, longer than its header says,
 * or whose header is impossible is a {@link FormatException} naming the file and the numbers.
 */
public final class Llama2c {
    /** run.c's beginning-of-sequence id; llama2.c also stops generating when the model produces it. */
    public static final int BOS = 1;
    /** run.c's end-of-sequence id. */
    public static final int EOS = 2;
    /** sentencepiece's unknown id in Llama's vocabularies. */
    public static final int UNK = 0;
    /** run.c hard-codes both: the rotary base and the RMSNorm epsilon. */
    static final double ROPE_THETA = 10000;
    static final float RMS_EPS = 1e-5f;
    /** The first four bytes of llama2.c's newer exports (version 1 and 2): "ak42" as a little-endian uint32. */
    private static final int MAGIC = 0x616b3432;
    private static final int HEADER_BYTES = 7 * 4;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Llama2c() {}

    /**
     * Maps a llama2.c checkpoint (the legacy "version 0" layout {@code run.c} reads). Close the model to unmap it.
     *
     * @throws FormatException naming the file and what does not add up
     */
    public static Llama load(Path file) throws IOException {
        Arena arena = Arena.ofShared(); // shared: the compute threads read the weights too
        try {
            MemorySegment mapped;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                if (channel.size() < HEADER_BYTES)
                    throw new FormatException(file, "file has " + channel.size() + " bytes, too short for llama2.c's 28-byte header");
                mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            }
            Llama model = build(file, mapped, arena);
            return model;
        } catch (IOException | RuntimeException e) {
            arena.close(); // nobody else will: the caller never gets the model
            throw e;
        }
    }

    private static Llama build(Path file, MemorySegment m, Arena arena) throws FormatException {
        if (m.get(I32, 0) == MAGIC)
            throw new FormatException(file, "a llama2.c export of version " + m.get(I32, 4)
                    + " (magic \"ak42\"); only the legacy version 0 (export.py --version 0) is supported");
        // typedef struct { int dim; int hidden_dim; int n_layers; int n_heads; int n_kv_heads; int vocab_size; int seq_len; } Config;
        int dim = m.get(I32, 0), hiddenDim = m.get(I32, 4), layers = m.get(I32, 8), heads = m.get(I32, 12),
                kvHeads = m.get(I32, 16), vocabField = m.get(I32, 20), seqLen = m.get(I32, 24);
        String header = "dim=" + dim + ", hidden_dim=" + hiddenDim + ", n_layers=" + layers + ", n_heads=" + heads
                + ", n_kv_heads=" + kvHeads + ", vocab_size=" + vocabField + ", seq_len=" + seqLen;
        // a negative vocab_size means the classifier is stored after the other weights (unshared)
        if (vocabField == 0 || vocabField == Integer.MIN_VALUE) throw new FormatException(file, "header (" + header + "): vocab_size is out of range");
        boolean shared = vocabField > 0;
        int vocab = Math.abs(vocabField);
        LlamaConfig config;
        try {
            config = new LlamaConfig(dim, hiddenDim, layers, heads, kvHeads, vocab, seqLen, RMS_EPS, ROPE_THETA, LlamaConfig.RopeStyle.NORM, shared);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "header (" + header + "): " + e.getMessage());
        }
        long d = dim, h = hiddenDim, l = layers, kv = config.kvDim(), v = vocab;
        // run.c's memory_map_weights, in float counts; every product is exact (multiplyExact) or an error
        Layout at = new Layout(file, header, HEADER_BYTES);
        long embedding = at.next(v, d);
        long rmsAtt = at.next(l, d);
        long wq = at.next(l, d * d);
        long wk = at.next(l, d * kv);
        long wv = at.next(l, d * kv);
        long wo = at.next(l, d * d);
        long rmsFfn = at.next(l, d);
        long w1 = at.next(l, d * h);
        long w2 = at.next(l, h * d);
        long w3 = at.next(l, d * h);
        long rmsFinal = at.next(1, d);
        at.next(seqLen, config.headSize() / 2); // freq_cis_real: RoPE tables of old exports, recomputed instead
        at.next(seqLen, config.headSize() / 2); // freq_cis_imag
        long wcls = shared ? embedding : at.next(v, d);
        if (at.end != m.byteSize())
            throw new FormatException(file, "file has " + m.byteSize() + " bytes, but its header (" + header + ") describes "
                    + at.end + (at.end > m.byteSize() ? " (truncated?)" : " (" + (m.byteSize() - at.end) + " bytes unaccounted for at the end)"));

        List<Llama.Layer> blocks = new ArrayList<>(layers);
        for (int i = 0; i < layers; i++) {
            blocks.add(new Llama.Layer(floats(m, rmsAtt + 4 * d * i, dim),
                    matrix(m, wq + 4 * d * d * i, dim, dim),
                    matrix(m, wk + 4 * d * kv * i, (int) kv, dim),
                    matrix(m, wv + 4 * d * kv * i, (int) kv, dim),
                    matrix(m, wo + 4 * d * d * i, dim, dim),
                    floats(m, rmsFfn + 4 * d * i, dim),
                    matrix(m, w1 + 4 * d * h * i, hiddenDim, dim),
                    matrix(m, w2 + 4 * h * d * i, dim, hiddenDim),
                    matrix(m, w3 + 4 * d * h * i, hiddenDim, dim)));
        }
        WeightMatrix tokens = matrix(m, embedding, vocab, dim);
        return new Llama(config, tokens, blocks, floats(m, rmsFinal, dim), shared ? tokens : matrix(m, wcls, vocab, dim), arena);
    }

    /**
     * Writes {@code llama} as a llama2.c checkpoint of the legacy version 0 ({@link #load} reads it
     * back, as does {@code run.c}): the header (a negative {@code vocab_size} when the classifier is
     * stored), then every weight in F32 in {@code run.c}'s order, with the rotary tables
     * {@code freq_cis_real/imag} old exports carry ({@code cos} and {@code sin} of each position's
     * angles). Replaced atomically. What {@code jumbo merge} writes for a llama2.c base.
     *
     * @throws IllegalArgumentException if the model is not one llama2.c can hold: rotary pairs other
     *     than adjacent ones, or an epsilon or rotary base other than the 1e-5 and 10000 {@code run.c} hard-codes
     */
    public static void write(Llama llama, Path file) throws IOException {
        LlamaConfig c = llama.config();
        if (c.ropeStyle() != LlamaConfig.RopeStyle.NORM)
            throw new IllegalArgumentException("the model's q and k are arranged for " + c.ropeStyle() + " rotary embeddings; llama2.c rotates adjacent pairs (NORM)");
        if (c.rmsNormEps() != RMS_EPS || c.ropeTheta() != ROPE_THETA)
            throw new IllegalArgumentException("run.c hard-codes rms_norm_eps " + RMS_EPS + " and rope_theta " + ROPE_THETA + "; the model has " + c.rmsNormEps() + " and " + c.ropeTheta());
        boolean shared = llama.output() == llama.embedding();
        dev.jumbo.io.AtomicFiles.write(file, out -> {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            // typedef struct { int dim; int hidden_dim; int n_layers; int n_heads; int n_kv_heads; int vocab_size; int seq_len; } Config;
            for (int v : new int[] {c.dim(), c.hiddenDim(), c.layers(), c.heads(), c.kvHeads(), shared ? c.vocabSize() : -c.vocabSize(), c.contextLength()})
                header.putInt(v);
            out.write(header.array());
            List<Llama.Layer> layers = llama.layers();
            writeMatrix(out, llama.embedding());
            for (Llama.Layer l : layers) writeFloats(out, l.attentionNorm(), 0, l.attentionNorm().length);
            for (Llama.Layer l : layers) writeMatrix(out, l.wq());
            for (Llama.Layer l : layers) writeMatrix(out, l.wk());
            for (Llama.Layer l : layers) writeMatrix(out, l.wv());
            for (Llama.Layer l : layers) writeMatrix(out, l.wo());
            for (Llama.Layer l : layers) writeFloats(out, l.ffnNorm(), 0, l.ffnNorm().length);
            for (Llama.Layer l : layers) writeMatrix(out, l.w1());
            for (Llama.Layer l : layers) writeMatrix(out, l.w2());
            for (Llama.Layer l : layers) writeMatrix(out, l.w3());
            writeFloats(out, llama.finalNorm(), 0, c.dim());
            int half = c.headSize() / 2;
            float[] cos = new float[half], sin = new float[half];
            for (int table = 0; table < 2; table++)
                for (int pos = 0; pos < c.contextLength(); pos++) {
                    for (int j = 0; j < half; j++) {
                        double angle = pos * Math.pow(ROPE_THETA, -2.0 * j / c.headSize());
                        cos[j] = (float) Math.cos(angle);
                        sin[j] = (float) Math.sin(angle);
                    }
                    writeFloats(out, table == 0 ? cos : sin, 0, half);
                }
            if (!shared) writeMatrix(out, llama.output());
        });
    }

    private static void writeMatrix(java.io.OutputStream out, WeightMatrix m) throws IOException {
        float[] row = new float[m.cols()];
        for (int r = 0; r < m.rows(); r++) {
            m.row(r, row, 0);
            writeFloats(out, row, 0, row.length);
        }
    }

    private static void writeFloats(java.io.OutputStream out, float[] v, int off, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(v[off + i]);
        out.write(b.array());
    }

    /** Consecutive float arrays from byte {@code end} on, each placed after the one before. */
    private static final class Layout {
        private final Path file;
        private final String header;
        long end;

        Layout(Path file, String header, long start) {
            this.file = file;
            this.header = header;
            this.end = start;
        }

        /** Places {@code a * b} floats; returns where they start. */
        long next(long a, long b) throws FormatException {
            long at = end;
            try {
                end = Math.addExact(end, Math.multiplyExact(4, Math.multiplyExact(a, b)));
            } catch (ArithmeticException overflow) {
                throw new FormatException(file, "header (" + header + ") describes more than 2^63 bytes of weights");
            }
            return at;
        }
    }

    private static WeightMatrix matrix(MemorySegment m, long at, int rows, int cols) {
        return new WeightMatrix(DType.F32, m.asSlice(at, 4L * rows * cols), rows, cols);
    }

    private static float[] floats(MemorySegment m, long at, int n) {
        float[] out = new float[n];
        MemorySegment.copy(m, F32, at, out, 0, n);
        return out;
    }

    // ---------------------------------------------------------------- tokenizer

    /**
     * Reads a llama2.c tokenizer ({@code run.c}'s {@code build_tokenizer}): an int32
     * {@code max_token_length}, then for each of the model's {@code vocabSize} tokens a float32
     * score, an int32 byte length and the piece's UTF-8 bytes (spaces written as spaces). The file
     * does not store its size: it must hold exactly {@code vocabSize} tokens. llama2.c's files carry
     * no token types; they are inferred: {@code <0xXX>} pieces are bytes, {@code <unk>} (0) is
     * unknown, {@code <s>} (1) and {@code </s>} (2) are control tokens (export.py writes them with
     * newlines around, which are dropped), the rest normal.
     *
     * @throws FormatException naming the file and the token that is truncated, negative, longer than
     *     the declared maximum or not UTF-8, or the bytes left over after the last token
     */
    public static SentencePieceBpe loadTokenizer(Path file, int vocabSize) throws IOException {
        if (vocabSize <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabSize);
        long fileSize = Files.size(file);
        if (fileSize > Integer.MAX_VALUE - 8) throw new FormatException(file, "file of " + fileSize + " bytes is too long for a tokenizer");
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        // int max_token_length;
        if (in.remaining() < 4) throw new FormatException(file, "file has " + fileSize + " bytes, too short for max_token_length");
        int maxLength = in.getInt();
        if (maxLength <= 0) throw new FormatException(file, "max_token_length is " + maxLength + ", not positive");
        String[] tokens = new String[vocabSize];
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        var utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int id = 0; id < vocabSize; id++) {
            // float vocab_scores[i]; int len; char vocab[i][len];
            if (in.remaining() < 8)
                throw new FormatException(file, "truncated: token " + id + " of " + vocabSize + " at byte " + in.position() + " has no score and length (the file has " + fileSize + " bytes)");
            scores[id] = in.getFloat();
            int length = in.getInt();
            if (Float.isNaN(scores[id])) throw new FormatException(file, "token " + id + " has a NaN score");
            if (length < 0 || length > maxLength)
                throw new FormatException(file, "token " + id + " has length " + length + ", outside 0.." + maxLength + " (max_token_length)");
            if (in.remaining() < length)
                throw new FormatException(file, "truncated: token " + id + " of " + vocabSize + " needs " + length + " bytes at byte " + in.position() + ", the file has " + fileSize);
            ByteBuffer piece = in.slice(in.position(), length);
            in.position(in.position() + length);
            try {
                tokens[id] = utf8.decode(piece).toString().replace(' ', SentencePieceBpe.SPACE);
            } catch (CharacterCodingException e) {
                throw new FormatException(file, "token " + id + " is not valid UTF-8", e);
            }
            // export.py writes BOS and EOS as "\n<s>\n" and "\n</s>\n" (for printing); they are control tokens
            if (id == BOS && tokens[id].strip().equals("<s>") || id == EOS && tokens[id].strip().equals("</s>")) tokens[id] = tokens[id].strip();
            types[id] = inferredType(id, tokens[id]).ordinal();
        }
        if (in.hasRemaining())
            throw new FormatException(file, in.remaining() + " bytes follow the " + vocabSize
                    + " tokens of the model's vocabulary: the tokenizer has more tokens than the model (vocabulary size mismatch?)");
        int bos = vocabSize > BOS ? BOS : -1, eos = vocabSize > EOS ? EOS : -1;
        int unk = types[UNK] == SentencePieceBpe.TokenType.UNKNOWN.ordinal() ? UNK : -1;
        return new SentencePieceBpe(tokens, scores, types, bos, eos, unk, true);
    }

    private static SentencePieceBpe.TokenType inferredType(int id, String piece) {
        if (piece.length() == 6 && piece.matches("<0x[0-9A-Fa-f]{2}>")) return SentencePieceBpe.TokenType.BYTE;
        if (id == UNK && piece.equals("<unk>")) return SentencePieceBpe.TokenType.UNKNOWN;
        if (id == BOS && piece.equals("<s>") || id == EOS && piece.equals("</s>")) return SentencePieceBpe.TokenType.CONTROL;
        return SentencePieceBpe.TokenType.NORMAL;
    }

    /**
     * The tokenizer beside a checkpoint when none is named: {@code tokenizer.bin} in its folder,
     * else the one {@code tok*.bin} file there (llama2.c's custom vocabularies, {@code tok512.bin}).
     *
     * @throws NoSuchFileException if there is none
     * @throws IllegalArgumentException if there are several {@code tok*.bin} and no {@code tokenizer.bin}
     */
    public static Path findTokenizer(Path checkpoint) throws IOException {
        Path dir = checkpoint.toAbsolutePath().getParent();
        Path standard = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(standard)) return standard;
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "tok*.bin")) {
            for (Path p : files) if (Files.isRegularFile(p) && !p.equals(checkpoint.toAbsolutePath())) found.add(p);
        }
        if (found.isEmpty()) throw new NoSuchFileException(standard.toString(), null, "no tokenizer.bin or tok*.bin beside the checkpoint; name one");
        if (found.size() > 1) {
            found.sort(null);
            throw new IllegalArgumentException("several tokenizers beside " + checkpoint + ": " + found + "; name one");
        }
        return found.getFirst();
    }
}
