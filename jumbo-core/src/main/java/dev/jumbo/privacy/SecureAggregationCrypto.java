package dev.jumbo.privacy;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.XECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The primitives secure aggregation is built from, all from the JDK's providers: X25519 key
 * agreement, HKDF-SHA256 (RFC 5869) to turn an agreed secret into a key, AES-256-CTR as the
 * pseudo-random generator that expands a 32-byte seed into a mask vector mod 2^32, and AES-256-GCM
 * to encrypt Shamir shares from one client to another through the server.
 */
final class SecureAggregationCrypto {
    /** Bytes of an X25519 private scalar, of a seed and of a derived key. */
    static final int KEY_BYTES = 32;
    /** Bytes of an X25519 public key in its X.509 encoding (12 bytes of header, 32 of u). */
    static final int PUBLIC_KEY_BYTES = 44;

    private static final int GCM_NONCE_BYTES = 12;
    private static final int GCM_TAG_BITS = 128;
    /** A throwaway pair whose agreements test that a peer's public key is usable. */
    private static final KeyPair SMALL_ORDER_PROBE = newKeyPair(new SecureRandom());

    private SecureAggregationCrypto() {}

    static KeyPair newKeyPair(SecureRandom random) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("X25519");
            generator.initialize(NamedParameterSpec.X25519, random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no X25519 key pair generator", e);
        }
    }

    static byte[] encodePublicKey(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (encoded.length != PUBLIC_KEY_BYTES) {
            throw new IllegalStateException("an X25519 public key encoded to " + encoded.length + " bytes, not 44");
        }
        return encoded;
    }

    static PublicKey decodePublicKey(byte[] encoded, String what) {
        if (encoded.length != PUBLIC_KEY_BYTES) {
            throw new SecureAggregationException(what + " is " + encoded.length + " bytes, not an X25519 public key's 44");
        }
        try {
            return KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(encoded));
        } catch (GeneralSecurityException e) {
            throw new SecureAggregationException(what + " is not an X25519 public key: " + e.getMessage());
        }
    }

    /**
     * Refuses a public key whose agreements are all zero (a point of small order, such as u = 0
     * or 1), which the JDK's X25519 rejects at agreement time: one client advertising such a key
     * would otherwise make every honest client's share encryption fail, stopping the round.
     */
    static void requireUsable(PublicKey key, String what) {
        try {
            rawAgreement(SMALL_ORDER_PROBE.getPrivate(), key);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new SecureAggregationException(what + " is an X25519 key no agreement can use (a point of small order)");
        }
    }

    /** The 32-byte scalar of a private key: what gets secret-shared so the server can recover a dropped client's masks. */
    static byte[] privateScalar(PrivateKey key) {
        return ((XECPrivateKey) key)
                .getScalar()
                .orElseThrow(() -> new IllegalStateException("the X25519 private key does not expose its scalar"));
    }

    static PrivateKey privateKey(byte[] scalar) {
        try {
            return KeyFactory.getInstance("X25519")
                    .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone()));
        } catch (GeneralSecurityException e) {
            throw new SecureAggregationException("not an X25519 private scalar: " + e.getMessage());
        }
    }

    /**
     * The public key of a private scalar: X25519(k, 9), the agreement with the curve's base point.
     * The server uses it to check a reconstructed masking key against the one the client advertised.
     */
    static byte[] publicKeyOf(byte[] scalar) {
        try {
            PublicKey base = KeyFactory.getInstance("X25519")
                    .generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, BigInteger.valueOf(9)));
            byte[] u = rawAgreement(privateKey(scalar), base);
            // the X.509 header of an X25519 key followed by u, little-endian as RFC 7748 writes it
            byte[] header = encodePublicKey(base);
            byte[] out = Arrays.copyOf(header, PUBLIC_KEY_BYTES);
            System.arraycopy(u, 0, out, PUBLIC_KEY_BYTES - KEY_BYTES, KEY_BYTES);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("X25519 is not available", e);
        }
    }

    /** HKDF-SHA256 of the X25519 agreement between {@code mine} and {@code theirs}, bound to a purpose and round. */
    static byte[] agreedKey(PrivateKey mine, PublicKey theirs, String purpose, long round) {
        try {
            byte[] shared = rawAgreement(mine, theirs);
            byte[] info = (purpose + " round " + round).getBytes(StandardCharsets.UTF_8);
            return hkdf(shared, "jumbo secure aggregation".getBytes(StandardCharsets.UTF_8), info, KEY_BYTES);
        } catch (GeneralSecurityException e) {
            throw new SecureAggregationException("X25519 agreement failed: " + e.getMessage());
        }
    }

    private static byte[] rawAgreement(PrivateKey mine, PublicKey theirs) throws GeneralSecurityException {
        KeyAgreement agreement = KeyAgreement.getInstance("X25519");
        agreement.init(mine);
        agreement.doPhase(theirs, true);
        return agreement.generateSecret();
    }

    /** RFC 5869: PRK = HMAC(salt, ikm); T(i) = HMAC(PRK, T(i-1) | info | i); the first {@code length} bytes of T(1) T(2) ... */
    static byte[] hkdf(byte[] ikm, byte[] salt, byte[] info, int length) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(salt.length == 0 ? new byte[32] : salt, "HmacSHA256"));
            byte[] prk = mac.doFinal(ikm);
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            byte[] out = new byte[length];
            byte[] previous = new byte[0];
            for (int filled = 0, counter = 1; filled < length; counter++) {
                mac.update(previous);
                mac.update(info);
                mac.update((byte) counter);
                previous = mac.doFinal();
                int n = Math.min(previous.length, length - filled);
                System.arraycopy(previous, 0, out, filled, n);
                filled += n;
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** {@code length} pseudo-random ints (uniform mod 2^32) from a 32-byte seed: AES-256-CTR over zeros. */
    static int[] expand(byte[] seed, int length) {
        try {
            Cipher cipher = Cipher.getInstance("AES/CTR/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(seed, "AES"), new IvParameterSpec(new byte[16]));
            byte[] stream = cipher.doFinal(new byte[Math.multiplyExact(length, 4)]);
            IntBuffer ints = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
            int[] out = new int[length];
            ints.get(out);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR is not available", e);
        }
    }

    /** AES-256-GCM with a fresh random nonce; the output is nonce then ciphertext and tag. */
    static byte[] seal(byte[] key, byte[] plaintext, byte[] associatedData, SecureRandom random) {
        try {
            byte[] nonce = new byte[GCM_NONCE_BYTES];
            random.nextBytes(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(GCM_TAG_BITS, nonce));
            cipher.updateAAD(associatedData);
            byte[] sealed = cipher.doFinal(plaintext);
            byte[] out = Arrays.copyOf(nonce, GCM_NONCE_BYTES + sealed.length);
            System.arraycopy(sealed, 0, out, GCM_NONCE_BYTES, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is not available", e);
        }
    }

    /** Opens what {@link #seal} made; a wrong key, tampered bytes or other associated data fail with a clear error. */
    static byte[] open(byte[] key, byte[] sealed, byte[] associatedData, String what) {
        if (sealed.length < GCM_NONCE_BYTES + GCM_TAG_BITS / 8) {
            throw new SecureAggregationException(what + " is " + sealed.length + " bytes, too short for AES-GCM");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(
                    Cipher.DECRYPT_MODE,
                    new SecretKeySpec(key, "AES"),
                    new GCMParameterSpec(GCM_TAG_BITS, sealed, 0, GCM_NONCE_BYTES));
            cipher.updateAAD(associatedData);
            return cipher.doFinal(sealed, GCM_NONCE_BYTES, sealed.length - GCM_NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new SecureAggregationException(what + " does not authenticate (tampered, or not encrypted to this client)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is not available", e);
        }
    }
}
