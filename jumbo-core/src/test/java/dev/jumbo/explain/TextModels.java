package dev.jumbo.explain;

import dev.jumbo.models.Bert;
import dev.jumbo.models.BertConfig;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.Gpt2Config;
import dev.jumbo.nn.Parameter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small random text models for the token-attribution tests, and independent references for their scores. */
final class TextModels {
    private TextModels() {}

    /** bert-tiny's special ids (its vocabulary of 50 has no strings): [PAD] 0, [CLS] 1, [SEP] 2, [MASK] 3. */
    static final TextModel.BertTokens BERT_TOKENS = new TextModel.BertTokens(1, 2, 0, 3);

    /** The shape of the bert-tiny fixture (vocabulary 50, hidden 32, 2 layers, 4 heads). */
    static BertConfig bertTinyConfig() throws Exception {
        return BertConfig.read(Path.of(TextModels.class.getResource("/bert-tiny/config.json").toURI()));
    }

    /** A random-weight BERT of bert-tiny's shape with the masked-LM head; weights normal with the given spread, norms at 1 and 0. */
    static Bert bertMlm(long seed) throws Exception {
        Bert bert = new Bert(bertTinyConfig(), false, true);
        randomize(bert.parameters(), seed, 0.3);
        return bert;
    }

    /** A random GPT-2 (vocabulary 40, 12 positions, width 16, 2 layers of 2 heads); embeddings of GPT-2's scale relative to the width. */
    static Gpt2 gpt2(long seed) {
        Gpt2 gpt2 = new Gpt2(new Gpt2Config(40, 12, 16, 2, 2, 1e-5));
        randomize(gpt2.parameters(), seed, 0.3);
        return gpt2;
    }

    /**
     * Every matrix and embedding normal(0, spread), biases normal(0, spread / 3); layer norms' gamma
     * 1 + normal(0, 0.1) and beta normal(0, 0.1), so no part of the network is left at a neutral start.
     */
    static void randomize(List<Parameter> parameters, long seed, double spread) {
        Random r = new Random(seed);
        for (Parameter p : parameters) {
            float[] v = p.value().buffer();
            String name = p.name();
            boolean gamma = name.endsWith("gamma"), norm = gamma || name.endsWith("beta");
            for (int i = 0; i < v.length; i++) {
                double g = r.nextGaussian();
                v[i] = (float) (norm ? (gamma ? 1 : 0) + 0.1 * g : p.value().rank() == 1 ? spread / 3 * g : spread * g);
            }
        }
    }

    /** Token strings for ids of a model without a vocabulary: {@code "#id"}. */
    static List<String> names(int[] ids) {
        List<String> out = new ArrayList<>();
        for (int id : ids) out.add("#" + id);
        return out;
    }

    /** Log-softmax in double precision. */
    static double[] logSoftmax(float[] logits, int from, int n) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[from + i]);
        for (int i = 0; i < n; i++) sum += Math.exp(logits[from + i] - max);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = logits[from + i] - max - Math.log(sum);
        return out;
    }

    /** The project's shared data folder ({@code ../shared/data} beside the checkout), found from the working directory up. */
    static Path sharedData() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared").resolve("data");
            if (Files.isDirectory(candidate.resolve("gguf"))) return candidate;
        }
        throw new IllegalStateException("shared/data (with gguf/) not found beside the checkout or above " + Path.of("").toAbsolutePath());
    }
}
