package dev.jumbo.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import dev.jumbo.models.Bert;
import dev.jumbo.models.GenerationConfig;
import dev.jumbo.models.Generator;
import dev.jumbo.models.LanguageModel;
import dev.jumbo.models.TextEncoder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI Java SDK ({@code com.openai:openai-java}) pointed at a local jumbo serve,
 * with an API key on both sides, serving the bundled stories260K and all-MiniLM-L6-v2: what a
 * team's existing OpenAI code does, unchanged but for the base URL.
 */
class OpenAiSdkTest {
    private static final String KEY = "sk-jumbo-sdk-test";
    private static LocalServer local;
    private static OpenAIClient openai;
    private static LanguageModel reference;
    private static TextEncoder minilm;

    @BeforeAll
    static void start() throws IOException {
        local = LocalServer.start(KEY);
        minilm = TextEncoder.load(LocalServer.minilm());
        local.server.serve("minilm", TextEncoder.load(LocalServer.minilm()));
        openai = sdk(KEY);
        reference = LocalServer.bundled();
    }

    @AfterAll
    static void stop() throws Exception {
        openai.close();
        local.close();
        reference.close();
    }

    /** No retries: a refused request must show here, not be retried away. */
    private static OpenAIClient sdk(String apiKey) {
        return OpenAIOkHttpClient.builder().baseUrl(local.server.address() + "/v1").apiKey(apiKey)
                .maxRetries(0).responseValidation(true).timeout(Duration.ofSeconds(60)).build();
    }

    @Test
    void listsTheModels() {
        List<Model> models = openai.models().list().data();
        assertThat(models).extracting(Model::id).containsExactly("minilm", LocalServer.MODEL);
        assertThat(models.getFirst().ownedBy()).isEqualTo("jumbo");
        assertThat(models.getFirst().created()).isPositive();
    }

    @Test
    void completesAPrompt() {
        Completion c = openai.completions().create(CompletionCreateParams.builder().model(LocalServer.MODEL)
                .prompt("Once upon a time").maxTokens(40).temperature(0).build());
        String expected = Generator.generate(reference.model(), reference.tokenizer(), "Once upon a time", GenerationConfig.defaults().greedy(true)
                .maxNewTokens(40).bosTokenId(reference.bosFor("Once upon a time")).eosTokenId(reference.eos()), null).sequences().getFirst().text();
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().getFirst().text()).isEqualTo(expected).isNotEmpty();
        assertThat(c.choices().getFirst().finishReason().asString()).isIn("stop", "length");
        assertThat(c.model()).isEqualTo(LocalServer.MODEL);
        assertThat(c.usage().orElseThrow().completionTokens()).isBetween(1L, 40L);
    }

    @Test
    void chatsWithStreaming() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(LocalServer.MODEL)
                .addSystemMessage("You tell stories.").addUserMessage("Tell me a story.").maxCompletionTokens(40).temperature(0)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        StringBuilder text = new StringBuilder();
        List<String> finishReasons = new ArrayList<>();
        long completionTokens = -1;
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(text::append);
                    choice.finishReason().ifPresent(f -> finishReasons.add(f.asString()));
                }
                if (chunk.usage().isPresent()) completionTokens = chunk.usage().get().completionTokens();
            }
        }
        assertThat(text.toString()).isNotBlank();
        assertThat(chunks).isGreaterThan(3);
        assertThat(finishReasons).singleElement().isIn("stop", "length");
        // the deltas add up to the reply the same request gets whole
        ChatCompletion whole = openai.chat().completions().create(params.toBuilder().streamOptions((ChatCompletionStreamOptions) null).build());
        assertThat(whole.choices().getFirst().message().content()).hasValue(text.toString());
        assertThat(completionTokens).isEqualTo(whole.usage().orElseThrow().completionTokens()).isPositive();
    }

    /** The SDK asks for base64 unless told otherwise (and decodes it); both forms must give the encoder's vectors. */
    @Test
    void embedsTexts() {
        List<String> texts = List.of("A man is eating food.", "An ankle boot");
        float[][] expected = minilm.embed(minilm.encode(texts), Bert.Pooling.MEAN, true);
        EmbeddingCreateParams base64 = EmbeddingCreateParams.builder().model("minilm").inputOfArrayOfStrings(texts).build();
        EmbeddingCreateParams floats = base64.toBuilder().encodingFormat(EmbeddingCreateParams.EncodingFormat.FLOAT).build();
        for (EmbeddingCreateParams params : List.of(base64, floats)) {
            CreateEmbeddingResponse r = openai.embeddings().create(params);
            assertThat(r.model()).isEqualTo("minilm");
            assertThat(r.data()).hasSize(2);
            assertThat(r.data().getFirst().embeddingValue().isBase64()).as("sent as base64").isEqualTo(params == base64);
            for (int i = 0; i < 2; i++) {
                assertThat(r.data().get(i).index()).isEqualTo(i);
                List<Float> v = r.data().get(i).embedding();
                assertThat(v).hasSize(384);
                for (int j = 0; j < v.size(); j++) assertThat(v.get(j)).as("text %d, dimension %d", i, j).isCloseTo(expected[i][j], within(1e-6f));
            }
            assertThat(r.usage().promptTokens()).isPositive().isEqualTo(r.usage().totalTokens());
        }
    }

    @Test
    void refusalsAreTheSdksExceptions() {
        assertThatThrownBy(() -> openai.completions().create(CompletionCreateParams.builder().model("no-such-model").prompt("Hi").build()))
                .isInstanceOf(NotFoundException.class).hasMessageContaining("no-such-model");
        OpenAIClient wrongKey = sdk("sk-wrong"); // the SDK's client is not AutoCloseable
        try {
            assertThatThrownBy(() -> wrongKey.models().list()).isInstanceOf(UnauthorizedException.class);
        } finally {
            wrongKey.close();
        }
    }
}
