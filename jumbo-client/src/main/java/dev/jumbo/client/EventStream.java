package dev.jumbo.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The {@code data:} payloads of a server-sent event stream in OpenAI's format, parsed one event
 * at a time as the bytes arrive: JSON chunks until {@code data: [DONE]}. An event is its
 * {@code data:} lines joined by newlines and ends at a blank line; comments ({@code :...}) and the
 * other fields ({@code event:}, {@code id:}, {@code retry:}) carry nothing OpenAI's chunks need.
 * Closing it closes the connection, which stops the generation on jumbo serve.
 */
final class EventStream implements Iterator<JsonNode>, AutoCloseable {
    private final BufferedReader in;
    private final int status;
    private JsonNode next;
    private boolean done;

    /** @param status the response's status, for the error events a failing stream ends with */
    EventStream(InputStream body, int status) {
        this.in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        this.status = status;
    }

    @Override
    public boolean hasNext() {
        if (next == null && !done) next = read();
        return next != null;
    }

    @Override
    public JsonNode next() {
        if (!hasNext()) throw new NoSuchElementException("the stream has ended");
        JsonNode n = next;
        next = null;
        return n;
    }

    /** The next event's JSON, or null after {@code [DONE]} (the stream is then closed). */
    private JsonNode read() {
        try {
            StringBuilder data = null;
            for (String line; ; ) {
                line = in.readLine();
                if (line == null) {
                    close();
                    throw new UncheckedIOException(new IOException("the event stream ended before 'data: [DONE]'"));
                }
                if (line.isEmpty()) {
                    if (data == null) continue; // a blank line with no event before it
                    return payload(data.toString());
                }
                if (line.startsWith("data:")) {
                    String value = line.substring(line.startsWith("data: ") ? 6 : 5);
                    if (data == null) data = new StringBuilder(value);
                    else data.append('\n').append(value);
                }
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        }
    }

    private JsonNode payload(String data) {
        if (data.equals("[DONE]")) {
            done = true;
            close();
            return null;
        }
        JsonNode event = Json.parse(data);
        JsonNode error = event.get("error");
        if (error != null && error.isObject()) { // the headers were out when it failed: jumbo serve says so in the stream
            done = true;
            close();
            throw JumboClient.apiException(status, error, null);
        }
        return event;
    }

    @Override
    public void close() {
        done = true;
        try {
            in.close();
        } catch (IOException e) {
            // closing is how a reader leaves a stream early: the connection is dropped either way
        }
    }
}
