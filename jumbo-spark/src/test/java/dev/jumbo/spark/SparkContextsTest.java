package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class SparkContextsTest {
    @Test
    void aMasterNobodyListensOnFailsFastNamingIt() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        String master = "spark://127.0.0.1:" + port;
        long start = System.nanoTime();
        assertThatThrownBy(() -> SparkContexts.open(master, "unreachable"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("cannot reach the Spark master at " + master + " (127.0.0.1:" + port + ": ")
                .hasMessageContaining("is a master running there?");
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("wrong master URL refused in %.3f s%n", seconds);
        assertThat(seconds).isLessThan(SparkContexts.CONNECT_TIMEOUT_MS / 1000.0 + 2);
    }

    @Test
    void malformedMasterUrlsAreNamed() {
        assertThatThrownBy(() -> SparkContexts.open("spark://127.0.0.1", "x")).hasMessageContaining("without host:port: '127.0.0.1'");
        assertThatThrownBy(() -> SparkContexts.open("spark://h:port", "x")).hasMessageContaining("port that is not a number: 'h:port'");
        assertThatThrownBy(() -> SparkContexts.open(" ", "x")).hasMessageContaining("master URL is empty");
        assertThatThrownBy(() -> SparkContexts.open("nonsense[3", "x")).hasMessageContaining("cannot start Spark on master 'nonsense[3'");
    }

    @Test
    void jumbosOwnJarsAreWhatExecutorsOnAClusterGet() {
        String sep = java.io.File.pathSeparator;
        String cp = String.join(sep, "/opt/jumbo/jumbo-cli/target/jumbo-cli-0.1.0-SNAPSHOT.jar", "/opt/jumbo/lib/spark-core_2.13-4.2.0.jar",
                "", "/opt/jumbo/lib/jumbo-core-0.1.0-SNAPSHOT.jar", "/work/jumbo-spark/target/classes", "/opt/jumbo/lib/jumbo-spark-0.1.0-SNAPSHOT.jar",
                "/opt/jumbo/lib/not-jumbo-1.0.jar", "/opt/jumbo/lib/jumbo-notes.txt");
        assertThat(SparkContexts.jumboJars(cp)).containsExactly("/opt/jumbo/jumbo-cli/target/jumbo-cli-0.1.0-SNAPSHOT.jar",
                "/opt/jumbo/lib/jumbo-core-0.1.0-SNAPSHOT.jar", "/opt/jumbo/lib/jumbo-spark-0.1.0-SNAPSHOT.jar");
        assertThat(SparkContexts.jumboJars("")).isEmpty();
    }
}
