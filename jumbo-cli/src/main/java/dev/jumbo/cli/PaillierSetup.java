package dev.jumbo.cli;

import dev.jumbo.federated.ClientAggregationScheme;
import dev.jumbo.federated.Contribution;
import dev.jumbo.federated.PaillierAggregation;
import dev.jumbo.federated.ServerAggregationScheme;
import dev.jumbo.privacy.PaillierKeyPair;
import dev.jumbo.privacy.PaillierPublicKey;
import dev.jumbo.privacy.UpdateQuantizer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.math.BigInteger;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;

/**
 * Paillier aggregation between separate processes ({@code jumbo federated server|client --scheme
 * paillier}). In {@code simulate} one process builds the quantiser and hands it to both halves of
 * {@link PaillierAggregation}; a client process has neither the server's {@code --clip} nor its
 * clients per round, and both must match exactly, or the server decodes the sum on another grid
 * than the clients quantised it on (a wrong model, silently). So, as secure aggregation's setup
 * tells clients the clip, the server here answers one more phase, {@code "paillier-setup"},
 * with its quantiser and public key; a client asks once, before its first update, builds its
 * {@link PaillierAggregation.Client} from the answer, and refuses to go on if the server's public
 * key is not the one in its key file (its ciphertexts would not add up under the server's key).
 *
 * <p>The reply: clip (float64), maxSummands (int32), maxLevel (int32), the length of n's
 * big-endian bytes (int32), those bytes.
 */
final class PaillierSetup {
    static final String PHASE = "paillier-setup";

    private PaillierSetup() {}

    /** The server's half: {@link PaillierAggregation.Server}, plus the setup phase. */
    static final class Server implements ServerAggregationScheme {
        private final PaillierAggregation.Server inner;
        private final byte[] setup;

        Server(PaillierPublicKey key, UpdateQuantizer quantizer, int parameterCount, Duration patience) {
            this.inner = new PaillierAggregation.Server(key, quantizer, parameterCount, patience);
            byte[] n = key.modulus().toByteArray();
            this.setup = ByteBuffer.allocate(8 + 4 + 4 + 4 + n.length).putDouble(quantizer.clip()).putInt(quantizer.maxSummands())
                    .putInt(quantizer.maxLevel()).putInt(n.length).put(n).array();
        }

        PaillierAggregation.Server inner() {
            return inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public void roundStarted(int round, List<String> sampled, int length) {
            inner.roundStarted(round, sampled, length);
        }

        @Override
        public byte[] onPhase(int round, String phase, String clientId, byte[] payload) {
            if (!phase.equals(PHASE)) return inner.onPhase(round, phase, clientId, payload);
            if (payload.length != 0) throw new IllegalArgumentException("client '" + clientId + "': the " + PHASE + " message must be empty, got " + payload.length + " bytes");
            return setup.clone();
        }

        @Override
        public float[] combine(int round, List<String> sampled, List<Contribution> contributions, int length) {
            return inner.combine(round, sampled, contributions, length);
        }
    }

    /** The client's half: asks the server's setup once, then is a {@link PaillierAggregation.Client}. */
    static final class Client implements ClientAggregationScheme {
        private final PaillierKeyPair keys;
        private final String keyFile;
        private volatile PaillierAggregation.Client inner;

        /** @param keyFile where {@code keys} came from, named in errors */
        Client(PaillierKeyPair keys, String keyFile) {
            this.keys = keys;
            this.keyFile = keyFile;
        }

        @Override
        public String name() {
            return PaillierAggregation.NAME;
        }

        @Override
        public float[] encode(int round, float[] delta, long examples, PhaseChannel channel) {
            if (inner == null) {
                byte[] reply;
                try {
                    reply = channel.exchange(round, PHASE, new byte[0]);
                } catch (StatusRuntimeException e) {
                    // the round closed without us, as PaillierAggregation.Client treats it: the zeros' SubmitUpdate is refused as late
                    if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) throw e;
                    return new float[delta.length];
                }
                inner = new PaillierAggregation.Client(keys, quantizer(reply), new SecureRandom());
            }
            return inner.encode(round, delta, examples, channel);
        }

        /** The server's quantiser, after checking its key is ours. */
        UpdateQuantizer quantizer(byte[] reply) {
            try {
                ByteBuffer in = ByteBuffer.wrap(reply);
                double clip = in.getDouble();
                int maxSummands = in.getInt(), maxLevel = in.getInt(), length = in.getInt();
                if (length < 1 || length != in.remaining())
                    throw new IllegalArgumentException("the server's " + PHASE + " reply says its modulus has " + length + " bytes but " + in.remaining() + " follow");
                byte[] n = new byte[length];
                in.get(n);
                BigInteger modulus = new BigInteger(n);
                if (!modulus.equals(keys.publicKey().modulus()))
                    throw new IllegalArgumentException("the server's Paillier public key (" + modulus.bitLength() + " bits) is not the one in " + keyFile
                            + " (" + keys.publicKey().bits() + " bits): give the server the paillier-public.json written with this key pair");
                return new UpdateQuantizer(clip, maxSummands, maxLevel);
            } catch (BufferUnderflowException e) {
                throw new IllegalArgumentException("the server's " + PHASE + " reply ends early (" + reply.length + " bytes)");
            }
        }

        /** Waits for this client's decryptions (see {@link PaillierAggregation.Client#awaitDecryptions}). */
        void awaitDecryptions(Duration timeout) throws InterruptedException {
            if (inner != null) inner.awaitDecryptions(timeout);
        }
    }
}
