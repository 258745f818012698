package dev.jumbo.privacy;

import dev.jumbo.kernel.Parallel;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * Packs many quantised values into each Paillier plaintext, so encrypting a model update costs a
 * few hundred ciphertexts instead of one per parameter, and adding ciphertexts adds every slot at
 * once.
 *
 * <p>A value v in {@code [-maxLevel, maxLevel]} (what {@link UpdateQuantizer} produces) is stored
 * as {@code v + maxLevel}, never negative, in a slot of {@link #slotBits()} bits: wide enough that
 * the sum of {@code maxSummands} stored values, at most {@code 2 maxLevel maxSummands}, never
 * carries into the next slot. A plaintext holds {@link #slots()} slots, slot i at bit
 * {@code i * slotBits}, and stays below 2^(keyBits - 1) <= n, so sums never wrap mod n.
 * Decoding a sum of k updates subtracts {@code k maxLevel} from each slot.
 *
 * <pre>{@code
 * var quantizer = new UpdateQuantizer(1.0, 10, 127);              // 8-bit levels
 * var packing = PaillierPacking.of(keys.publicKey(), quantizer);  // 170 slots per 2048-bit plaintext
 * PaillierCiphertext[] sum = packing.encrypt(keys.publicKey(), quantizer.quantize(update0), random);
 * sum = PaillierPacking.add(keys.publicKey(), sum, packing.encrypt(keys.publicKey(), quantizer.quantize(update1), random));
 * int[] total = packing.decryptSum(keys.privateKey(), sum, 2, update0.length);
 * }</pre>
 *
 * @param keyBits the bit length of the key's modulus n
 * @param maxLevel the largest magnitude of a value
 * @param maxSummands the most encrypted updates that may be added before decoding
 */
public record PaillierPacking(int keyBits, int maxLevel, int maxSummands) {
    /** Work of one modular exponentiation, in Parallel's units: far above what pays for a hand-off. */
    private static final long MODPOW_COST = 10_000_000L;

    /** Validates that at least one slot fits and that a slot's sum fits an int once decoded. */
    public PaillierPacking {
        if (maxLevel < 1 || maxSummands < 1 || (long) maxLevel * maxSummands > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("PaillierPacking: need maxLevel >= 1, maxSummands >= 1 and their product "
                    + "<= 2^31 - 1, got " + maxLevel + " and " + maxSummands);
        }
        if (keyBits - 1 < slotBits(maxLevel, maxSummands)) {
            throw new IllegalArgumentException("PaillierPacking: a " + keyBits + "-bit key cannot hold one slot of "
                    + slotBits(maxLevel, maxSummands) + " bits");
        }
    }

    /** The packing for {@code key} and the values {@code quantizer} produces, summed over at most its maxSummands. */
    public static PaillierPacking of(PaillierPublicKey key, UpdateQuantizer quantizer) {
        return new PaillierPacking(key.bits(), quantizer.maxLevel(), quantizer.maxSummands());
    }

    private static int slotBits(int maxLevel, int maxSummands) {
        return 64 - Long.numberOfLeadingZeros(2L * maxLevel * maxSummands);
    }

    /** Bits per slot: the bit length of {@code 2 maxLevel maxSummands}, the largest slot sum. */
    public int slotBits() {
        return slotBits(maxLevel, maxSummands);
    }

    /** Values per plaintext. */
    public int slots() {
        return (keyBits - 1) / slotBits();
    }

    /** How many ciphertexts an update of {@code length} values takes. */
    public int ciphertextsFor(int length) {
        return (length + slots() - 1) / slots();
    }

    /** The plaintexts of {@code values} (each in {@code [-maxLevel, maxLevel]}), slot 0 in the lowest bits. */
    public BigInteger[] pack(int[] values) {
        int slots = slots();
        int slotBits = slotBits();
        BigInteger[] out = new BigInteger[ciphertextsFor(values.length)];
        // little-endian bytes of each plaintext, filled slot by slot, then read as one integer
        byte[] buffer = new byte[(slots * slotBits + 7) / 8 + 1];
        for (int c = 0; c < out.length; c++) {
            java.util.Arrays.fill(buffer, (byte) 0);
            for (int s = 0; s < slots && c * slots + s < values.length; s++) {
                int i = c * slots + s;
                int v = values[i];
                if (v < -maxLevel || v > maxLevel) {
                    throw new IllegalArgumentException(
                            "PaillierPacking: value " + i + " is " + v + ", outside [-" + maxLevel + ", " + maxLevel + "]");
                }
                writeBits(buffer, s * slotBits, (long) v + maxLevel);
            }
            out[c] = new BigInteger(1, reversed(buffer));
        }
        return out;
    }

    /**
     * The exact sums of {@code summands} packed updates from the plaintexts of their encrypted sum;
     * a slot outside what that many updates can add up to (a wrong count, a tampered ciphertext)
     * is refused rather than decoded to a wrong number.
     */
    public int[] unpack(BigInteger[] plaintexts, int summands, int length) {
        if (summands < 1 || summands > maxSummands) {
            throw new IllegalArgumentException(
                    "PaillierPacking: summands must be in [1, " + maxSummands + "], got " + summands);
        }
        if (plaintexts.length != ciphertextsFor(length)) {
            throw new IllegalArgumentException("PaillierPacking: " + plaintexts.length + " plaintexts for " + length
                    + " values, which take " + ciphertextsFor(length));
        }
        int slots = slots();
        int slotBits = slotBits();
        long offset = (long) summands * maxLevel;
        BigInteger slotMask = BigInteger.ONE.shiftLeft(slotBits).subtract(BigInteger.ONE);
        int[] out = new int[length];
        for (int c = 0; c < plaintexts.length; c++) {
            BigInteger m = plaintexts[c];
            int used = Math.min(slots, length - c * slots);
            if (m.signum() < 0 || m.bitLength() > used * slotBits) {
                throw new IllegalArgumentException("PaillierPacking: plaintext " + c + " has " + m.bitLength()
                        + " bits, more than its " + used + " slots of " + slotBits + " hold: not a sum of packed updates");
            }
            for (int s = 0; s < used; s++) {
                long slot = m.shiftRight(s * slotBits).and(slotMask).longValue();
                if (slot > 2 * offset) {
                    throw new IllegalArgumentException("PaillierPacking: slot " + (c * slots + s) + " holds " + slot
                            + ", more than " + summands + " values can add up to");
                }
                out[c * slots + s] = (int) (slot - offset);
            }
        }
        return out;
    }

    /** Packs and encrypts one update, the ciphertexts spread over the engine's compute threads. */
    public PaillierCiphertext[] encrypt(PaillierPublicKey key, int[] values, SecureRandom random) {
        requireKey(key);
        BigInteger[] plain = pack(values);
        PaillierCiphertext[] out = new PaillierCiphertext[plain.length];
        // each is an exponentiation modulo n^2 (milliseconds); SecureRandom is safe to share between threads
        Parallel.forEach(plain.length, MODPOW_COST, i -> out[i] = key.encrypt(plain[i], random));
        return out;
    }

    /** The encrypted sum of two encrypted updates, ciphertext by ciphertext. */
    public static PaillierCiphertext[] add(PaillierPublicKey key, PaillierCiphertext[] a, PaillierCiphertext[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(
                    "PaillierPacking: cannot add " + b.length + " ciphertexts to " + a.length);
        }
        PaillierCiphertext[] out = new PaillierCiphertext[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = key.add(a[i], b[i]);
        }
        return out;
    }

    /** Decrypts the encrypted sum of {@code summands} updates of {@code length} values to their exact integer sums. */
    public int[] decryptSum(PaillierPrivateKey key, PaillierCiphertext[] sum, int summands, int length) {
        requireKey(key.publicKey());
        BigInteger[] plain = new BigInteger[sum.length];
        Parallel.forEach(sum.length, MODPOW_COST, i -> plain[i] = key.decrypt(sum[i]));
        return unpack(plain, summands, length);
    }

    /** The bytes of encrypted update: a count (int32), then each ciphertext big-endian in {@link PaillierPublicKey#ciphertextBytes()} bytes. */
    public static byte[] encode(PaillierPublicKey key, PaillierCiphertext[] ciphertexts) {
        int width = key.ciphertextBytes();
        ByteBuffer out = ByteBuffer.allocate(4 + Math.multiplyExact(width, ciphertexts.length));
        out.putInt(ciphertexts.length);
        for (PaillierCiphertext c : ciphertexts) {
            key.check(c, "a ciphertext");
            out.put(Shamir.toFixedBytes(c.value(), width));
        }
        return out.array();
    }

    /**
     * Reads what {@link #encode} wrote, refusing a length other than {@code expectedCount}
     * ciphertexts and any value that is not a unit below n^2, with a message naming the ciphertext.
     */
    public static PaillierCiphertext[] decode(PaillierPublicKey key, byte[] bytes, int expectedCount) {
        int width = key.ciphertextBytes();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            int count = in.getInt();
            if (count != expectedCount || (long) count * width != in.remaining()) {
                throw new IllegalArgumentException("PaillierPacking: the message holds " + count + " ciphertexts in "
                        + in.remaining() + " bytes; expected " + expectedCount + " of " + width + " bytes");
            }
            PaillierCiphertext[] out = new PaillierCiphertext[count];
            byte[] b = new byte[width];
            for (int i = 0; i < count; i++) {
                in.get(b);
                BigInteger v = new BigInteger(1, b);
                if (v.signum() == 0 || v.compareTo(key.modulusSquared()) >= 0 || !v.gcd(key.modulus()).equals(BigInteger.ONE)) {
                    throw new IllegalArgumentException("PaillierPacking: ciphertext " + i + " is not a unit below n^2");
                }
                out[i] = new PaillierCiphertext(v);
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("PaillierPacking: the message ends early (" + bytes.length + " bytes)");
        }
    }

    private void requireKey(PaillierPublicKey key) {
        if (key.bits() != keyBits) {
            throw new IllegalArgumentException(
                    "PaillierPacking: made for " + keyBits + "-bit keys, given a " + key.bits() + "-bit key");
        }
    }

    /** ORs the low {@code 63} or fewer bits of {@code value} into {@code buffer} (little-endian bits) at {@code bit}. */
    private static void writeBits(byte[] buffer, int bit, long value) {
        for (int done = 0; value != 0; done += 8) {
            int at = bit + done;
            long chunk = (value & 0xFF) << (at & 7);
            buffer[at >>> 3] |= (byte) chunk;
            buffer[(at >>> 3) + 1] |= (byte) (chunk >>> 8);
            value >>>= 8;
        }
    }

    private static byte[] reversed(byte[] littleEndian) {
        byte[] out = new byte[littleEndian.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = littleEndian[littleEndian.length - 1 - i];
        }
        return out;
    }
}
