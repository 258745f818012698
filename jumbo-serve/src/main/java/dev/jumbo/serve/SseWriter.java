package dev.jumbo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.webserver.http.ServerResponse;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A {@code text/event-stream} response written as OpenAI writes it: {@code data: <json>} events
 * and {@code data: [DONE]} at the end. Written by hand rather than through
 * Helidon's SSE sink, which exists only when the request's {@code Accept} names
 * {@code text/event-stream}, and OpenAI's SDKs ask for {@code application/json}.
 */
final class SseWriter {
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII), END = "\n\n".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectWriter JSON = JsonRequest.MAPPER.writer().without(JsonGenerator.Feature.AUTO_CLOSE_TARGET);

    private final OutputStream out;

    SseWriter(ServerResponse res) {
        res.header("Content-Type", "text/event-stream; charset=utf-8");
        res.header("Cache-Control", "no-cache");
        // events gather here until a flush, then go out as one HTTP chunk: Helidon makes a chunk (and a buffer) of each write
        this.out = new BufferedOutputStream(res.outputStream(), 8192);
    }

    /** Writes one event, buffered until {@link #flush()}; false when the client is gone (the connection failed). */
    boolean send(JsonNode data) {
        try {
            out.write(DATA);
            JSON.writeValue(out, data);
            out.write(END);
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // a write to a closed connection: the client went away
        }
    }

    /**
     * Sends what was written. A writer flushes when it has nothing more at hand, so a client that
     * keeps up gets each token at once, and one that falls behind gets several per packet.
     */
    boolean flush() {
        try {
            out.flush();
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Writes the last event and ends the response; false when the client is gone. */
    boolean done() {
        return write("data: [DONE]\n\n") && close();
    }

    /** Ends the response (after an error event, or when the stream cannot go on); false when the client is gone. */
    boolean close() {
        try {
            out.close();
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // Helidon's connection exceptions are unchecked: the client closed the socket
        }
    }

    private boolean write(String event) {
        try {
            out.write(event.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // a write to a closed connection: the client went away
        }
    }
}
