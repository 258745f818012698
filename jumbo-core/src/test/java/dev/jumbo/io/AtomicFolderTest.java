package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder appears whole or not at all, and a failed write leaves the previous folder as it was. */
class AtomicFolderTest {
    @TempDir
    Path tmp;

    private long entries() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.count();
        }
    }

    @Test
    void writesANewFolderAndReplacesAnOldOne() throws Exception {
        Path out = tmp.resolve("model");
        AtomicFolder.write(out, dir -> Files.writeString(dir.resolve("a.txt"), "one"));
        assertThat(out.resolve("a.txt")).hasContent("one");
        AtomicFolder.write(out, dir -> Files.writeString(dir.resolve("b.txt"), "two"));
        assertThat(out.resolve("b.txt")).hasContent("two");
        assertThat(out.resolve("a.txt")).doesNotExist();
        assertThat(entries()).isEqualTo(1);
    }

    @Test
    void aFailingWriteLeavesNoFolderOrThePreviousOne() throws Exception {
        Path out = tmp.resolve("model");
        assertThatThrownBy(() -> AtomicFolder.write(out, dir -> {
            Files.writeString(dir.resolve("config.json"), "{}");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        assertThat(out).doesNotExist();
        assertThat(entries()).isZero();
        AtomicFolder.write(out, dir -> Files.writeString(dir.resolve("a.txt"), "one"));
        assertThatThrownBy(() -> AtomicFolder.write(out, dir -> {
            Files.writeString(dir.resolve("a.txt"), "half");
            throw new IllegalStateException("interrupted");
        })).hasMessage("interrupted");
        assertThat(out.resolve("a.txt")).hasContent("one");
        assertThat(entries()).isEqualTo(1);
    }

    @Test
    void refusesAFileAtTheTarget() throws Exception {
        Path file = Files.writeString(tmp.resolve("model"), "x");
        assertThatThrownBy(() -> AtomicFolder.write(file, dir -> {})).hasMessageContaining("not a folder");
        assertThat(file).hasContent("x");
    }
}
