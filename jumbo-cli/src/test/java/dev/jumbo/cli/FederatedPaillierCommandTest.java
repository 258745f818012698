package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jumbo federated keygen, and server and clients with --scheme paillier as separate commands over real gRPC on 127.0.0.1. */
class FederatedPaillierCommandTest {
    @TempDir
    static Path tmp;
    static Path data, keys;

    @BeforeAll
    static void writeDataAndKeys() throws Exception {
        data = TinyFashionMnist.write(tmp.resolve("fmnist"), 600, 200, 13);
        keys = tmp.resolve("keys");
        CliTest.Result r = CliTest.run("federated", "keygen", "--out", keys.toString(), "--bits", "512");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("512-bit Paillier key pair").contains(keys.resolve("paillier-private.json").toString())
                .contains(keys.resolve("paillier-public.json").toString());
        assertThat(r.err()).contains("warning: 512-bit Paillier keys can be factored");
    }

    @Test
    void keygenWritesAMatchingPairAndRefusesToOverwriteIt() throws Exception {
        Path privateFile = keys.resolve("paillier-private.json"), publicFile = keys.resolve("paillier-public.json");
        PaillierKeyFile pair = PaillierKeyFile.read(privateFile), pub = PaillierKeyFile.read(publicFile);
        assertThat(pair.publicKey()).isEqualTo(pub.publicKey());
        assertThat(pub.publicKey().bits()).isEqualTo(512);
        String before = Files.readString(privateFile);
        CliTest.Result again = CliTest.run("federated", "keygen", "--out", keys.toString(), "--bits", "512");
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("paillier-private.json already exists").contains("--force");
        assertThat(Files.readString(privateFile)).isEqualTo(before);

        Path forced = tmp.resolve("forced");
        assertThat(CliTest.run("federated", "keygen", "--out", forced.toString(), "--bits", "512").code()).isZero();
        String first = Files.readString(forced.resolve("paillier-private.json"));
        CliTest.Result replaced = CliTest.run("federated", "keygen", "--out", forced.toString(), "--bits", "512", "--force");
        assertThat(replaced.code()).as(replaced.err()).isZero();
        assertThat(Files.readString(forced.resolve("paillier-private.json"))).isNotEqualTo(first);
        assertThat(PaillierKeyFile.read(forced.resolve("paillier-private.json")).publicKey())
                .isEqualTo(PaillierKeyFile.read(forced.resolve("paillier-public.json")).publicKey());

        CliTest.Result small = CliTest.run("federated", "keygen", "--out", tmp.resolve("small").toString(), "--bits", "256");
        assertThat(small.code()).isEqualTo(2);
        assertThat(small.err()).contains("--bits 256 is not a key size");
        assertThat(tmp.resolve("small")).doesNotExist();
    }

    @Test
    void missingOrWrongKeysAreNamedBeforeAnythingRuns() {
        CliTest.Result server = CliTest.run("federated", "server", "--data", data.toString(), "--model-arch", "mlp", "--rounds", "1",
                "--clients-per-round", "2", "--min-clients", "2", "--port", "0", "--scheme", "paillier");
        assertThat(server.code()).isEqualTo(2);
        assertThat(server.err()).contains("--scheme paillier needs --public-key FILE");
        CliTest.Result client = CliTest.run("federated", "client", "--server", "127.0.0.1:1", "--id", "0", "--clients", "2",
                "--data", data.toString(), "--scheme", "paillier");
        assertThat(client.code()).isEqualTo(2);
        assertThat(client.err()).contains("--scheme paillier needs --key FILE");
        // a client given the public file cannot decrypt: refused before it joins
        CliTest.Result publicOnly = CliTest.run("federated", "client", "--server", "127.0.0.1:1", "--id", "0", "--clients", "2",
                "--data", data.toString(), "--scheme", "paillier", "--key", keys.resolve("paillier-public.json").toString());
        assertThat(publicOnly.code()).isEqualTo(1);
        assertThat(publicOnly.err()).contains("holds the public key only");
        // a key given to another scheme would be silently ignored: refused instead
        CliTest.Result plainServer = CliTest.run("federated", "server", "--data", data.toString(), "--model-arch", "mlp", "--rounds", "1",
                "--clients-per-round", "2", "--min-clients", "2", "--port", "0", "--public-key", keys.resolve("paillier-public.json").toString());
        assertThat(plainServer.code()).isEqualTo(2);
        assertThat(plainServer.err()).contains("--public-key is for --scheme paillier, not plain");
        CliTest.Result secureClient = CliTest.run("federated", "client", "--server", "127.0.0.1:1", "--id", "0", "--clients", "2",
                "--data", data.toString(), "--scheme", "secure", "--key", keys.resolve("paillier-private.json").toString());
        assertThat(secureClient.code()).isEqualTo(2);
        assertThat(secureClient.err()).contains("--key is for --scheme paillier, not secure");
    }

    @Test
    void serverAndClientsAddEncryptedUpdatesWithKeyFiles() throws Exception {
        int port;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String target = "127.0.0.1:" + port;
        // the server is handed the pair file by mistake: it runs on the public half and says so
        String serverKey = keys.resolve("paillier-private.json").toString(), clientKey = keys.resolve("paillier-private.json").toString();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var server = CompletableFuture.supplyAsync(() -> CliTest.run("federated", "server", "--data", data.toString(), "--model-arch", "mlp",
                    "--rounds", "2", "--clients-per-round", "3", "--min-clients", "3", "--port", Integer.toString(port), "--round-timeout", "60",
                    "--scheme", "paillier", "--public-key", serverKey, "--json"), pool);
            var clients = new java.util.ArrayList<CompletableFuture<CliTest.Result>>();
            for (int i = 0; i < 3; i++) {
                String id = Integer.toString(i);
                clients.add(CompletableFuture.supplyAsync(() -> CliTest.run("federated", "client", "--server", target, "--id", id, "--clients", "3",
                        "--data", data.toString(), "--partition", "iid", "--scheme", "paillier", "--key", clientKey), pool));
            }
            CliTest.Result s = server.get(120, TimeUnit.SECONDS);
            assertThat(s.code()).as(s.err()).isZero();
            assertThat(s.err()).contains("holds the private key too").contains("should not hold the private key");
            assertThat(s.out()).contains("listening on 127.0.0.1:" + port).contains("round 2: 3 of 3 sampled clients answered, model version 2");
            var rounds = s.lastJson().get("rounds");
            assertThat(rounds).hasSize(2);
            for (var round : rounds) assertThat(round.get("applied").asBoolean()).as(round.toString()).isTrue();
            // applied sums that were decrypted right move the model toward the data: better than chance (0.1) on ten classes
            assertThat(s.lastJson().get("test_accuracy").asDouble()).isGreaterThan(0.3);
            for (int i = 0; i < 3; i++) {
                CliTest.Result c = clients.get(i).get(120, TimeUnit.SECONDS);
                assertThat(c.code()).as(c.err()).isZero();
                assertThat(c.out()).contains("client " + i + " of 3: 200 examples").contains("trained in 2 rounds");
            }
        }
    }
}
