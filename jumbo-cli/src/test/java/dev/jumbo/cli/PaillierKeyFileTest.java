package dev.jumbo.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jumbo.privacy.PaillierKeyPair;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Paillier key files: a written key reads back as the same key, and every malformed file is refused by name. */
class PaillierKeyFileTest {
    @TempDir
    static Path tmp;
    static PaillierKeyPair keys, other;
    static final SecureRandom RANDOM = new SecureRandom();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void generate() {
        keys = PaillierKeyPair.generate(512, RANDOM);
        other = PaillierKeyPair.generate(512, RANDOM);
    }

    @Test
    void pairAndPublicKeyReadBackAsTheSameKey() throws Exception {
        Path pairFile = tmp.resolve("rt-private.json"), publicFile = tmp.resolve("rt-public.json");
        PaillierKeyFile.writePair(pairFile, keys);
        PaillierKeyFile.writePublic(publicFile, keys.publicKey());
        PaillierKeyFile pair = PaillierKeyFile.read(pairFile), pub = PaillierKeyFile.read(publicFile);
        assertThat(pair.isPrivate()).isTrue();
        assertThat(pub.isPrivate()).isFalse();
        assertThat(pair.publicKey().modulus()).isEqualTo(keys.publicKey().modulus());
        assertThat(pub.publicKey()).isEqualTo(keys.publicKey());
        assertThat(pair.requirePair().privateKey().p()).isEqualTo(keys.privateKey().p());
        assertThat(pair.requirePair().privateKey().q()).isEqualTo(keys.privateKey().q());
        // encrypt with the public key read back, add, decrypt with the pair read back
        BigInteger a = new BigInteger(200, RANDOM), b = new BigInteger(200, RANDOM);
        var sum = pub.publicKey().add(pub.publicKey().encrypt(a, RANDOM), pub.publicKey().encrypt(b, RANDOM));
        assertThat(pair.requirePair().privateKey().decrypt(sum)).isEqualTo(a.add(b));
        // and across: the original private key decrypts what the read-back public key encrypted
        assertThat(keys.privateKey().decrypt(pub.publicKey().encrypt(a, RANDOM))).isEqualTo(a);
        assertThat(Files.readString(publicFile)).doesNotContain("\"p\"").doesNotContain("\"q\"");
        assertThatThrownBy(pub::requirePair).hasMessageContaining("public key only").hasMessageContaining(publicFile.toString());
    }

    @Test
    void thePrivateFileIsOwnerOnly() throws Exception {
        Path pairFile = tmp.resolve("perm-private.json");
        PaillierKeyFile.writePair(pairFile, keys);
        if (pairFile.getFileSystem().supportedFileAttributeViews().contains("posix"))
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pairFile))).isEqualTo("rw-------");
        // no temporary file left beside it
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void badJsonIsNamed() throws Exception {
        Path f = tmp.resolve("bad.json");
        Files.writeString(f, "{\"format\":\"jumbo-paillier\",\"version\":1,");
        assertThatThrownBy(() -> PaillierKeyFile.read(f)).hasMessageContaining(f.toString()).hasMessageContaining("not valid JSON");
        Files.writeString(f, "[1, 2]");
        assertThatThrownBy(() -> PaillierKeyFile.read(f)).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> PaillierKeyFile.read(tmp.resolve("absent.json"))).hasMessageContaining("absent.json").hasMessageContaining("does not exist");
    }

    @Test
    void wrongFormatOrVersionIsNamed() throws Exception {
        assertRefused("format", o -> o.put("format", "pem"), "\"format\" is 'pem'");
        assertRefused("version", o -> o.put("version", 2), "\"version\" is 2");
        assertRefused("bits", o -> o.put("bits", 256), "\"bits\" is 256");
        assertRefused("bits-text", o -> o.put("bits", "512"), "\"bits\" is \"512\"");
    }

    @Test
    void aModulusThatIsNotPTimesQIsNamed() throws Exception {
        assertRefused("n-other", o -> o.put("n", other.publicKey().modulus().toString(16)), "\"n\" is not p * q");
        // p and q of two different keys: both prime, the right lengths, and still not this n
        assertRefused("q-other", o -> o.put("q", other.privateKey().q().toString(16)), "\"n\" is not p * q");
        assertRefused("p-even", o -> o.put("p", keys.privateKey().p().add(BigInteger.ONE).toString(16)), "\"p\" is not prime");
        assertRefused("q-is-p", o -> o.put("q", keys.privateKey().p().toString(16)), "\"q\" equals p");
    }

    @Test
    void aMissingFieldIsNamed() throws Exception {
        for (String field : new String[] {"format", "version", "bits", "n"})
            assertRefused("missing-" + field, o -> o.remove(field), "\"" + field + "\" is missing");
        assertRefused("missing-q", o -> o.remove("q"), "\"q\" is missing");
        assertRefused("missing-p", o -> o.remove("p"), "\"p\" is missing");
    }

    @Test
    void truncatedOrMalformedHexIsNamed() throws Exception {
        String n = keys.publicKey().modulus().toString(16), p = keys.privateKey().p().toString(16);
        assertRefused("n-cut", o -> o.put("n", n.substring(0, n.length() - 1)), "\"n\" has 508 bits but \"bits\" says 512");
        assertRefused("p-cut", o -> o.put("p", p.substring(0, p.length() - 2)), "\"p\" has ");
        assertRefused("n-upper", o -> o.put("n", n.toUpperCase()), "\"n\" is not lower-case hexadecimal");
        assertRefused("n-0x", o -> o.put("n", "0x" + n.substring(2)), "\"n\" is not lower-case hexadecimal");
        assertRefused("n-long", o -> o.put("n", n + n), "\"n\" has 256 hex digits");
        assertRefused("n-number", o -> o.put("n", 12345), "\"n\" is 12345, not a string");
        // a public file's truncated n is caught too
        assertRefused("pub-n-cut", o -> {
            o.remove("p");
            o.remove("q");
            o.put("n", n.substring(0, n.length() - 1));
        }, "\"n\" has 508 bits");
    }

    /** Writes the good pair file, breaks it with {@code edit}, and expects the file's name and {@code message} in the error. */
    private static void assertRefused(String name, Consumer<ObjectNode> edit, String message) throws Exception {
        Path good = tmp.resolve("good-" + name + ".json"), bad = tmp.resolve("broken-" + name + ".json");
        PaillierKeyFile.writePair(good, keys);
        ObjectNode o = (ObjectNode) JSON.readTree(good.toFile());
        edit.accept(o);
        Files.writeString(bad, JSON.writeValueAsString(o));
        assertThatThrownBy(() -> PaillierKeyFile.read(bad)).as(name).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(bad.toString()).hasMessageContaining(message);
    }
}
