package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jumbo.train.Sequential;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jumbo federated end to end on a small Fashion-MNIST-shaped dataset, over real gRPC on 127.0.0.1. */
class FederatedCommandTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 800, 200, 11);
    }

    @Test
    void simulateRaisesAccuracyAndSavesTheGlobalModel() throws Exception {
        Path out = tmp.resolve("global");
        CliTest.Result r = CliTest.run("federated", "simulate", "--data", data.toString(), "--model-arch", "mlp", "--clients", "4", "--rounds", "4",
                "--partition", "shards:2", "--lr", "0.05", "--out", out.toString(), "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("round 4: 4 of 4 sampled clients answered");
        JsonNode j = r.lastJson();
        JsonNode rounds = j.get("rounds");
        assertThat(rounds).hasSize(4);
        assertThat(rounds.get(3).get("test_accuracy").asDouble()).isGreaterThan(rounds.get(0).get("test_accuracy").asDouble()).isGreaterThan(0.8);
        assertThat(Sequential.isModelFolder(out)).isTrue();
        CliTest.Result eval = CliTest.run("evaluate", "--model", out.toString(), "fashion-mnist", "--data", data.toString(), "--json");
        assertThat(eval.code()).as(eval.err()).isZero();
        assertThat(eval.lastJson().get("test_accuracy").asDouble()).isEqualTo(j.get("test_accuracy").asDouble(), org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void secureAndPaillierSimulationsLearnAsThePlainOneDoes() throws Exception {
        for (String scheme : new String[] {"secure", "paillier"}) {
            CliTest.Result r = CliTest.run("federated", "simulate", "--data", data.toString(), "--model-arch", "mlp", "--clients", "4", "--rounds", "3",
                    "--partition", "shards:2", "--lr", "0.05", "--scheme", scheme, "--key-bits", "1024", "--round-timeout", "60", "--json");
            assertThat(r.code()).as(scheme + ": " + r.err()).isZero();
            assertThat(r.out()).as(scheme).contains("round 3: 4 of 4 sampled clients answered, model version 3");
            JsonNode rounds = r.lastJson().get("rounds");
            assertThat(rounds.get(2).get("test_accuracy").asDouble()).as(scheme).isGreaterThan(rounds.get(0).get("test_accuracy").asDouble());
            if (scheme.equals("paillier")) assertThat(r.out()).contains("paillier (1024-bit keys, ").contains("ciphertexts per update of");
        }
        assertThat(CliTest.run("federated", "simulate", "--data", data.toString(), "--scheme", "rot13").err()).contains("unknown --scheme 'rot13'");
    }

    @Test
    void simulateCompletesTheRoundInWhichClientsAreKilled() throws Exception {
        CliTest.Result r = CliTest.run("federated", "simulate", "--data", data.toString(), "--model-arch", "mlp", "--clients", "4", "--rounds", "3",
                "--min-clients", "2", "--kill", "2", "--kill-round", "2", "--round-timeout", "3", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("round 2: 2 of 4 sampled clients answered, model version 2").contains("killed mid-round: ");
        JsonNode rounds = r.lastJson().get("rounds");
        assertThat(rounds.get(1).get("applied").asBoolean()).isTrue();
        assertThat(rounds.get(2).get("answered").asInt()).isEqualTo(2);
    }

    @Test
    void serverAndClientsAsSeparateCommands() throws Exception {
        for (String scheme : new String[] {"plain", "secure"}) serverAndClients(scheme);
    }

    private void serverAndClients(String scheme) throws Exception {
        int port;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String target = "127.0.0.1:" + port;
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var server = CompletableFuture.supplyAsync(() -> CliTest.run("federated", "server", "--data", data.toString(), "--model-arch", "mlp",
                    "--rounds", "2", "--clients-per-round", "2", "--min-clients", "2", "--port", Integer.toString(port), "--round-timeout", "60",
                    "--scheme", scheme), pool);
            // the clients start at once: their Join waits for the server to be up
            var c0 = CompletableFuture.supplyAsync(() -> client(target, "0", scheme), pool);
            var c1 = CompletableFuture.supplyAsync(() -> client(target, "1", scheme), pool);
            CliTest.Result s = server.get(120, TimeUnit.SECONDS), r0 = c0.get(120, TimeUnit.SECONDS), r1 = c1.get(120, TimeUnit.SECONDS);
            assertThat(s.code()).as(scheme + ": " + s.err()).isZero();
            assertThat(s.out()).contains("listening on 127.0.0.1:" + port).contains("round 2: 2 of 2 sampled clients answered, model version 2");
            assertThat(r0.code()).as(r0.err()).isZero();
            assertThat(r0.out()).contains("client 0 of 2: 400 examples").contains("trained in 2 rounds");
            assertThat(r1.out()).as(r1.err()).contains("trained in 2 rounds");
        }
    }

    private static CliTest.Result client(String target, String id, String scheme) {
        return CliTest.run("federated", "client", "--server", target, "--id", id, "--clients", "2", "--data", data.toString(), "--partition", "shards:2",
                "--scheme", scheme);
    }

    @Test
    void badArgumentsAreNamed() throws Exception {
        CliTest.Result r = CliTest.run("federated", "client", "--server", "127.0.0.1:1", "--id", "5", "--clients", "2", "--data", data.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--id 5").contains("0 to 1");
        Path cluttered = Files.createDirectories(tmp.resolve("cluttered"));
        Files.writeString(cluttered.resolve("notes.txt"), "keep me");
        r = CliTest.run("federated", "simulate", "--data", data.toString(), "--model-arch", "mlp", "--clients", "2", "--rounds", "1", "--out", cluttered.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("other files");
        assertThat(cluttered.resolve("notes.txt")).exists();
        r = CliTest.run("federated", "simulate", "--data", data.toString(), "--aggregator", "fedmedian", "--rounds", "1");
        assertThat(r.err()).contains("fedmedian");
    }
}
