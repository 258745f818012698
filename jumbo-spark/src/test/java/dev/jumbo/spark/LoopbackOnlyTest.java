package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jumbo.train.FitOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/** Spark as {@link SparkContexts} opens it listens on 127.0.0.1 only (read from Linux's /proc). */
class LoopbackOnlyTest {
    /** Local addresses ("0100007F:1F90", hex as /proc writes them) of this process's listening TCP sockets. */
    private static List<String> listeningAddresses() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) inodes.add(target.substring(8, target.length() - 1));
                } catch (IOException gone) {
                    // a descriptor closed while listing
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path p = Path.of(table);
            if (!Files.exists(p)) continue;
            for (String line : Files.readAllLines(p).subList(1, Files.readAllLines(p).size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ... inode (column 9); st 0A is LISTEN
                if (f[3].equals("0A") && inodes.contains(f[9])) out.add(f[1]);
            }
        }
        return out;
    }

    @Test
    void theDriverAndItsBlockManagerListenOnLoopbackOnly() throws IOException {
        assertThat(Path.of("/proc/self/net/tcp")).as("this test reads Linux's /proc").exists();
        List<String> before = listeningAddresses();
        try (JavaSparkContext sc = SparkContexts.open("local[2]", "loopback")) {
            SparkTraining.fit(sc, Blobs.mlp(1), DistributedDataset.of(sc, Blobs.of(64, 1, 2), 2), FitOptions.defaults().batchSize(32));
            List<String> during = new ArrayList<>(listeningAddresses());
            during.removeAll(before);
            assertThat(during).as("Spark's listening sockets").isNotEmpty();
            for (String address : during)
                assertThat(address).as("listening address (hex, /proc/net/tcp)").matches("0100007F:.*|0000000000000000FFFF00000100007F:.*");
        }
    }
}
