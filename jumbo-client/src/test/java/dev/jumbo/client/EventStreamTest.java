package dev.jumbo.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event-stream reader on bytes written as other OpenAI-compatible servers write them. */
class EventStreamTest {
    private static EventStream events(String text) {
        return new EventStream(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), 200);
    }

    private static List<String> payloads(String text) {
        List<String> out = new ArrayList<>();
        events(text).forEachRemaining(n -> out.add(n.toString()));
        return out;
    }

    @Test
    void readsDataUntilDoneSkippingCommentsAndOtherFields() {
        String text = ": keep-alive\n\nevent: chunk\ndata: {\"a\":1}\n\nid: 7\ndata:{\"b\":2}\r\n\r\ndata: {\"c\":\ndata: 3}\n\ndata: [DONE]\n\ndata: {\"after\":0}\n\n";
        assertThat(payloads(text)).containsExactly("{\"a\":1}", "{\"b\":2}", "{\"c\":3}");
    }

    @Test
    void aStreamCutBeforeDoneIsAnIoFailure() {
        EventStream e = events("data: {\"a\":1}\n\ndata: {\"b\"");
        assertThat(e.next().toString()).isEqualTo("{\"a\":1}");
        assertThatThrownBy(e::hasNext).isInstanceOf(UncheckedIOException.class).hasMessageContaining("[DONE]");
    }

    @Test
    void anErrorEventIsAnApiException() {
        EventStream e = events("data: {\"a\":1}\n\ndata: {\"error\":{\"message\":\"stopped\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
        e.next();
        assertThatThrownBy(e::hasNext).isInstanceOfSatisfying(JumboApiException.class, x -> {
            assertThat(x.type()).isEqualTo("server_error");
            assertThat(x.serverMessage()).isEqualTo("stopped");
            assertThat(x.code()).isNull();
        });
    }
}
