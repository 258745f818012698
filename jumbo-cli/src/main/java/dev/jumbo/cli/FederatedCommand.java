package dev.jumbo.cli;

import dev.jumbo.data.Splits;
import dev.jumbo.data.TensorDataset;
import dev.jumbo.federated.Aggregator;
import dev.jumbo.federated.FederatedClient;
import dev.jumbo.federated.FederatedServer;
import dev.jumbo.nn.FlatParameters;
import dev.jumbo.federated.PaillierAggregation;
import dev.jumbo.federated.SecureAggregation;
import dev.jumbo.federated.ServerAggregationScheme;
import dev.jumbo.federated.ClientAggregationScheme;
import dev.jumbo.federated.FederatedSimulation;
import dev.jumbo.federated.FloatChunks;
import dev.jumbo.federated.GlobalEvaluation;
import dev.jumbo.federated.LocalTraining;
import dev.jumbo.federated.Partitions;
import dev.jumbo.federated.PlainAggregation;
import dev.jumbo.io.AtomicFolder;
import dev.jumbo.train.Sequential;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo federated server|client|simulate}: federated training over gRPC (module
 * jumbo-federated). The server owns the model and evaluates it on the test split after each
 * round; each client reads the dataset itself and keeps only its part (by index, partition and
 * seed), so no training data travels. {@code keygen} ({@link FederatedKeygenCommand}) writes the
 * key files that a separate server and clients need for {@code --scheme paillier}.
 */
@Command(name = "federated", mixinStandardHelpOptions = true,
        description = {"Federated learning over gRPC: FedAvg, FedProx or FedAdam with clients that train on their own part of the data.",
                "Example: jumbo federated simulate --clients 10 --rounds 30 --partition shards:2"},
        subcommands = {FederatedCommand.Server.class, FederatedCommand.Client.class, FederatedCommand.Simulate.class, FederatedKeygenCommand.class})
final class FederatedCommand {
    /** What server and simulate share: the model, the data to evaluate on, the rounds and the aggregator. */
    static final class ServerOptions {
        @Option(names = "--model-arch", defaultValue = "cnn", description = "mlp or cnn (as jumbo train's --arch; default: ${DEFAULT-VALUE}).")
        String arch;

        @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "fashion-mnist, mnist or csv:TRAIN.csv[,TEST.csv] (default: ${DEFAULT-VALUE}).")
        String dataset;

        @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
        Path dataDir;

        @Option(names = "--rounds", defaultValue = "30", description = "Rounds of training (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--aggregator", defaultValue = "fedavg", description = "fedavg, fedprox, fedavgm (FedAvg with server momentum 0.9), fedadam, fedyogi or fedadagrad (default: ${DEFAULT-VALUE}).")
        String aggregator;

        @Option(names = "--mu", defaultValue = "0.01", description = "FedProx's proximal weight mu, sent to the clients (default: ${DEFAULT-VALUE}).")
        double mu;

        @Option(names = "--server-lr", description = "The server's learning rate: FedAdam's, FedYogi's or FedAdagrad's (default 0.01) or FedAvgM's (default 1).")
        Double serverLr;

        @Option(names = "--round-timeout", defaultValue = "300", paramLabel = "S",
                description = "Seconds a round waits for updates (and for clients to be ready) before going on with those it has (default: ${DEFAULT-VALUE}).")
        double roundTimeout;

        @Option(names = "--seed", defaultValue = "42", description = "Seed of the initial weights, client sampling and data partition (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--out", paramLabel = "DIR", description = "Where to save the final global model (config.json + model.safetensors).")
        Path out;

        @Option(names = "--moving-average", paramLabel = "DECAY",
                description = "Also keep a moving average a <- DECAY a + (1 - DECAY) w of the global weights over rounds, report its test accuracy, and save it as the model (smooths the swings of label-skewed clients; e.g. 0.7).")
        Double movingAverage;

        @Option(names = "--json", description = "Print one JSON object with the per-round figures as the last line.")
        boolean json;

        Splits load() throws IOException {
            return DataOptions.of(dataset, dataDir).load();
        }

        Sequential model(Splits data) {
            dev.jumbo.nn.Init.seed(seed);
            return Architectures.build(arch, data.train().exampleShape(), classes(data.train()));
        }

        FederatedServer.Settings settings(int clientsPerRound, int minClients) {
            return new FederatedServer.Settings(rounds, clientsPerRound, minClients, Duration.ofMillis((long) (roundTimeout * 1000)),
                    FloatChunks.DEFAULT_CHUNK_BYTES, seed, "fedprox".equals(aggregator) ? mu : 0);
        }

        Aggregator newAggregator() {
            return Aggregator.of(aggregator, serverLr != null ? serverLr : aggregator.equals("fedavgm") ? 1.0 : 0.01);
        }

        GlobalEvaluation evaluation(Sequential model, TensorDataset test, PrintWriter out) throws dev.jumbo.io.FormatException {
            var eval = new GlobalEvaluation(Sequential.fromConfig(model.configJson(), null), test, line -> out.println(line));
            return movingAverage == null ? eval : eval.withAverage(movingAverage);
        }

        /** Saves the global model (its moving average, with --moving-average) and prints the JSON summary. */
        void finish(Sequential model, float[] weights, GlobalEvaluation eval, PrintWriter out) throws IOException {
            List<GlobalEvaluation.Row> rows = eval.rows();
            float[] averaged = eval.averagedWeights();
            FlatParameters.loadState(model, averaged != null ? averaged : weights);
            if (this.out != null) {
                requireModelFolder(this.out);
                AtomicFolder.write(this.out, model::save);
                out.println("saved the global model" + (averaged != null ? "'s moving average" : "") + " to " + this.out);
            }
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("aggregator", aggregator);
                o.put("rounds", rows.stream().map(r -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("round", r.round().round());
                    m.put("sampled", r.round().sampled().size());
                    m.put("answered", r.round().answered().size());
                    m.put("applied", r.round().applied());
                    m.put("rejected_updates", r.round().rejectedUpdates());
                    m.put("test_loss", r.testLoss());
                    m.put("test_accuracy", r.testAccuracy());
                    if (averaged != null) m.put("moving_average_accuracy", r.averagedAccuracy());
                    return m;
                }).toList());
                o.put("test_accuracy", rows.isEmpty() ? null : rows.getLast().testAccuracy());
                if (averaged != null) o.put("moving_average_accuracy", rows.isEmpty() ? null : rows.getLast().averagedAccuracy());
                out.println(JsonOutput.line(o));
            }
        }
    }

    /** What client and simulate share: the partition and the local training. */
    static final class ClientOptions {
        @Option(names = "--partition", defaultValue = "shards:2", description = "shards:K (K label shards each), dirichlet:ALPHA or iid (default: ${DEFAULT-VALUE}).")
        String partition;

        @Option(names = "--local-epochs", defaultValue = "1", description = "Epochs over its own data per round (default: ${DEFAULT-VALUE}).")
        int localEpochs;

        @Option(names = "--batch-size", defaultValue = "32", description = "Local batch size (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(names = "--lr", defaultValue = "0.05", description = "Local SGD learning rate (default: ${DEFAULT-VALUE}).")
        double lr;

        @Option(names = "--momentum", defaultValue = "0.9", description = "Local SGD momentum, reset each round (default: ${DEFAULT-VALUE}).")
        double momentum;

        @Option(names = "--restricted-softmax", defaultValue = "1", paramLabel = "ALPHA",
                description = "FedRS: multiply the logits of classes a client has no example of by ALPHA in its local loss (1: the plain softmax; default: ${DEFAULT-VALUE}).")
        double restrictedSoftmax;

        @Option(names = "--lr-decay", defaultValue = "1", paramLabel = "D",
                description = "Multiply the local learning rate by D each round (default: ${DEFAULT-VALUE}).")
        double lrDecay;

        @Option(names = "--fixed-head", description = "Clients never train the last layer (FedBABU): it stays at the initial weights everyone shares.")
        boolean fixedHead;

        @Option(names = "--drift-correction", description = "SCAFFOLD's control variates, kept by each client from the global model's moves (for FedAvg with every client in every round).")
        boolean driftCorrection;

        /** The local settings that differ from plain SGD, as ", restricted softmax 0.5, ..." (empty if none). */
        String describe() {
            StringBuilder b = new StringBuilder();
            if (lrDecay != 1) b.append(" (x").append(lrDecay).append(" a round)");
            if (restrictedSoftmax != 1) b.append(", restricted softmax ").append(restrictedSoftmax);
            if (fixedHead) b.append(", fixed head");
            if (driftCorrection) b.append(", drift correction");
            return b.toString();
        }

        LocalTraining training(long seed) {
            return new LocalTraining(localEpochs, batchSize, lr, momentum, seed, restrictedSoftmax, lrDecay, fixedHead, driftCorrection);
        }
    }

    static int classes(TensorDataset train) {
        int max = 0;
        for (int label : FederatedSimulation.labels(train)) max = Math.max(max, label);
        return max + 1;
    }

    /** The whole folder is replaced: refuse one holding other files, as prune and distill do. */
    static void requireModelFolder(Path out) throws IOException {
        if (Files.isDirectory(out) && !Files.isRegularFile(out.resolve(Sequential.CONFIG_FILE))) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent())
                    throw new IllegalArgumentException("--out " + out + " is a folder with other files in it, not a model folder: the output replaces the whole folder");
            }
        }
    }

    @Command(name = "server", mixinStandardHelpOptions = true,
            description = {"Serve the global model over gRPC and run the rounds; prints test accuracy after each round.",
                    "Example: jumbo federated server --model-arch cnn --rounds 30 --clients-per-round 10 --min-clients 8 --port 7070"})
    static final class Server implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerOptions options;

        @Option(names = "--clients-per-round", required = true, paramLabel = "K", description = "Clients sampled each round.")
        int clientsPerRound;

        @Option(names = "--min-clients", required = true, paramLabel = "M", description = "Fewest answers a round needs to update the model.")
        int minClients;

        @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for all).")
        String host;

        @Option(names = "--port", defaultValue = "7070", description = "Port (default: ${DEFAULT-VALUE}; 0: a free one, printed).")
        int port;

        @Option(names = "--scheme", defaultValue = "plain", description = "plain, secure (the server sees only the sum) or paillier (encrypted updates; needs --public-key); "
                + "the clients must say the same (default: ${DEFAULT-VALUE}).")
        String scheme;

        @Option(names = "--clip", defaultValue = "0.1", description = "secure and paillier: each delta coordinate clipped to [-clip, clip] before quantising; the clients are told (default: ${DEFAULT-VALUE}).")
        double clip;

        @Option(names = "--public-key", paramLabel = "FILE", description = "paillier: the clients' public key (paillier-public.json of jumbo federated keygen).")
        Path publicKey;

        @Override
        public Integer call() throws Exception {
            Main.banner(spec.commandLine().getErr());
            PrintWriter out = spec.commandLine().getOut();
            if (options.out != null) requireModelFolder(options.out); // before the rounds, not after them
            var paillierKey = paillierPublicKey(spec, scheme, publicKey); // before the data, too
            Splits data = options.load();
            Sequential model = options.model(data);
            TensorDataset test = DataOptions.fit(data.test(), model.inputShape());
            var eval = options.evaluation(model, test, out);
            // the Paillier sum waits as long as a round may, as in simulate
            ServerAggregationScheme aggregation = paillierKey != null
                    ? new PaillierAggregation.Server(paillierKey, new dev.jumbo.privacy.UpdateQuantizer(clip, clientsPerRound), FlatParameters.state(model).length,
                            Duration.ofMillis((long) (options.roundTimeout * 1000)))
                    : serverScheme(scheme, clip, options.roundTimeout);
            try (var server = new FederatedServer(model, options.newAggregator(), aggregation, options.settings(clientsPerRound, minClients))) {
                int bound = server.start(host, port);
                out.printf("listening on %s:%d: %s, %d parameters, %d rounds of %d clients (at least %d)%n", host, bound, options.aggregator,
                        server.parameterCount(), options.rounds, clientsPerRound, minClients);
                server.run(eval);
                options.finish(model, server.weights(), eval, out);
            }
            return 0;
        }
    }

    @Command(name = "client", mixinStandardHelpOptions = true,
            description = {"Join a federated server and train on this client's part of the dataset until the server is done.",
                    "Example: jumbo federated client --server 127.0.0.1:7070 --id 3 --clients 10 --partition shards:2"})
    static final class Client implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions options;

        @Option(names = "--server", required = true, paramLabel = "HOST:PORT", description = "The federated server.")
        String server;

        @Option(names = "--id", required = true, paramLabel = "I", description = "This client's index, 0 to N-1: which part of the data it takes.")
        int id;

        @Option(names = "--clients", required = true, paramLabel = "N", description = "How many clients the data is split among.")
        int clients;

        @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "As the server's (default: ${DEFAULT-VALUE}).")
        String dataset;

        @Option(names = "--data", paramLabel = "DIR", description = "Folder holding the dataset's files.")
        Path dataDir;

        @Option(names = "--seed", defaultValue = "42", description = "Partition seed, the same for every client (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--scheme", defaultValue = "plain", description = "plain, secure or paillier, as the server says (default: ${DEFAULT-VALUE}).")
        String scheme;

        @Option(names = "--key", paramLabel = "FILE", description = "paillier: the key pair the clients share (paillier-private.json of jumbo federated keygen).")
        Path key;

        @Option(names = "--phase-timeout", defaultValue = "60", description = "secure: seconds a protocol phase may wait for the other clients; "
                + "paillier: seconds the last round's decryption may take before the client exits (default: ${DEFAULT-VALUE}).")
        double phaseTimeout;

        @Override
        public Integer call() throws Exception {
            Main.banner(spec.commandLine().getErr());
            if (id < 0 || id >= clients) throw new IllegalArgumentException("--id " + id + " is not a client index: use 0 to " + (clients - 1) + " (--clients " + clients + ")");
            PrintWriter out = spec.commandLine().getOut();
            ClientAggregationScheme aggregation = paillierClient(spec, scheme, key);
            if (aggregation == null) aggregation = clientScheme(scheme, phaseTimeout);
            TensorDataset train = DataOptions.of(dataset, dataDir).load().train();
            int[] mine = Partitions.of(options.partition, FederatedSimulation.labels(train), clients, seed)[id];
            TensorDataset part = FederatedSimulation.subset(train, mine);
            out.printf("client %d of %d: %d examples (%s), server %s%n", id, clients, part.size(), options.partition, server);
            try (var client = new FederatedClient(server, "client-" + id, part, options.training(seed * 131 + id), aggregation)) {
                int rounds = client.run();
                // the last round's sum may still be decrypting; a decryption that failed is this client's failure
                if (aggregation instanceof PaillierAggregation.Client p) p.awaitDecryptions(Duration.ofMillis((long) (phaseTimeout * 1000)));
                out.printf("client %d: trained in %d rounds%s%n", id, rounds, client.lateUpdates() > 0 ? ", " + client.lateUpdates() + " updates arrived too late" : "");
            }
            return 0;
        }
    }

    @Command(name = "simulate", mixinStandardHelpOptions = true,
            description = {"A server and N clients in this process, over real gRPC on 127.0.0.1.",
                    "Example: jumbo federated simulate --clients 10 --rounds 30 --partition shards:2 --kill 2"})
    static final class Simulate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ServerOptions server;

        @Mixin
        ClientOptions client;

        @Option(names = "--clients", defaultValue = "10", description = "Clients (default: ${DEFAULT-VALUE}).")
        int clients;

        @Option(names = "--clients-per-round", paramLabel = "K", description = "Clients sampled each round (default: all).")
        Integer clientsPerRound;

        @Option(names = "--min-clients", paramLabel = "M", description = "Fewest answers a round needs (default: half the clients per round, rounded up).")
        Integer minClients;

        @Option(names = "--kill", defaultValue = "0", description = "Clients that die mid-round in round --kill-round (default: ${DEFAULT-VALUE}).")
        int kill;

        @Option(names = "--kill-round", paramLabel = "R", description = "The round in which --kill clients die (default: the middle round).")
        Integer killRound;

        @Option(names = "--train-examples", paramLabel = "N", description = "Use only the first N training examples (quick runs).")
        Integer trainExamples;

        @Option(names = "--scheme", defaultValue = "plain",
                description = "How updates reach the server: plain, secure (Bonawitz et al.'s masks: the server sees only the sum) or paillier "
                        + "(encrypted; the server adds ciphertexts, the clients decrypt the sum) (default: ${DEFAULT-VALUE}).")
        String scheme;

        @Option(names = "--clip", defaultValue = "0.1", description = "secure and paillier: each delta coordinate clipped to [-clip, clip] before quantising (default: ${DEFAULT-VALUE}).")
        double clip;

        @Option(names = "--key-bits", defaultValue = "2048", description = "paillier: the key size (default: ${DEFAULT-VALUE}).")
        int keyBits;

        /** The simulation's schemes; a Paillier run's clients share one key pair, and the server holds its public half only. */
        private FederatedSimulation.Schemes schemes(int perRound, java.util.List<PaillierAggregation.Client> paillierClients,
                                                    PaillierAggregation.Server[] paillierServer, int parameters) {
            // a Paillier sum waits as long as a round may; secure aggregation's phases share the round: a client
            // missing a phase for a sixth of it counts as dropped, so the five phases end inside the deadline
            java.time.Duration patience = java.time.Duration.ofMillis((long) (server.roundTimeout * 1000));
            java.time.Duration phase = java.time.Duration.ofMillis((long) (Math.max(5, server.roundTimeout / 6) * 1000));
            return switch (scheme) {
                case "plain" -> FederatedSimulation.Schemes.plain();
                case "secure" -> new FederatedSimulation.Schemes(new SecureAggregation(clip, phase), k -> new SecureAggregation(clip, phase));
                case "paillier" -> {
                    var keys = dev.jumbo.privacy.PaillierKeyPair.generate(keyBits, new java.security.SecureRandom());
                    var quantizer = new dev.jumbo.privacy.UpdateQuantizer(clip, perRound);
                    paillierServer[0] = new PaillierAggregation.Server(keys.publicKey(), quantizer, parameters, patience);
                    yield new FederatedSimulation.Schemes(paillierServer[0], k -> {
                        // learns the quantiser from the server's setup, as a separate client process does
                        var c = new PaillierAggregation.Client(keys, "the simulation's key pair", new java.security.SecureRandom());
                        paillierClients.add(c);
                        return c;
                    });
                }
                default -> throw new IllegalArgumentException("unknown --scheme '" + scheme + "': use plain, secure or paillier");
            };
        }

        @Override
        public Integer call() throws Exception {
            Main.banner(spec.commandLine().getErr());
            PrintWriter out = spec.commandLine().getOut();
            if (server.out != null) requireModelFolder(server.out);
            Splits data = server.load();
            Sequential model = server.model(data);
            TensorDataset train = DataOptions.fit(data.train(), model.inputShape()), test = DataOptions.fit(data.test(), model.inputShape());
            if (trainExamples != null) {
                if (trainExamples < clients || trainExamples > train.size())
                    throw new IllegalArgumentException("--train-examples " + trainExamples + " must be between --clients (" + clients + ") and " + train.size());
                train = FederatedSimulation.subset(train, java.util.stream.IntStream.range(0, trainExamples).toArray());
            }
            int k = clientsPerRound == null ? clients : clientsPerRound, m = minClients == null ? (k + 1) / 2 : minClients;
            int kr = killRound == null ? Math.max(1, (server.rounds + 1) / 2) : killRound;
            var eval = server.evaluation(model, test, out);
            out.printf("simulating %d clients (%s, %d examples) with %s: %d rounds of %d clients (at least %d), %d local epochs, lr %s%s%s%n", clients,
                    client.partition, train.size(), server.aggregator, server.rounds, k, m, client.localEpochs, client.lr, client.describe(),
                    kill > 0 ? ", killing " + kill + " in round " + kr : "");
            var paillierClients = java.util.Collections.synchronizedList(new java.util.ArrayList<PaillierAggregation.Client>());
            var paillierServer = new PaillierAggregation.Server[1];
            int parameters = FlatParameters.state(model).length;
            var outcome = FederatedSimulation.run(model, train, server.newAggregator(), server.settings(k, m),
                    new FederatedSimulation.Setup(clients, client.partition, server.seed, client.training(server.seed), kill, kr),
                    schemes(k, paillierClients, paillierServer, parameters), eval);
            if (!outcome.killed().isEmpty()) out.println("killed mid-round: " + String.join(", ", outcome.killed()));
            if (paillierServer[0] != null) {
                long encrypt = 0, decrypt = 0, sent = 0;
                for (var c : paillierClients) {
                    encrypt += c.encryptNanos();
                    decrypt += c.decryptNanos();
                    sent += c.bytesSent();
                }
                int rounds = outcome.rounds().size(), n = Math.max(1, paillierClients.size());
                out.printf(java.util.Locale.ROOT, "paillier (%d-bit keys, %d ciphertexts per update of %d values): per round, encrypting one client's update %.2f s, "
                                + "adding the ciphertexts at the server %.3f s, decrypting the sum %.2f s (each client checks it); %.0f kB sent per client%n",
                        keyBits, paillierServer[0].ciphertextsPerUpdate(), parameters, encrypt / 1e9 / n / rounds, paillierServer[0].aggregateNanos() / 1e9 / rounds,
                        decrypt / 1e9 / n / rounds, sent / 1e3 / n / rounds);
            }
            server.finish(model, outcome.finalWeights(), eval, out);
            return 0;
        }
    }

    /** The server's scheme of {@code --scheme}: its secure phases each get a sixth of the round. */
    static ServerAggregationScheme serverScheme(String scheme, double clip, double roundTimeout) {
        return switch (scheme) {
            case "plain" -> new PlainAggregation();
            case "secure" -> new SecureAggregation(clip, java.time.Duration.ofMillis((long) (Math.max(5, roundTimeout / 6) * 1000)));
            default -> throw new IllegalArgumentException("unknown --scheme '" + scheme + "' for server and client commands: use plain, secure or paillier");
        };
    }

    /**
     * The server's Paillier key from {@code --public-key} (null for the other schemes): a pair file
     * is accepted (its public half is all that is used), with a warning, since the server is the
     * one party that must not be able to decrypt.
     */
    static dev.jumbo.privacy.PaillierPublicKey paillierPublicKey(CommandSpec spec, String scheme, Path publicKey) throws IOException {
        if (!scheme.equals("paillier")) {
            if (publicKey != null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--public-key is for --scheme paillier, not " + scheme);
            return null;
        }
        if (publicKey == null)
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--scheme paillier needs --public-key FILE (paillier-public.json of jumbo federated keygen)");
        PaillierKeyFile file = PaillierKeyFile.read(publicKey);
        if (file.isPrivate())
            spec.commandLine().getErr().println("warning: " + publicKey + " holds the private key too; the server uses only its public half, "
                    + "but the server should not hold the private key (give it " + PaillierKeyFile.PUBLIC_FILE + ")");
        return file.publicKey();
    }

    /** A client's Paillier scheme from {@code --key} (null for the other schemes): the pair, since the clients decrypt the round's sum. */
    static ClientAggregationScheme paillierClient(CommandSpec spec, String scheme, Path key) throws IOException {
        if (!scheme.equals("paillier")) {
            if (key != null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--key is for --scheme paillier, not " + scheme);
            return null;
        }
        if (key == null)
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--scheme paillier needs --key FILE (paillier-private.json of jumbo federated keygen)");
        return new PaillierAggregation.Client(PaillierKeyFile.read(key).requirePair(), key.toString(), new java.security.SecureRandom());
    }

    /** A client's scheme of {@code --scheme}; a secure client learns the clip and its peers from the server's setup. */
    static ClientAggregationScheme clientScheme(String scheme, double phaseTimeout) {
        return switch (scheme) {
            case "plain" -> new PlainAggregation();
            case "secure" -> new SecureAggregation(0.1, java.time.Duration.ofMillis((long) (phaseTimeout * 1000)));
            default -> throw new IllegalArgumentException("unknown --scheme '" + scheme + "' for server and client commands: use plain, secure or paillier");
        };
    }
}
