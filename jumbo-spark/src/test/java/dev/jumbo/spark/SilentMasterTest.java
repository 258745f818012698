package dev.jumbo.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An address that accepts connections but is no Spark master: Spark alone would wait a minute and
 * return a stopped context. Run in a JVM of its own, as {@code ./jumbo} runs, because the abandoned
 * attempt holds that JVM's Spark environment until Spark gives up.
 */
class SilentMasterTest {
    /** Opens a context on {@code args[0]} and prints the error's message; exits 3 when it fails, 0 when it opens. */
    public static void main(String[] args) {
        try (var sc = SparkContexts.open(args[0], "silent-master-test")) {
            System.out.println("opened");
        } catch (IllegalArgumentException e) {
            System.out.println(e.getMessage());
            System.out.flush();
            Runtime.getRuntime().halt(3); // do not wait for Spark's own minute
        }
    }

    @Test
    @Timeout(60)
    void anAddressThatAcceptsButNeverAnswersFailsWithinTheRegistrationTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) held.add(silent.accept()); // hold each connection open, say nothing
                } catch (IOException closed) {
                    // the test is over
                }
            });
            String master = "spark://127.0.0.1:" + silent.getLocalPort();
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), SilentMasterTest.class.getName(), master));
            long start = System.nanoTime();
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("an address that accepts but is no Spark master refused in %.1f s%n", seconds);
            assertThat(p.exitValue()).as(out).isEqualTo(3);
            assertThat(out).contains("the address of master '" + master + "' accepts connections, but no Spark master there registered"
                    + " this application within 15 s");
            assertThat(seconds).isLessThan(SparkContexts.REGISTRATION_TIMEOUT_MS / 1000.0 + 15);
            assertThat(held).as("Spark did connect").isNotEmpty();
            acceptor.interrupt();
            for (Socket s : held) s.close();
        }
    }
}
