package dev.jumbo.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jumbo.io.AtomicFiles;
import dev.jumbo.privacy.PaillierKeyPair;
import dev.jumbo.privacy.PaillierPrivateKey;
import dev.jumbo.privacy.PaillierPublicKey;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Paillier key as the federated server and clients read it from disk: the pair (for the clients,
 * who decrypt the round's sum) or the public key alone (for the server, which only adds
 * ciphertexts). One JSON object, numbers in lower-case big-endian hex without sign or prefix:
 *
 * <pre>
 * {"format":"jumbo-paillier","version":1,"bits":2048,"n":"c0ffee...","p":"f00d...","q":"beef..."}
 * </pre>
 *
 * {@code p} and {@code q} are absent from a public file. Reading trusts nothing: the format and
 * version, {@code bits} = n's bit length, sizes within {@link #MIN_BITS}..{@link #MAX_BITS}, and for
 * a pair n = pq with p and q distinct probable primes of half n's length each; a bad file gets an
 * error naming the file and the field. The private file is written owner-only (rw-------) where
 * the file system has POSIX permissions, and both are written atomically.
 *
 * <pre>{@code
 * PaillierKeyPair keys = PaillierKeyPair.generate(2048, new SecureRandom());
 * PaillierKeyFile.writePair(dir.resolve("paillier-private.json"), keys);
 * PaillierKeyFile.writePublic(dir.resolve("paillier-public.json"), keys.publicKey());
 * PaillierKeyPair again = PaillierKeyFile.read(dir.resolve("paillier-private.json")).requirePair();
 * }</pre>
 *
 * @param path where it was read from
 * @param publicKey n
 * @param pair the whole pair, or null for a public file
 */
record PaillierKeyFile(Path path, PaillierPublicKey publicKey, PaillierKeyPair pair) {
    static final String FORMAT = "jumbo-paillier";
    static final int VERSION = 1;
    /** The smallest modulus a file may hold: below it factoring is a matter of hours (keygen warns below 2048). */
    static final int MIN_BITS = 512;
    /** The largest: beyond it a key is no longer a key but a way to make a reader spin. */
    static final int MAX_BITS = 16384;
    static final String PRIVATE_FILE = "paillier-private.json", PUBLIC_FILE = "paillier-public.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HEX = Pattern.compile("[0-9a-f]+");
    // a mistaken probable prime costs a broken key, not a security hole: 2^-100 as PaillierKeyPair.generate
    private static final int PRIME_CERTAINTY = 100;

    /** Whether the file holds the private key too. */
    boolean isPrivate() {
        return pair != null;
    }

    /** The pair, or an error saying this is a public file (a client needs the private key to decrypt). */
    PaillierKeyPair requirePair() {
        if (pair == null)
            throw new IllegalArgumentException("Paillier key file " + path + " holds the public key only; a client needs the pair (" + PRIVATE_FILE + " from jumbo federated keygen)");
        return pair;
    }

    /** Writes the pair (n, p, q) owner-only, atomically. */
    static void writePair(Path file, PaillierKeyPair keys) throws IOException {
        Map<String, Object> o = header(keys.publicKey());
        o.put("p", keys.privateKey().p().toString(16));
        o.put("q", keys.privateKey().q().toString(16));
        AtomicFiles.writeOwnerOnly(file, out -> out.write(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o)));
    }

    /** Writes the public key (n) alone, atomically. */
    static void writePublic(Path file, PaillierPublicKey key) throws IOException {
        AtomicFiles.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(header(key)) + "\n");
    }

    private static Map<String, Object> header(PaillierPublicKey key) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("bits", key.bits());
        o.put("n", key.modulus().toString(16));
        return o;
    }

    /** Reads and checks a pair or a public file. */
    static PaillierKeyFile read(Path file) throws IOException {
        byte[] bytes;
        try {
            if (Files.size(file) > 64 * 1024) throw bad(file, null, "is " + Files.size(file) + " bytes, too large for a key file");
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("Paillier key file " + file + " does not exist");
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw bad(file, null, "is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw bad(file, null, "is not a JSON object");
        String format = text(file, root, "format");
        if (!format.equals(FORMAT)) throw bad(file, "format", "is '" + format + "', expected '" + FORMAT + "'");
        JsonNode version = required(file, root, "version");
        if (!version.isInt() || version.intValue() != VERSION) throw bad(file, "version", "is " + version + ", this reader knows version " + VERSION);
        JsonNode bitsNode = required(file, root, "bits");
        if (!bitsNode.isInt()) throw bad(file, "bits", "is " + bitsNode + ", not an integer");
        int bits = bitsNode.intValue();
        if (bits < MIN_BITS || bits > MAX_BITS || bits % 2 != 0)
            throw bad(file, "bits", "is " + bits + ": a key file holds an even size from " + MIN_BITS + " to " + MAX_BITS + " bits");
        BigInteger n = hex(file, root, "n", bits);
        if (n.bitLength() != bits) throw bad(file, "n", "has " + n.bitLength() + " bits but \"bits\" says " + bits + " (truncated?)");
        if (!n.testBit(0)) throw bad(file, "n", "is even: not a product of two odd primes");
        boolean hasP = root.has("p"), hasQ = root.has("q");
        if (!hasP && !hasQ) return new PaillierKeyFile(file, new PaillierPublicKey(n), null);
        if (!hasP || !hasQ) throw bad(file, hasP ? "q" : "p", "is missing: a key pair needs both p and q");
        BigInteger p = hex(file, root, "p", bits / 2), q = hex(file, root, "q", bits / 2);
        checkPrime(file, "p", p, bits);
        checkPrime(file, "q", q, bits);
        if (p.equals(q)) throw bad(file, "q", "equals p: the primes must be distinct");
        if (!p.multiply(q).equals(n)) throw bad(file, "n", "is not p * q: the file's numbers do not belong to one key");
        // the g = n + 1 variant needs gcd(n, (p-1)(q-1)) = 1; equal lengths make it so, checked anyway as generate does
        if (!n.gcd(p.subtract(BigInteger.ONE).multiply(q.subtract(BigInteger.ONE))).equals(BigInteger.ONE))
            throw bad(file, "n", "shares a factor with (p-1)(q-1): not a valid Paillier modulus");
        PaillierPrivateKey privateKey = new PaillierPrivateKey(p, q);
        return new PaillierKeyFile(file, privateKey.publicKey(), new PaillierKeyPair(privateKey.publicKey(), privateKey));
    }

    private static void checkPrime(Path file, String field, BigInteger prime, int bits) {
        if (prime.bitLength() != bits / 2)
            throw bad(file, field, "has " + prime.bitLength() + " bits, expected " + bits / 2 + " (half of n's " + bits + "; truncated?)");
        if (!prime.isProbablePrime(PRIME_CERTAINTY)) throw bad(file, field, "is not prime");
    }

    private static JsonNode required(Path file, JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) throw bad(file, field, "is missing");
        return v;
    }

    private static String text(Path file, JsonNode root, String field) {
        JsonNode v = required(file, root, field);
        if (!v.isTextual()) throw bad(file, field, "is " + v + ", not a string");
        return v.textValue();
    }

    /** A hex field of at most {@code bits} bits (the length is checked exactly by the caller). */
    private static BigInteger hex(Path file, JsonNode root, String field, int bits) {
        String s = text(file, root, field);
        if (s.length() > bits / 4 + 1) throw bad(file, field, "has " + s.length() + " hex digits, more than a " + bits + "-bit number needs");
        if (!HEX.matcher(s).matches()) throw bad(file, field, "is not lower-case hexadecimal digits (no sign, no 0x)");
        return new BigInteger(s, 16);
    }

    private static IllegalArgumentException bad(Path file, String field, String problem) {
        return new IllegalArgumentException("Paillier key file " + file + (field == null ? " " : ": field \"" + field + "\" ") + problem);
    }
}
