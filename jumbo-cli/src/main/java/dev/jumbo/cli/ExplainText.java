package dev.jumbo.cli;

import dev.jumbo.explain.AttentionMaps;
import dev.jumbo.explain.AttentionRollout;
import dev.jumbo.explain.Explanation;
import dev.jumbo.explain.KernelShap;
import dev.jumbo.explain.Lime;
import dev.jumbo.explain.TextModel;
import dev.jumbo.explain.TokenAttributions;
import dev.jumbo.explain.TokenGame;
import dev.jumbo.models.Bert;
import dev.jumbo.models.Gpt2;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.Llama;
import dev.jumbo.models.LlamaGraph;
import dev.jumbo.models.TextEncoder;
import dev.jumbo.text.Tokenizer;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code jumbo explain} for text models: a causal LM (GPT-2 folder or GGUF, Llama GGUF, folder or
 * llama2.c checkpoint) explained by its next token after the text, a BERT with its masked-LM head by
 * the token at the text's {@code [MASK]}, a BERT sentence encoder by the similarity of the text to
 * {@code --reference}. Integrated Gradients runs on the token embeddings; LIME and KernelSHAP take
 * tokens away (replaced by {@code [MASK]}, or for a causal LM its end-of-text or unknown token, or in a
 * character vocabulary a space);
 * attention is the rollout of the attention maps from the position the prediction is read at.
 */
final class ExplainText {
    private ExplainText() {}

    /** A loaded text model: the explanation's view, and what attention maps are taken from. */
    private record Loaded(TextModel model, Tokenizer tokenizer, Object network, AutoCloseable resources) {}

    static int run(ExplainCommand c, List<String> methods) throws Exception {
        for (String m : methods)
            if (!ExplainCommand.TEXT_METHODS.contains(m))
                throw new IllegalArgumentException(ExplainCommand.CLASSIFIER_METHODS.contains(m)
                        ? m + " explains classifiers (a jumbo train folder); " + c.model + " is a text model: use one of " + String.join(", ", ExplainCommand.TEXT_METHODS)
                        : "unknown method '" + m + "' for a text model: use one of " + String.join(", ", ExplainCommand.TEXT_METHODS));
        PrintWriter w = c.spec.commandLine().getOut();
        Loaded loaded = load(c);
        try {
            TextModel tm = loaded.model();
            int target = c.target == null ? tm.defaultTarget() : target(c.target, loaded.tokenizer(), tm.score().outputs());
            float[] out = tm.outputs();
            w.println("tokens: " + tm.tokens());
            w.println(switch (tm.kind()) {
                case CAUSAL_LM -> "next token: " + topTokens(out, loaded.tokenizer(), 3) + " (log-probabilities)";
                case MASKED_LM -> "[MASK]: " + topTokens(out, loaded.tokenizer(), 3) + " (log-probabilities)";
                case SIMILARITY -> String.format(Locale.ROOT, "cosine similarity to the reference: %.4f", out[0]);
            });
            if (tm.kind() != TextModel.Kind.SIMILARITY) w.println("explaining token " + describe(target, loaded.tokenizer()));
            List<Explanation> done = new ArrayList<>();
            for (String m : methods) {
                long start = System.nanoTime();
                Explanation e = explain(c, m, loaded, target);
                done.add(e);
                w.printf(Locale.ROOT, "%s: %s (%.2f s)%n", m, summary(e, tm.tokens()), (System.nanoTime() - start) / 1e9);
            }
            if (c.out != null) {
                ExplainPictures.writeText(c.out, c.model.toString(), c.input, tm.tokens(), out, done, loaded.tokenizer());
                w.println("wrote " + c.out);
            }
            if (c.json)
                for (Explanation e : done) {
                    Map<String, Object> o = ExplainCommand.json(e, null, null);
                    o.put("tokens", tm.tokens());
                    w.println(JsonOutput.line(o));
                }
            return 0;
        } finally {
            if (loaded.resources() != null) loaded.resources().close();
        }
    }

    private static Explanation explain(ExplainCommand c, String method, Loaded loaded, int target) {
        TextModel tm = loaded.model();
        return switch (method) {
            case "ig" -> TokenAttributions.integratedGradients(tm, target, c.integratedGradients()).explanation();
            case "lime", "shap" -> {
                TokenGame game = new TokenGame(tm, target, absentId(tm, loaded.tokenizer()), dev.jumbo.explain.Gradients.DEFAULT_CHUNK);
                if (game.features() == 0) throw new IllegalArgumentException("the text has no tokens to take away (only special ones)");
                Explanation perToken = method.equals("lime")
                        ? Lime.coalitions(game, c.samples > 0 ? c.samples : 5000, c.kernelWidth > 0 ? c.kernelWidth : 25, 100, c.seed)
                        : KernelShap.explain(game, c.samples, c.seed);
                yield onTokens(perToken, game.positions(), tm.length());
            }
            case "attention" -> {
                AttentionMaps maps = switch (loaded.network()) {
                    case Gpt2 g -> AttentionMaps.of(g, tm.ids(), tm.tokens());
                    case Bert b -> AttentionMaps.of(b, tm.ids(), tm.tokens());
                    case LlamaGraph l -> AttentionMaps.of(l, tm.ids(), tm.tokens());
                    default -> throw new IllegalStateException("no attention maps for " + loaded.network());
                };
                int query = c.position >= 0 ? c.position : maps.causal() ? tm.length() - 1 : 0;
                if (query >= tm.length()) throw new IllegalArgumentException("--position " + query + " is outside the text's " + tm.length() + " tokens");
                yield AttentionRollout.explain(maps, query, tm.outputs(), target);
            }
            default -> throw new IllegalArgumentException("unknown method '" + method + "'");
        };
    }

    /** Per-feature values spread back onto every token of the text, 0 on the special tokens that were no feature. */
    private static Explanation onTokens(Explanation perToken, int[] positions, int length) {
        float[] a = new float[length];
        for (int i = 0; i < positions.length; i++) a[positions[i]] = perToken.attributions()[i];
        return new Explanation(perToken.method(), perToken.target(), perToken.prediction(), dev.jumbo.tensor.Shape.of(length), a,
                perToken.completenessGap(), perToken.details());
    }

    /** The id standing for a removed token: [MASK] for BERT, else end-of-text, unknown or padding, whichever the vocabulary has. */
    private static int absentId(TextModel tm, Tokenizer tokenizer) {
        if (tm.maskId() >= 0) return tm.maskId();
        for (String s : List.of("<|endoftext|>", "<unk>", "[UNK]", "<pad>"))
            if (tokenizer.id(s) >= 0) return tokenizer.id(s);
        // a character vocabulary (train-lm's default) has no special token: a space blanks a character out
        int[] space = tokenizer.encode(" ");
        if (space.length == 1) return space[0];
        throw new IllegalArgumentException("the vocabulary has no mask, end-of-text, unknown or padding token, nor a space, to stand for a removed token");
    }

    private static Loaded load(ExplainCommand c) throws Exception {
        String text = c.input;
        if (TextEncoder.isEncoder(c.model)) {
            TextEncoder enc = TextEncoder.load(c.model);
            Bert bert = enc.bert();
            checkLength(enc.tokenizer().encodeWithSpecialTokens(text).length, enc.maxTokens());
            if (text.contains("[MASK]")) {
                if (!bert.hasMlmHead())
                    throw new IllegalArgumentException(c.model + " has no masked-LM head (cls.predictions.*): take [MASK] out of the text and give --reference TEXT to explain its similarity");
                return new Loaded(TextModel.maskedLm(bert, enc.tokenizer(), text), enc.tokenizer(), bert, null);
            }
            if (c.reference == null)
                throw new IllegalArgumentException("a BERT model explains either the token at a [MASK] in the text (with its masked-LM head) or the similarity to --reference TEXT: give one");
            return new Loaded(TextModel.similarity(bert, enc.tokenizer(), text, c.reference), enc.tokenizer(), bert, null);
        }
        if (c.reference != null) throw new IllegalArgumentException("--reference is for BERT sentence encoders; " + c.model + " is a causal language model");
        LanguageModel lm = LanguageModel.load(c.model, null, 0, c.spec.commandLine().getErr());
        try {
            Tokenizer tok = lm.tokenizer();
            int[] encoded = tok.encode(text);
            int bos = lm.bosFor(text);
            int[] ids = bos < 0 ? encoded : prepend(bos, encoded);
            if (ids.length == 0) throw new IllegalArgumentException("--input is empty: give the text whose next token to explain");
            checkLength(ids.length, lm.model().contextLength());
            List<String> tokens = TextModel.tokenStrings(tok, ids);
            int absent = tok.id("<|endoftext|>") >= 0 ? tok.id("<|endoftext|>") : tok.id("<unk>");
            return switch (lm.model()) {
                case Gpt2 g -> new Loaded(TextModel.gpt2(g, ids, tokens, absent), tok, g, lm);
                case Llama l -> {
                    LlamaGraph graph = LlamaGraph.of(l);
                    if (bos >= 0 && tokens.getFirst().isEmpty()) {
                        tokens = new ArrayList<>(tokens);
                        tokens.set(0, "<s>");
                    }
                    TextModel tm = TextModel.causalLm(graph::embed, graph::forwardEmbeddings, graph.parameters(), ids, tokens, absent);
                    yield new Loaded(absent >= 0 ? tm.withBaseline(tm.embed(unknownsAfterBos(ids, bos, absent))) : tm, tok, graph, lm);
                }
                default -> throw new IllegalArgumentException(c.model + " is a " + lm.model().getClass().getSimpleName() + ", which explain does not cover");
            };
        } catch (Exception | Error e) {
            lm.close();
            throw e;
        }
    }

    /**
     * Llama's baseline: BOS kept, every other token {@code <unk>}. Zero embeddings, GPT-2's baseline,
     * do not work for Llama: with no position embedding added, the path from zero passes through
     * RMSNorm's 0/0, where the model jumps from its baseline output to nearly its full output within
     * a few thousandths of the path, which no quadrature samples (800 Gauss-Legendre steps on
     * stories260K left a gap of twice f(x) - f(0)).
     */
    private static int[] unknownsAfterBos(int[] ids, int bos, int unknown) {
        int[] b = new int[ids.length];
        java.util.Arrays.fill(b, unknown);
        if (bos >= 0 && ids[0] == bos) b[0] = bos;
        return b;
    }

    private static void checkLength(int tokens, int most) {
        if (tokens > most) throw new IllegalArgumentException("the text is " + tokens + " tokens; the model reads at most " + most);
    }

    private static int[] prepend(int first, int[] rest) {
        int[] ids = new int[rest.length + 1];
        ids[0] = first;
        System.arraycopy(rest, 0, ids, 1, rest.length);
        return ids;
    }

    /** {@code --target} for a text model: a token of the vocabulary (as the tokenizer spells it, or as text of one token) or {@code id:N}. */
    private static int target(String target, Tokenizer tokenizer, int outputs) {
        int id;
        if (target.startsWith("id:") && target.substring(3).matches("\\d+")) id = Integer.parseInt(target.substring(3));
        else if (tokenizer.id(target) >= 0) id = tokenizer.id(target);
        else {
            int[] ids = tokenizer.encode(target);
            if (ids.length != 1)
                throw new IllegalArgumentException("--target '" + target + "' is " + ids.length + " tokens " + Arrays.toString(ids) + ", not one: give one token, or its id as id:N");
            id = ids[0];
        }
        if (outputs == 1) throw new IllegalArgumentException("--target names a token, but a similarity has one output: leave --target out");
        if (id >= outputs) throw new IllegalArgumentException("token id " + id + " does not exist: the vocabulary has " + outputs + " tokens (0 to " + (outputs - 1) + ")");
        return id;
    }

    private static String describe(int id, Tokenizer tokenizer) {
        return "'" + tokenizer.decode(new int[] {id}) + "' (id " + id + ")";
    }

    private static String topTokens(float[] logProbs, Tokenizer tokenizer, int n) {
        Integer[] order = new Integer[logProbs.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(logProbs[b], logProbs[a]));
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(n, order.length); i++)
            s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f", describe(order[i], tokenizer), logProbs[order[i]]));
        return s.toString();
    }

    private static String summary(Explanation e, List<String> tokens) {
        StringBuilder s = new StringBuilder();
        if (!Double.isNaN(e.completenessGap())) s.append(String.format(Locale.ROOT, "completeness gap %.3g, ", e.completenessGap()));
        Map<String, Double> d = new LinkedHashMap<>(e.details());
        d.forEach((k, v) -> s.append(k).append(' ').append(ExplainCommand.figure(v)).append(", "));
        s.append("tokens:");
        for (int i = 0; i < tokens.size(); i++) s.append(String.format(Locale.ROOT, " %s %+.3g", tokens.get(i).strip(), e.attributions()[i]));
        return s.toString();
    }
}
