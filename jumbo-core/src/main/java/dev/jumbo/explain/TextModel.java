package dev.jumbo.explain;

import dev.jumbo.models.Bert;
import dev.jumbo.models.Gpt2;
import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.GradMode;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.text.Tokenizer;
import dev.jumbo.text.WordPiece;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A text model explained token by token: one text's token ids and strings, the embeddings of
 * those tokens that Integrated Gradients varies ({@code [t, d]}: for GPT-2 the token embeddings
 * before positions are added, for BERT the word embeddings before positions, token types and the
 * embedding norm), a baseline of the same shape, and a {@link #score} function from a batch of
 * such embeddings {@code [n, t, d]} to the explained outputs {@code [n, outputs]}. What the outputs
 * are depends on the kind of model:
 *
 * <ul>
 *   <li>a causal LM ({@link #gpt2}, or any model offering {@link #causalLm its embedding-level
 *       forward}): the log-softmax of the next-token logits at the last position, one output per
 *       vocabulary entry; the default target is the model's most likely next token;</li>
 *   <li>BERT with its masked-LM head ({@link #maskedLm}): the log-softmax of the logits at the
 *       {@code [MASK]} position; the default target is the most likely token there;</li>
 *   <li>BERT without a head, a sentence encoder ({@link #similarity}): one output, the cosine
 *       similarity of the text's mean-pooled last hidden state to a reference text's.</li>
 * </ul>
 *
 * <p>Baselines. BERT's is Captum's choice in its BERT tutorial: each ordinary token's embedding
 * replaced by {@code [PAD]}'s, while {@code [CLS]}, {@code [SEP]} and {@code [MASK]} keep their own,
 * so the baseline is still a well-formed input of the same length and only the words are taken
 * away (those kept tokens then get no attribution, as {@code x - b} is 0 there). GPT-2 has no
 * padding or unknown token (HuggingFace pads with {@code <|endoftext|>}, a real token that marks
 * a document boundary), so its baseline is zero token embeddings: no token's identity, while the
 * position embeddings added inside the model stay. {@link #withBaseline} sets another.
 *
 * <pre>{@code
 * WordPiece wp = WordPiece.load(dir);
 * TextModel m = TextModel.maskedLm(Bert.load(dir), wp, "Paris is the [MASK] of France.");
 * TokenAttributions a = TokenAttributions.integratedGradients(m, m.defaultTarget(), IntegratedGradients.defaults());
 * }</pre>
 *
 * <p>The factories put the model in inference mode, which is what is explained (as
 * {@link ModelFunction#of} does); the model's weights are not changed.
 *
 * <p>A model that offers {@code Tensor embed(int[] ids)} ({@code [1, t, d]}) and
 * {@code Tensor forwardEmbeddings(Tensor x)} (logits {@code [b, t, vocab]}) is a causal LM here in one line:
 * {@code TextModel.causalLm(m::embed, m::forwardEmbeddings, List.of(), ids, tokens, -1)}.
 */
public final class TextModel {

    /** What the outputs of a text model are. */
    public enum Kind {
        /** Log-probabilities of the next token after the text. */
        CAUSAL_LM,
        /** Log-probabilities of the token at the text's [MASK]. */
        MASKED_LM,
        /** Cosine similarity of the text's mean-pooled embedding to a reference text's. */
        SIMILARITY
    }

    /**
     * The ids of BERT's special tokens; {@code pad} or {@code mask} may be -1 when the vocabulary has none.
     */
    public record BertTokens(int cls, int sep, int pad, int mask) {
        /** The ids of {@code [CLS]}, {@code [SEP]}, {@code [PAD]} and {@code [MASK]} in a tokenizer's vocabulary. */
        public static BertTokens of(Tokenizer tokenizer) {
            return new BertTokens(tokenizer.id("[CLS]"), tokenizer.id("[SEP]"), tokenizer.id("[PAD]"), tokenizer.id("[MASK]"));
        }

        boolean isSpecial(int id) {
            return id == cls || id == sep || id == pad || id == mask;
        }
    }

    private final Kind kind;
    private final int[] ids;
    private final List<String> tokens;
    private final int dim;
    private final Function<int[], float[]> embedder;
    private final ModelFunction score;
    private final float[] embeddings;
    private final float[] baseline;
    private final boolean[] feature;
    private final int maskId;
    private final float[] outputs;

    private TextModel(Kind kind, int[] ids, List<String> tokens, int dim, Function<int[], float[]> embedder, ModelFunction score,
                      float[] baseline, boolean[] feature, int maskId) {
        if (ids.length == 0) throw new IllegalArgumentException("a text model needs at least one token");
        if (tokens.size() != ids.length)
            throw new IllegalArgumentException(tokens.size() + " token strings for " + ids.length + " token ids");
        this.kind = kind;
        this.ids = ids.clone();
        this.tokens = List.copyOf(tokens);
        this.dim = dim;
        this.embedder = embedder;
        this.score = score;
        this.embeddings = embedder.apply(this.ids);
        this.baseline = baseline != null ? baseline : new float[embeddings.length];
        if (this.baseline.length != embeddings.length)
            throw new IllegalArgumentException("a baseline of " + this.baseline.length + " values for " + ids.length + " tokens of " + dim + " (" + embeddings.length + ")");
        this.feature = feature;
        this.maskId = maskId;
        this.outputs = Gradients.outputs(score, embeddings, 1, 1);
    }

    /**
     * A GPT-2 explained by its next token after {@code ids}; {@code absentId} stands for a removed
     * token in a {@link TokenGame} ({@code <|endoftext|>}'s id, or -1 to make callers choose).
     */
    public static TextModel gpt2(Gpt2 model, int[] ids, List<String> tokens, int absentId) {
        model.train(false);
        return causalLm(model::embed, model::forwardEmbeddings, model.parameters(), ids, tokens, absentId);
    }

    /** A GPT-2 explained by its next token after {@code text}; an absent token is {@code <|endoftext|>} if the vocabulary has it. */
    public static TextModel gpt2(Gpt2 model, Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text);
        return gpt2(model, ids, tokenStrings(tokenizer, ids), tokenizer.id("<|endoftext|>"));
    }

    /**
     * Any causal LM seen through its token embeddings: {@code embed} gives {@code [1, t, d]} for ids,
     * {@code forwardEmbeddings} logits {@code [b, t, vocab]} for embeddings {@code [b, t, d]}, recorded for
     * gradients; {@code parameters} are the weights gradient methods switch off meanwhile. The outputs
     * are the log-softmax of the last position's logits; the baseline is zero embeddings; every token
     * is a feature.
     */
    public static TextModel causalLm(Function<int[], Tensor> embed, UnaryOperator<Tensor> forwardEmbeddings, List<Parameter> parameters,
                                     int[] ids, List<String> tokens, int absentId) {
        if (ids.length == 0) throw new IllegalArgumentException("a text model needs at least one token");
        int t = ids.length;
        Tensor probe;
        try (var scope = GradMode.noGrad()) {
            probe = embed.apply(ids);
        }
        if (probe.rank() != 3 || probe.dim(0) != 1 || probe.dim(1) != t)
            throw new IllegalArgumentException("embed gave " + probe.shape() + " for " + t + " tokens, not [1, " + t + ", d]");
        int d = probe.dim(2);
        int vocab;
        try (var scope = GradMode.noGrad()) {
            vocab = forwardEmbeddings.apply(probe).dim(2);
        }
        ModelFunction score = new Scores(Shape.of(t, d), vocab, parameters,
                x -> forwardEmbeddings.apply(x).slice(1, t - 1, t).reshape(x.dim(0), vocab).logSoftmax());
        boolean[] feature = new boolean[t];
        Arrays.fill(feature, true);
        return new TextModel(Kind.CAUSAL_LM, ids, tokens, d, embedder(embed), score, null, feature, absentId);
    }

    /**
     * A BERT with its masked-LM head explained by the token it predicts at the {@code [MASK]} in
     * {@code ids} (which must hold exactly one).
     *
     * @throws IllegalArgumentException if the ids hold no [MASK] or several, or the model has no head
     */
    public static TextModel maskedLm(Bert model, int[] ids, List<String> tokens, BertTokens special) {
        int position = -1, count = 0;
        for (int i = 0; i < ids.length; i++)
            if (ids[i] == special.mask()) {
                position = i;
                count++;
            }
        if (special.mask() < 0 || count != 1)
            throw new IllegalArgumentException("a masked-LM explanation needs exactly one [MASK] token (id " + special.mask() + ") in the text, found " + count);
        return maskedLm(model, ids, tokens, special, position);
    }

    /** A BERT with its masked-LM head explained by the token it predicts at {@code position} of {@code ids}. */
    public static TextModel maskedLm(Bert model, int[] ids, List<String> tokens, BertTokens special, int position) {
        if (!model.hasMlmHead())
            throw new IllegalArgumentException("this BERT has no masked-LM head (cls.predictions.*): explain it by similarity to a reference text instead");
        if (position < 0 || position >= ids.length)
            throw new IllegalArgumentException("position " + position + " is outside the text's " + ids.length + " tokens");
        model.train(false);
        int t = ids.length, d = model.config().hiddenSize(), vocab = model.config().vocabSize();
        ModelFunction score = new Scores(Shape.of(t, d), vocab, model.parameters(),
                x -> model.maskedLmLogits(model.forwardEmbeddings(x)).slice(1, position, position + 1).reshape(x.dim(0), vocab).logSoftmax());
        return bert(Kind.MASKED_LM, model, ids, tokens, special, score);
    }

    /** {@link #maskedLm(Bert, int[], List, BertTokens)} of {@code text} with {@code [CLS]} and {@code [SEP]} around it. */
    public static TextModel maskedLm(Bert model, WordPiece tokenizer, String text) {
        int[] ids = tokenizer.encodeWithSpecialTokens(text);
        return maskedLm(model, ids, tokenizer.tokens(ids), BertTokens.of(tokenizer));
    }

    /**
     * A BERT sentence encoder explained by one output: the cosine similarity of the mean-pooled last
     * hidden state of {@code ids} (all tokens, [CLS] and [SEP] included, as sentence-transformers pools)
     * to that of {@code referenceIds}. Which words make the text close to (or far from) the reference.
     */
    public static TextModel similarity(Bert model, int[] ids, List<String> tokens, BertTokens special, int[] referenceIds) {
        model.train(false);
        float[] reference = model.embed(new int[][] {referenceIds}, true)[0];
        int t = ids.length, d = model.config().hiddenSize();
        Tensor r = Tensor.of(reference, d, 1);
        ModelFunction score = new Scores(Shape.of(t, d), 1, model.parameters(), x -> {
            Tensor pooled = model.forwardEmbeddings(x).mean(1, false);                 // [n, d]
            Tensor norm = pooled.square().sum(1, true).sqrt().add(1e-12f);             // [n, 1]
            return pooled.matmul(r).div(norm);                                         // r has norm 1
        });
        return bert(Kind.SIMILARITY, model, ids, tokens, special, score);
    }

    /** {@link #similarity(Bert, int[], List, BertTokens, int[])} of two texts, each with [CLS] and [SEP] around it. */
    public static TextModel similarity(Bert model, WordPiece tokenizer, String text, String reference) {
        int[] ids = tokenizer.encodeWithSpecialTokens(text);
        return similarity(model, ids, tokenizer.tokens(ids), BertTokens.of(tokenizer), tokenizer.encodeWithSpecialTokens(reference));
    }

    private static TextModel bert(Kind kind, Bert model, int[] ids, List<String> tokens, BertTokens special, ModelFunction score) {
        if (special.pad() < 0) throw new IllegalArgumentException("the vocabulary has no [PAD] token for BERT's baseline");
        int t = ids.length;
        int[] baselineIds = new int[t];
        boolean[] feature = new boolean[t];
        for (int i = 0; i < t; i++) {
            feature[i] = !special.isSpecial(ids[i]);
            baselineIds[i] = feature[i] ? special.pad() : ids[i];
        }
        Function<int[], float[]> embedder = embedder(model::wordEmbeddings);
        return new TextModel(kind, ids, tokens, model.config().hiddenSize(), embedder, score, embedder.apply(baselineIds), feature, special.mask());
    }

    private static Function<int[], float[]> embedder(Function<int[], Tensor> embed) {
        return ids -> {
            try (var scope = GradMode.noGrad()) {
                return embed.apply(ids).toFloatArray();
            }
        };
    }

    /** The token strings of {@code ids}: WordPiece's pieces as spelled ({@code ##ing}), others each id decoded alone. */
    public static List<String> tokenStrings(Tokenizer tokenizer, int[] ids) {
        if (tokenizer instanceof WordPiece wp) return wp.tokens(ids);
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) out.add(tokenizer.decode(new int[] {id}));
        return out;
    }

    /** The same text and model against another baseline ({@code [t, d]} row-major). */
    public TextModel withBaseline(float[] newBaseline) {
        return new TextModel(kind, ids, tokens, dim, embedder, score, newBaseline.clone(), feature, maskId);
    }

    public Kind kind() {
        return kind;
    }

    /** The text's token ids. */
    public int[] ids() {
        return ids.clone();
    }

    /** The text's tokens as strings, one per id. */
    public List<String> tokens() {
        return tokens;
    }

    /** The number of tokens {@code t}. */
    public int length() {
        return ids.length;
    }

    /** The embedding width {@code d}. */
    public int dim() {
        return dim;
    }

    /** The text's embeddings {@code [t, d]} row-major: the input of {@link #score}. */
    public float[] embeddings() {
        return embeddings.clone();
    }

    /** The embeddings {@code [t, d]} of other ids of the same length (for texts with tokens replaced). */
    public float[] embed(int[] otherIds) {
        if (otherIds.length != ids.length)
            throw new IllegalArgumentException(otherIds.length + " ids where the text has " + ids.length + " tokens");
        return embedder.apply(otherIds);
    }

    /** The baseline {@code [t, d]} row-major that Integrated Gradients starts from. */
    public float[] baseline() {
        return baseline.clone();
    }

    /** The explained outputs of embeddings {@code [n, t, d]}: {@code [n, outputs]}, differentiable. */
    public ModelFunction score() {
        return score;
    }

    /** The text's own outputs (every index). */
    public float[] outputs() {
        return outputs.clone();
    }

    /** The output explained unless the caller picks one: the most likely token for the LMs, the similarity's only output. */
    public int defaultTarget() {
        int best = 0;
        for (int i = 1; i < outputs.length; i++) if (outputs[i] > outputs[best]) best = i;
        return best;
    }

    /** Whether the token at {@code position} is a feature a {@link TokenGame} may remove (special tokens are not). */
    public boolean isFeature(int position) {
        return feature[position];
    }

    /** The id that stands for a removed token: BERT's [MASK], a causal LM's chosen id; -1 if there is none. */
    public int maskId() {
        return maskId;
    }

    /** A score function over a fixed input shape. */
    private record Scores(Shape inputShape, int outputs, List<Parameter> parameters, UnaryOperator<Tensor> function) implements ModelFunction {
        @Override
        public Tensor apply(Tensor batch) {
            return function.apply(batch);
        }
    }
}
