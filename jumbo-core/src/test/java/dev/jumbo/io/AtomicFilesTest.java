package dev.jumbo.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void createsTheFileWhenAbsent() throws IOException {
        Path target = dir.resolve("new.txt");
        AtomicFiles.writeString(target, "héllo");
        assertThat(Files.readString(target, StandardCharsets.UTF_8)).isEqualTo("héllo");
        assertThat(filesIn(dir)).containsExactly("new.txt");
    }

    @Test
    void replacesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path target = dir.resolve("ckpt.bin");
        Files.writeString(target, "old content that is longer than the new one");
        AtomicFiles.write(target, out -> {
            out.write("new".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[100_000]); // more than the buffer, so it reaches the file in pieces
        });
        byte[] written = Files.readAllBytes(target);
        assertThat(written).hasSize(100_003);
        assertThat(new String(written, 0, 3, StandardCharsets.US_ASCII)).isEqualTo("new");
        assertThat(filesIn(dir)).containsExactly("ckpt.bin");
    }

    @Test
    void keepsThePreviousFileWhenTheBodyThrowsHalfway() throws IOException {
        Path target = dir.resolve("ckpt.bin");
        Files.writeString(target, "previous");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write(new byte[200_000]); // already flushed partly to the temporary file
            throw new IOException("disk full");
        })).isInstanceOf(IOException.class).hasMessage("disk full");
        assertThat(Files.readString(target)).isEqualTo("previous");
        assertThat(filesIn(dir)).containsExactly("ckpt.bin");
    }

    @Test
    void keepsThePreviousFileWhenTheBodyThrowsAnUncheckedException() throws IOException {
        Path target = dir.resolve("ckpt.bin");
        Files.writeString(target, "previous");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw new UncheckedIOException(new IOException("lost"));
        })).isInstanceOf(UncheckedIOException.class);
        assertThat(Files.readString(target)).isEqualTo("previous");
        assertThat(filesIn(dir)).containsExactly("ckpt.bin");
    }

    @Test
    void toleratesABodyThatClosesTheStream() throws IOException {
        Path target = dir.resolve("a.txt");
        AtomicFiles.write(target, out -> {
            out.write('x');
            out.close();
        });
        assertThat(Files.readString(target)).isEqualTo("x");
    }

    @Test
    void failsWhenTheDirectoryIsMissingAndLeavesNothing() {
        Path target = dir.resolve("missing").resolve("a.txt");
        assertThatThrownBy(() -> AtomicFiles.writeString(target, "x")).isInstanceOf(IOException.class);
        assertThat(filesIn(dir)).isEmpty();
    }

    private static java.util.List<String> filesIn(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
