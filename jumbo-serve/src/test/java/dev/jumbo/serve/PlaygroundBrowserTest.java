package dev.jumbo.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The playground page in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, driven by Selenium) against a real server with the bundled model.
 * Selenium Manager is never asked for a driver or a browser: both executables are given, so
 * nothing is downloaded; and Chromium resolves no host name but 127.0.0.1. Missing Chromium
 * fails the test, saying what to install: the page is part of what the server ships.
 * Leaves a screenshot of a finished generation in {@code target/playground.png}.
 */
class PlaygroundBrowserTest {
    private static final Path CHROMIUM = Path.of(System.getProperty("jumbo.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("jumbo.chromedriver", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOT = Path.of("target", "playground.png");
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    // Selenium warns when it has no DevTools binding for this Chromium's version; the test uses none
    private static final Logger DEVTOOLS_LOG = Logger.getLogger("org.openqa.selenium.devtools");

    private static ChromeDriver browser;

    @BeforeAll
    static void startBrowser() {
        DEVTOOLS_LOG.setLevel(Level.SEVERE);
        for (Path executable : List.of(CHROMIUM, CHROMEDRIVER))
            if (!Files.isExecutable(executable))
                fail(executable + " is missing: the playground test drives a headless Chromium. Install it with "
                        + "`sudo apt-get install chromium chromium-driver` (Debian/Ubuntu), or point -Djumbo.chromium and "
                        + "-Djumbo.chromedriver at a Chromium and its matching chromedriver.");
        ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new",
                "--no-sandbox", // CI runs as root, where Chromium's sandbox will not start
                "--disable-dev-shm-usage", // containers give /dev/shm 64 MB
                "--window-size=1280,860",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"); // the test reaches nothing but its server
        browser = new ChromeDriver(driver, options);
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) browser.quit();
    }

    private static WebDriverWait waiting() {
        return new WebDriverWait(browser, PATIENCE);
    }

    private static WebElement byId(String id) {
        return browser.findElement(By.id(id));
    }

    /** What the element holds as text, as the page wrote it (WebDriver's getText would trim and fold white space). */
    private static String text(String id) {
        return byId(id).getDomProperty("textContent");
    }

    private static void type(String id, String value) {
        WebElement field = byId(id);
        field.clear();
        field.sendKeys(value);
    }

    private static void openPage(TestServer api) {
        browser.get(api.server.address() + "/");
        assertThat(browser.getTitle()).isEqualTo("Jumbo playground");
    }

    private static List<String> listedModels() {
        return new Select(byId("model")).getOptions().stream().map(o -> o.getDomProperty("value")).toList();
    }

    private static String state() {
        return byId("status").getDomAttribute("data-state");
    }

    @Test
    void streamsTheSameTextAsAGreedyCompletionAndShowsItsSpeed() throws IOException {
        String prompt = "Once upon a time, there was a little dog";
        int maxTokens = 120;
        try (TestServer api = TestServer.start(TestServer.options(null, 8, 32, 1 << 20))) {
            openPage(api);
            waiting().until(d -> !listedModels().isEmpty());
            assertThat(listedModels()).containsExactly(BundledModel.NAME);
            type("prompt", prompt);
            type("max-tokens", String.valueOf(maxTokens));
            type("temperature", "0");
            byId("generate").click();

            waiting().until(d -> !text("completion").isEmpty());
            waiting().until(d -> text("tps").matches("[0-9][0-9,]*"));
            waiting().until(d -> state().equals("done"));
            assertThat(text("ttft")).matches("[0-9.]+ m?s");
            assertThat(byId("error").isDisplayed()).isFalse();
            assertThat(byId("generate").isEnabled()).isTrue();
            assertThat(byId("stop").isEnabled()).isFalse();

            ObjectNode request = TestServer.JSON.createObjectNode().put("model", BundledModel.NAME).put("prompt", prompt)
                    .put("max_tokens", maxTokens).put("temperature", 0);
            JsonNode completion = TestServer.json(api.post("/v1/completions", request.toString()));
            String expected = completion.get("choices").get(0).get("text").asText();
            assertThat(text("completion")).isEqualTo(expected).hasSizeGreaterThan(20);
            assertThat(text("echo")).isEqualTo(prompt);
            // a chunk carries a token's text, or nothing when a token ends inside a character or a stop string may follow
            assertThat(Integer.parseInt(text("tokens"))).isBetween(2, completion.get("usage").get("completion_tokens").asInt());

            Files.createDirectories(SCREENSHOT.getParent());
            Files.write(SCREENSHOT, browser.getScreenshotAs(OutputType.BYTES));
        }
    }

    @Test
    void stopEndsTheStreamAndTheServersSequenceAndMarkupStaysText() throws InterruptedException {
        String prompt = "<img src=x onerror=\"document.title='owned'\"><b>Once</b>";
        // 20 ms a step: 400 tokens take 8 s, so the text visibly grows before Stop
        try (TestServer api = TestServer.start(TestServer.options(null, 8, 32, 1 << 20), 20)) {
            openPage(api);
            waiting().until(d -> !listedModels().isEmpty());
            type("prompt", prompt);
            type("max-tokens", "400");
            byId("generate").click();
            waiting().until(d -> state().equals("streaming") && !text("completion").isEmpty());
            int seen = text("completion").length();
            waiting().until(d -> text("completion").length() > seen); // appended chunk by chunk, not at the end
            assertThat(byId("stop").isEnabled()).isTrue();
            byId("stop").click();
            waiting().until(d -> state().equals("stopped"));
            api.awaitIdle(); // the aborted fetch closed the connection, and the server stopped generating
            assertThat(byId("generate").isEnabled()).isTrue();
            assertThat(byId("error").isDisplayed()).isFalse();
            assertThat(text("echo")).isEqualTo(prompt); // shown as typed: text, not markup
            assertThat(browser.findElements(By.cssSelector("#output img, #output b"))).isEmpty();
            assertThat(browser.getTitle()).isEqualTo("Jumbo playground");
        }
    }

    @Test
    void aWrongApiKeyShowsTheServers401AndTheRightOneServes() {
        String key = "sk-playground-right";
        try (TestServer api = TestServer.start(TestServer.options(key, 8, 32, 1 << 20))) {
            String noKey = serverMessage(api, null), wrongKey = serverMessage(api, "sk-playground-wrong");
            openPage(api); // the page itself needs no key

            waiting().until(d -> text("error").contains(noKey));
            type("api-key", "sk-playground-wrong");
            byId("api-key").sendKeys(Keys.TAB); // a changed key reloads the model list
            waiting().until(d -> text("error").contains(wrongKey));
            byId("generate").click();
            waiting().until(d -> state().equals("failed"));
            assertThat(byId("error").isDisplayed()).isTrue();
            assertThat(text("error")).startsWith("401").contains(wrongKey);
            assertThat(text("completion")).isEmpty();
            JavascriptExecutor js = browser;
            assertThat(js.executeScript("return sessionStorage.getItem('jumbo.playground.apiKey')")).isEqualTo("sk-playground-wrong");
            assertThat(js.executeScript("return localStorage.length")).isEqualTo(0L);

            type("api-key", key);
            byId("api-key").sendKeys(Keys.TAB);
            waiting().until(d -> !listedModels().isEmpty() && !byId("error").isDisplayed());
            assertThat(listedModels()).containsExactly(BundledModel.NAME);
        }
    }

    /** The message of the server's 401 for a request with this key (none: no Authorization header). */
    private static String serverMessage(TestServer api, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(api.uri("/v1/models")).GET();
        if (key != null) request.header("Authorization", "Bearer " + key);
        var response = api.send(request.build());
        assertThat(response.statusCode()).isEqualTo(401);
        return TestServer.json(response).get("error").get("message").asText();
    }
}
