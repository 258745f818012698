package dev.jumbo.federated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FloatChunksTest {
    @Test
    void splitAndReassembleAnyLengthAtAnyChunkSize() {
        Random r = new Random(11);
        for (int trial = 0; trial < 30; trial++) {
            float[] v = new float[r.nextInt(5000)];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            int chunkBytes = 4 + r.nextInt(3000);
            List<ByteString> chunks = FloatChunks.split(v, chunkBytes);
            assertThat(chunks).hasSize(FloatChunks.chunkCount(v.length, chunkBytes));
            // naive reference: the little-endian bytes of each float, in order
            ByteBuffer naive = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) naive.putFloat(f);
            assertThat(chunks.stream().reduce(ByteString.EMPTY, ByteString::concat).toByteArray()).isEqualTo(naive.array());
            for (ByteString c : chunks) assertThat(c.size()).isLessThanOrEqualTo(chunkBytes);
            var a = new FloatChunks.Assembly(v.length);
            for (ByteString c : chunks) assertThat(a.add(c)).isNull();
            assertThat(a.finish()).containsExactly(v);
        }
    }

    @Test
    void reassemblesChunksCutBetweenTheBytesOfAFloat() {
        float[] v = {1.5f, -2f, 3.25f};
        ByteString all = FloatChunks.split(v, 1024).getFirst();
        var a = new FloatChunks.Assembly(3);
        assertThat(a.add(all.substring(0, 3))).isNull();
        assertThat(a.add(all.substring(3, 7))).isNull();
        assertThat(a.add(all.substring(7))).isNull();
        assertThat(a.finish()).containsExactly(v);
    }

    @Test
    void refusesMoreBytesThanAnnouncedAndFewer() {
        var over = new FloatChunks.Assembly(2);
        assertThat(over.add(FloatChunks.split(new float[3], 1024).getFirst())).startsWith("oversized");
        var under = new FloatChunks.Assembly(2);
        assertThat(under.add(FloatChunks.split(new float[1], 1024).getFirst())).isNull();
        assertThatThrownBy(under::finish).hasMessageContaining("wrong size").hasMessageContaining("expected 8");
    }
}
