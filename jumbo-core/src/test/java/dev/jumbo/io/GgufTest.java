package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.jumbo.tensor.DType;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.tensor.WeightMatrix;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading GGUF files: files written by llama.cpp's tools, the typed accessors, and the tensor views. */
class GgufTest {
    @TempDir
    Path dir;

    /** The project's shared data folder ({@code ../shared/data} beside the checkout), found from the working directory up. */
    static Path sharedData() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve("data");
            if (Files.isDirectory(candidate.resolve("llama2c"))) return candidate;
        }
        throw new IllegalStateException("shared/data (with llama2c/) not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }

    // ---------------------------------------------------------------- real files

    @Test
    void readsStories260KWrittenByLlamaCpp() throws IOException {
        try (GgufFile g = Gguf.open(sharedData().resolve("llama2c/stories260K.gguf"))) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(32);
            assertThat(g.fields()).hasSize(19);
            assertThat(g.fields().getFirst()).isEqualTo(new GgufField("tokenizer.ggml.tokens", GgufValueType.ARRAY, GgufValueType.STRING, 512));
            assertThat(g.string("general.architecture")).isEqualTo("llama");
            assertThat(g.field("llama.block_count").orElseThrow().type()).isEqualTo(GgufValueType.UINT32);
            assertThat(g.integer("llama.block_count")).isEqualTo(5);
            assertThat(g.integer("llama.embedding_length")).isEqualTo(64);
            assertThat(g.integer("llama.feed_forward_length")).isEqualTo(172);
            assertThat(g.integer("llama.attention.head_count")).isEqualTo(8);
            assertThat(g.integer("llama.attention.head_count_kv")).isEqualTo(4);
            assertThat(g.number("llama.attention.layer_norm_rms_epsilon")).isCloseTo(1e-5, within(1e-12));
            assertThat(g.integer("tokenizer.ggml.padding_token_id")).isEqualTo(0xFFFF_FFFFL); // a u32 -1: "none"

            String[] tokens = g.strings("tokenizer.ggml.tokens");
            assertThat(tokens).hasSize(512).startsWith("<unk>", "<s>", "</s>", "<0x00>");
            assertThat(g.floats("tokenizer.ggml.scores")).hasSize(512);
            assertThat(g.ints("tokenizer.ggml.token_type")).hasSize(512).startsWith(2, 3, 3, 6);

            assertThat(g.tensors()).hasSize(48);
            assertThat(g.tensors().subList(0, 4)).extracting(GgufTensor::name)
                    .containsExactly("token_embd.weight", "output_norm.weight", "output.weight", "blk.0.attn_q.weight");
            GgufTensor embd = g.tensorInfo("token_embd.weight");
            assertThat(embd.type()).isEqualTo(GgmlType.F32);
            assertThat(embd.dims()).containsExactly(64, 512);
            assertThat(embd.shape()).containsExactly(512, 64);
            assertThat(embd.offset()).isEqualTo(g.dataOffset());
            GgufTensor last = g.tensors().getLast();
            assertThat(last.offset() + last.byteSize()).isEqualTo(Files.size(g.file()));

            // the same weights as llama2.c's checkpoint: after its 7-int config comes the embedding table
            ByteBuffer bin = ByteBuffer.wrap(Files.readAllBytes(sharedData().resolve("llama2c/stories260K.bin"))).order(ByteOrder.LITTLE_ENDIAN);
            float[] expected = new float[512 * 64];
            bin.position(28);
            bin.asFloatBuffer().get(expected);
            WeightMatrix w = g.matrix("token_embd.weight");
            assertThat(w.type()).isEqualTo(DType.F32);
            assertThat(w.rows()).isEqualTo(512);
            assertThat(w.cols()).isEqualTo(64);
            float[] row = new float[64];
            w.row(511, row, 0);
            assertThat(row).containsExactly(java.util.Arrays.copyOfRange(expected, 511 * 64, 512 * 64));

            Tensor norm = g.tensor("output_norm.weight");
            assertThat(norm.shape().toArray()).containsExactly(64);
            assertThat(g.matrix("blk.0.attn_k.weight").rows()).isEqualTo(32); // 4 kv heads of 8
        }
    }

    @Test
    void readsAQ8_0BertModel() throws IOException {
        try (GgufFile g = Gguf.open(sharedData().resolve("gguf/all-minilm-l6-v2-q8_0.gguf"))) {
            assertThat(g.string("general.architecture")).isEqualTo("bert");
            assertThat(g.integer("bert.block_count")).isEqualTo(6);
            assertThat(g.bool("bert.attention.causal")).isFalse();
            assertThat(g.strings("tokenizer.ggml.tokens")).hasSize(30522).contains("[CLS]", "[SEP]");
            assertThat(g.tensors()).hasSize(101);
            GgufTensor embd = g.tensorInfo("token_embd.weight");
            assertThat(embd.type()).isEqualTo(GgmlType.Q8_0);
            assertThat(embd.byteSize()).isEqualTo(30522L * 384 / 32 * 34);
            WeightMatrix w = g.matrix("token_embd.weight");
            assertThat(w.type()).isEqualTo(DType.Q8_0);
            assertThat(w.rows()).isEqualTo(30522);
            assertThat(w.cols()).isEqualTo(384);
            assertThat(w.data().byteSize()).isEqualTo(embd.byteSize());
            assertThat(g.tensor("token_embd_norm.weight").shape().toArray()).containsExactly(384);
            assertThatThrownBy(() -> g.tensor("token_embd.weight")).isInstanceOf(FormatException.class)
                    .hasMessageContaining("tensor \"token_embd.weight\" is Q8_0, a quantized type: read it with matrix()");
        }
    }

    @Test
    void readsVocabularyOnlyFiles() throws IOException {
        Path dir = sharedData().resolve("tokenizer-tests");
        try (GgufFile g = Gguf.open(dir.resolve("ggml-vocab-llama-spm.gguf"))) {
            assertThat(g.tensors()).isEmpty();
            assertThat(g.dataOffset()).isEqualTo(Files.size(g.file())); // nothing after the header, not even padding
            assertThat(g.string("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(g.strings("tokenizer.ggml.tokens")).hasSize(32000);
            assertThat(g.floats("tokenizer.ggml.scores")).hasSize(32000);
            assertThat(g.bool("tokenizer.ggml.add_bos_token")).isTrue();
            assertThat(g.bool("tokenizer.ggml.add_eos_token")).isFalse();
        }
        try (GgufFile g = Gguf.open(dir.resolve("ggml-vocab-gpt-2.gguf"))) {
            assertThat(g.strings("tokenizer.ggml.tokens")).hasSize(50257);
            assertThat(g.strings("tokenizer.ggml.merges")).hasSize(50000).startsWith("Ġ t", "Ġ a");
            assertThat(g.integer("tokenizer.ggml.eos_token_id")).isEqualTo(50256);
        }
        try (GgufFile g = Gguf.open(dir.resolve("ggml-vocab-bert-bge.gguf"))) {
            assertThat(g.string("tokenizer.ggml.pre")).isEqualTo("bert-bge");
            assertThat(g.ints("tokenizer.ggml.token_type")).hasSize(30522);
        }
    }

    // ---------------------------------------------------------------- typed metadata

    private GgufFile written(GgufWriter w) throws IOException {
        Path p = dir.resolve("t.gguf");
        w.write(p);
        return Gguf.open(p);
    }

    @Test
    void integerAcceptsEveryIntegerWidthAndNumberEveryNumber() throws IOException {
        GgufWriter w = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 255).put("i8", GgufValueType.INT8, -128)
                .put("u16", GgufValueType.UINT16, 65535).put("i16", GgufValueType.INT16, -32768)
                .put("u32", GgufValueType.UINT32, 0xFFFF_FFFFL).put("i32", GgufValueType.INT32, Integer.MIN_VALUE)
                .put("u64", GgufValueType.UINT64, Long.MAX_VALUE).put("i64", GgufValueType.INT64, Long.MIN_VALUE)
                .put("f32", GgufValueType.FLOAT32, 0.25f).put("f64", GgufValueType.FLOAT64, 1e300);
        try (GgufFile g = written(w)) {
            assertThat(g.integer("u8")).isEqualTo(255);
            assertThat(g.integer("i8")).isEqualTo(-128);
            assertThat(g.integer("u16")).isEqualTo(65535);
            assertThat(g.integer("i16")).isEqualTo(-32768);
            assertThat(g.integer("u32")).isEqualTo(0xFFFF_FFFFL);
            assertThat(g.integer("i32")).isEqualTo(Integer.MIN_VALUE);
            assertThat(g.integer("u64")).isEqualTo(Long.MAX_VALUE);
            assertThat(g.integer("i64")).isEqualTo(Long.MIN_VALUE);
            assertThat(g.number("u32")).isEqualTo(4294967295.0);
            assertThat(g.number("f32")).isEqualTo(0.25);
            assertThat(g.number("f64")).isEqualTo(1e300);
            assertThat(g.value("u8")).isEqualTo(255);
            assertThat(g.value("u32")).isEqualTo(0xFFFF_FFFFL);
            assertThat(g.value("f32")).isEqualTo(0.25f);
        }
    }

    @Test
    void aU64OverTheLongRangeIsANumberButNotAnInteger() throws IOException {
        try (GgufFile g = written(new GgufWriter().put("big", GgufValueType.UINT64, -1L))) {
            assertThat(g.value("big")).isEqualTo(-1L); // the bit pattern
            assertThat(g.number("big")).isEqualTo(1.8446744073709552e19);
            assertThatThrownBy(() -> g.integer("big")).isInstanceOf(FormatException.class)
                    .hasMessageContaining("key \"big\" is 18446744073709551615, more than a long holds");
        }
    }

    @Test
    void aMissingKeyOrAWrongTypeNamesTheKey() throws IOException {
        try (GgufFile g = written(new GgufWriter().put("name", "x").put("n", GgufValueType.UINT32, 3)
                .putArray("list", GgufValueType.INT32, List.of(1, 2)))) {
            assertThatThrownBy(() -> g.string("absent")).isInstanceOf(FormatException.class).hasMessageEndingWith(": no metadata key \"absent\"");
            assertThatThrownBy(() -> g.integer("name")).isInstanceOf(FormatException.class)
                    .hasMessageEndingWith(": key \"name\" (at byte 24) is a STRING, not an integer");
            assertThatThrownBy(() -> g.string("n")).hasMessageContaining("key \"n\" (at byte 49) is a UINT32, not a STRING");
            assertThatThrownBy(() -> g.bool("n")).hasMessageContaining("is a UINT32, not a BOOL");
            assertThatThrownBy(() -> g.number("name")).hasMessageContaining("is a STRING, not a number");
            assertThatThrownBy(() -> g.array("n")).hasMessageContaining("is a UINT32, not an array");
            assertThatThrownBy(() -> g.strings("list")).hasMessageContaining("key \"list\" (at byte 66) is an array of INT32, not an array of strings");
            assertThatThrownBy(() -> g.floats("list")).hasMessageContaining("not an array of floats");
            assertThatThrownBy(() -> g.ints("name")).hasMessageContaining("is a STRING, not an array of integers");
            assertThatThrownBy(() -> g.tensorInfo("w")).isInstanceOf(FormatException.class).hasMessageEndingWith(": no tensor \"w\"");
        }
    }

    @Test
    void defaultsStandInForMissingKeysOnly() throws IOException {
        try (GgufFile g = written(new GgufWriter().put("name", "x").put("flag", GgufValueType.BOOL, true))) {
            assertThat(g.string("absent", "d")).isEqualTo("d");
            assertThat(g.integer("absent", 7)).isEqualTo(7);
            assertThat(g.number("absent", 1e-6)).isEqualTo(1e-6);
            assertThat(g.bool("absent", false)).isFalse();
            assertThat(g.string("name", "d")).isEqualTo("x");
            assertThat(g.bool("flag", false)).isTrue();
            assertThat(g.has("name")).isTrue();
            assertThat(g.field("absent")).isEmpty();
            assertThatThrownBy(() -> g.integer("name", 7)).isInstanceOf(FormatException.class).hasMessageContaining("not an integer");
        }
    }

    @Test
    void arraysReadAsJavaArraysOfTheirKind() throws IOException {
        GgufWriter w = new GgufWriter()
                .putArray("u8", GgufValueType.UINT8, List.of(0, 255))
                .putArray("u32", GgufValueType.UINT32, List.of(1L, 0xFFFF_FFFFL))
                .putArray("i64", GgufValueType.INT64, List.of(-5L, 1L << 40))
                .putArray("i32", GgufValueType.INT32, List.of(-1, 2, 3))
                .putArray("f32", GgufValueType.FLOAT32, List.of(0.5f, -1f))
                .putArray("f64", GgufValueType.FLOAT64, List.of(0.1, 1e-3))
                .putArray("str", GgufValueType.STRING, List.of("", "é", "▁the"))
                .putArray("empty", GgufValueType.STRING, List.of());
        try (GgufFile g = written(w)) {
            assertThat(g.ints("u8")).containsExactly(0, 255);
            assertThat(g.ints("i32")).containsExactly(-1, 2, 3);
            assertThatThrownBy(() -> g.ints("u32")).hasMessageContaining("item 1 of key \"u32\" is 4294967295, more than an int holds");
            assertThatThrownBy(() -> g.ints("i64")).hasMessageContaining("item 1 of key \"i64\" is 1099511627776");
            assertThat(g.floats("f32")).containsExactly(0.5f, -1f);
            assertThat(g.floats("f64")).containsExactly(0.1f, 1e-3f);
            assertThat(g.strings("str")).containsExactly("", "é", "▁the");
            assertThat(g.strings("empty")).isEmpty();
            assertThat(g.array("u32")).isEqualTo(List.of(1L, 0xFFFF_FFFFL));
            assertThat(g.array("str")).isEqualTo(List.of("", "é", "▁the"));
            assertThat(g.field("str").orElseThrow()).isEqualTo(new GgufField("str", GgufValueType.ARRAY, GgufValueType.STRING, 3));
        }
    }

    // ---------------------------------------------------------------- tensors

    private static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    private static byte[] u16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putShort((short) x);
        return b.array();
    }

    @Test
    void matrixViewsTheMappedBytesWithRowsFromTheSecondDimension() throws IOException {
        // ggml dims {3, 2}: two rows of three
        try (GgufFile g = written(new GgufWriter().addTensor("w", GgmlType.F32, new long[] {3, 2}, f32(1, 2, 3, 4, 5, 6))
                .addTensor("v", GgmlType.F32, new long[] {3}, f32(1, 1, 1))
                .addTensor("cube", GgmlType.F32, new long[] {1, 1, 2}, f32(1, 2))
                .addTensor("flat", GgmlType.F32, new long[] {2, 1, 1, 1}, f32(1, 2)))) {
            WeightMatrix w = g.matrix("w");
            assertThat(w.rows()).isEqualTo(2);
            assertThat(w.cols()).isEqualTo(3);
            float[] y = new float[2];
            w.gemv(new float[] {1, 0, 1}, 0, y, 0);
            assertThat(y).containsExactly(4, 10);
            assertThat(w.data().isReadOnly()).isTrue();
            assertThat(g.matrix("v").rows()).isEqualTo(1);
            assertThat(g.matrix("flat").cols()).isEqualTo(2);
            assertThatThrownBy(() -> g.matrix("cube")).isInstanceOf(FormatException.class).hasMessageContaining("has dimensions [1, 1, 2], not a matrix");
        }
    }

    @Test
    void matrixRefusesATypeJumboCannotComputeWith() throws IOException {
        try (GgufFile g = written(new GgufWriter().addTensor("w", GgmlType.IQ2_XXS, new long[] {256, 2}, new byte[2 * 66]))) {
            assertThat(g.data(g.tensorInfo("w")).byteSize()).isEqualTo(132);
            assertThatThrownBy(() -> g.matrix("w")).isInstanceOf(FormatException.class)
                    .hasMessageContaining("tensor \"w\" is IQ2_XXS, a type Jumbo cannot compute with yet");
        }
    }

    @Test
    void tensorConvertsToF32WithTheShapeInPyTorchOrder() throws IOException {
        GgufWriter w = new GgufWriter()
                .addTensor("f32", GgmlType.F32, new long[] {3, 2}, f32(1, 2, 3, 4, 5, 6))
                .addTensor("f16", GgmlType.F16, new long[] {2}, u16(0x3C00, 0xC000))
                .addTensor("bf16", GgmlType.BF16, new long[] {1}, u16(0x3F80))
                .addTensor("i32", GgmlType.I32, new long[] {1}, new byte[] {-1, -1, -1, -1});
        try (GgufFile g = written(w)) {
            Tensor t = g.tensor("f32");
            assertThat(t.shape().toArray()).containsExactly(2, 3);
            assertThat(t.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(g.tensor("f16").toFloatArray()).containsExactly(1f, -2f);
            assertThat(g.tensor("bf16").toFloatArray()).containsExactly(1f);
            assertThat(g.tensor("i32").toFloatArray()).containsExactly(-1f);
        }
    }

    @Test
    void dataRefusesATensorOfAnotherFileAndReadsAfterCloseFail() throws IOException {
        GgufFile g = written(new GgufWriter().put("k", "v").addTensor("w", GgmlType.F32, new long[] {1}, f32(1)));
        GgufTensor t = g.tensorInfo("w");
        GgufTensor forged = new GgufTensor("w", GgmlType.F32, new long[] {1}, 0, 4);
        assertThatThrownBy(() -> g.data(forged)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a tensor of");
        MemorySegment data = g.data(t);
        g.close();
        g.close(); // twice is harmless
        assertThat(g.tensors()).hasSize(1); // the header stays
        assertThatThrownBy(() -> data.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> g.data(t)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> g.string("k")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> g.tensor("w")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void severalThreadsReadOneView() throws IOException {
        try (GgufFile g = Gguf.open(sharedData().resolve("llama2c/stories260K.gguf"))) {
            String[] expected = g.strings("tokenizer.ggml.tokens");
            List<CompletableFuture<Boolean>> readers = IntStream.range(0, 4).mapToObj(i -> CompletableFuture.supplyAsync(() -> {
                try {
                    for (int k = 0; k < 20; k++) {
                        if (!java.util.Arrays.equals(g.strings("tokenizer.ggml.tokens"), expected)) return false;
                        for (GgufTensor t : g.tensors()) g.data(t).get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
                    }
                    return true;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            })).toList();
            for (CompletableFuture<Boolean> r : readers) assertThat(r.join()).isTrue();
        }
    }
}
