package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The playground's files as HTTP serves them, on a server with an API key (the page needs none). PlaygroundBrowserTest runs it. */
class PlaygroundPageTest {
    private static TestServer api;

    @BeforeAll
    static void start() {
        api = TestServer.start(TestServer.options("sk-page-test", 8, 32, 1 << 20));
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    /** Without the Authorization header that {@link TestServer#get} would add. */
    private static HttpResponse<String> anonymousGet(String path) {
        return api.send(HttpRequest.newBuilder(api.uri(path)).GET().build());
    }

    @ParameterizedTest
    @CsvSource({
        "/, text/html; charset=utf-8, <title>Jumbo playground</title>",
        "/playground/playground.js, text/javascript; charset=utf-8, fetch('/v1/completions'",
        "/playground/playground.css, text/css; charset=utf-8, #output",
        "/playground/icon.svg, image/svg+xml; charset=utf-8, <svg",
    })
    void servesEachFileWithoutTheKeyAndWithADeployedPagesHeaders(String path, String contentType, String content) {
        HttpResponse<String> r = anonymousGet(path);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains(content);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(contentType);
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValue(PlaygroundPage.CONTENT_SECURITY_POLICY);
        assertThat(PlaygroundPage.CONTENT_SECURITY_POLICY).contains("default-src 'none'", "script-src 'self';", "connect-src 'self';")
                .doesNotContain("unsafe");
    }

    @Test
    void thePageLoadsItsScriptAndStyleFromThisServerOnly() {
        String html = anonymousGet("/").body();
        assertThat(html).contains("<script src=\"/playground/playground.js\" defer></script>",
                "<link rel=\"stylesheet\" href=\"/playground/playground.css\">");
        assertThat(html).doesNotContain("<style", "style=\"", "onclick", "http://", "https://", "<script>");
    }

    @Test
    void theScriptNeverInsertsHtml() {
        String js = anonymousGet("/playground/playground.js").body();
        assertThat(js).doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(")
                .contains("textContent", "sessionStorage").doesNotContain("localStorage");
    }

    @Test
    void anUnknownFileIsOpenAisNotFound() {
        HttpResponse<String> r = anonymousGet("/playground/missing.js");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(TestServer.json(r).get("error").get("code").asText()).isEqualTo("unknown_url");
    }

    @Test
    void theApiStillNeedsTheKey() {
        assertThat(anonymousGet("/v1/models").statusCode()).isEqualTo(401);
        assertThat(api.get("/v1/models").statusCode()).isEqualTo(200);
    }
}
