package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kill -9} in the middle of checkpointed training leaves a loadable checkpoint that --resume continues. */
class CheckpointCrashTest {
    @TempDir
    Path tmp;

    @Test
    void killedTrainingLeavesALoadableCheckpointAndResumes() throws Exception {
        Path data = TinyFashionMnist.write(tmp.resolve("data"), 2000, 100, 3);
        Path out = tmp.resolve("run");
        Path checkpoint = out.resolve("checkpoint.safetensors");
        Process p = jumbo("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--epochs", "50",
                "--batch-size", "8", "--checkpoint-every", "3", "--out", out.toString(), "--no-progress");
        try {
            // wait until several checkpoints have been written, then kill without warning
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            FileTime first = null;
            int changes = 0;
            while (changes < 3 && System.nanoTime() < deadline && p.isAlive()) {
                if (Files.exists(checkpoint)) {
                    FileTime t = Files.getLastModifiedTime(checkpoint);
                    if (!t.equals(first)) {
                        first = t;
                        changes++;
                    }
                }
                Thread.sleep(20);
            }
            assertThat(p.isAlive()).as("training still running when killed").isTrue();
            assertThat(changes).as("checkpoints seen before the kill").isGreaterThanOrEqualTo(3);
        } finally {
            p.destroyForcibly(); // SIGKILL on Linux
            p.waitFor(30, TimeUnit.SECONDS);
        }
        Checkpoint c = Checkpoint.read(checkpoint);
        assertThat(c.epoch() * 250 + c.batch()).as("position in the run").isPositive();
        assertThat(c.model()).isNotEmpty();
        assertThat(c.optimizer()).isNotEmpty();

        Process resumed = jumbo("train", "fashion-mnist", "--data", data.toString(), "--arch", "mlp", "--epochs", String.valueOf(c.epoch() + 1),
                "--batch-size", "8", "--out", out.toString(), "--resume", "--no-progress", "--json");
        assertThat(resumed.waitFor(180, TimeUnit.SECONDS)).isTrue();
        String stdout = new String(resumed.getInputStream().readAllBytes());
        String stderr = new String(resumed.getErrorStream().readAllBytes());
        assertThat(resumed.exitValue()).as(stderr).isZero();
        assertThat(stdout.lines().toList().getLast()).contains("\"epochs\":" + (c.epoch() + 1));
        int total = c.epoch() + 1;
        assertThat(stderr).contains("epoch " + total + "/" + total + " -");
        if (c.epoch() > 0) assertThat(stderr).as("finished epochs are not trained again").doesNotContain("epoch 1/" + total + " -");
        assertThat(out.resolve("model.safetensors")).isRegularFile();
    }

    private Process jumbo(String... args) throws Exception {
        return JumboProcess.start(tmp, args);
    }
}
