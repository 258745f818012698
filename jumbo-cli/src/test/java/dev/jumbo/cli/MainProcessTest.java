package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command as a real process: what it prints reaches stdout before the JVM exits. */
class MainProcessTest {
    @TempDir
    Path tmp;

    @Test
    void summaryOutputIsFlushedBeforeExit() throws Exception {
        Process p = JumboProcess.start(tmp, "summary", "--arch", "mlp");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).isZero();
        assertThat(out).contains("Total params: 55,050");
    }

    @Test
    void errorsExitNonZeroWithOneLine() throws Exception {
        Process p = JumboProcess.start(tmp, "summary", "--model", tmp.resolve("nothing-here").toString());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(err.lines().filter(l -> l.startsWith("jumbo: error:"))).hasSize(1);
        assertThat(err).contains("nothing-here").doesNotContain("\tat ");
    }
}
