package dev.jumbo.cli;

import dev.jumbo.privacy.PaillierKeyPair;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code jumbo federated keygen}: the Paillier key pair that {@code federated server|client
 * --scheme paillier} need when they run as separate processes. It writes two files (see
 * {@link PaillierKeyFile}): {@code paillier-private.json}, the pair, to be copied to every client
 * (owner-only permissions), and {@code paillier-public.json}, for the server, which adds
 * ciphertexts but must not be able to decrypt them.
 *
 * <pre>
 * jumbo federated keygen --out keys
 * jumbo federated server ... --scheme paillier --public-key keys/paillier-public.json
 * jumbo federated client ... --scheme paillier --key keys/paillier-private.json
 * </pre>
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = {"Write a Paillier key pair for federated server and client --scheme paillier: paillier-private.json (the pair, for the clients) "
                + "and paillier-public.json (for the server).",
                "Example: jumbo federated keygen --out keys --bits 2048"})
final class FederatedKeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the two key files into (created if absent).")
    Path out;

    @Option(names = "--bits", defaultValue = "2048", description = "Bits of the modulus n, even, " + PaillierKeyFile.MIN_BITS + " or more; "
            + "below 2048 only for tests (default: ${DEFAULT-VALUE}).")
    int bits;

    @Option(names = "--force", description = "Replace key files already in --out.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (bits < PaillierKeyFile.MIN_BITS || bits > PaillierKeyFile.MAX_BITS || bits % 2 != 0)
            throw new ParameterException(spec.commandLine(), "--bits " + bits + " is not a key size: use an even number from "
                    + PaillierKeyFile.MIN_BITS + " to " + PaillierKeyFile.MAX_BITS + " (2048 or more outside tests)");
        Path privateFile = out.resolve(PaillierKeyFile.PRIVATE_FILE), publicFile = out.resolve(PaillierKeyFile.PUBLIC_FILE);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + " is a file, not a folder");
        if (!force) {
            for (Path f : new Path[] {privateFile, publicFile})
                if (Files.exists(f, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    throw new IllegalArgumentException(f + " already exists: replacing it would strand the clients or the server holding the old key "
                            + "(--force to replace it)");
        }
        if (bits < 2048)
            err.println("warning: " + bits + "-bit Paillier keys can be factored (NIST gives 2048-bit ones 112-bit security): use them for tests only");
        PaillierKeyPair keys = PaillierKeyPair.generate(bits, new SecureRandom());
        Files.createDirectories(out);
        // the private file first: a run cut short between the two leaves no public key without its pair
        PaillierKeyFile.writePair(privateFile, keys);
        PaillierKeyFile.writePublic(publicFile, keys.publicKey());
        stdout.printf("wrote a %d-bit Paillier key pair:%n  %s  (the pair: copy it to every client, keep it from the server)%n  %s  (the public key: for the server)%n",
                keys.publicKey().bits(), privateFile, publicFile);
        return 0;
    }
}
