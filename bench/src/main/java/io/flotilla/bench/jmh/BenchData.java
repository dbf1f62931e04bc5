package io.flotilla.bench.jmh;

import com.google.protobuf.ByteString;
import io.flotilla.bench.load.KeySpace;
import io.flotilla.proto.Command;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/** Keys, values and commands shaped like the load generator's: 10,000 keys, 1 KB random values, one range. */
final class BenchData {
  static final int KEYS = 10_000;
  static final long RANGE_ID = 1;
  static final RangeEpoch EPOCH = RangeEpoch.newBuilder().setVersion(1).setConf(1).build();
  /** One range over the whole key space, as a fresh single-range cluster has. */
  static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(RANGE_ID).setEpoch(EPOCH)
      .addReplicas("n1").addReplicas("n2").addReplicas("n3").build();

  private BenchData() {}

  static byte[] key(int i) {
    return KeySpace.keyOf(i).getBytes(StandardCharsets.UTF_8);
  }

  static byte[] value(int size) {
    byte[] value = new byte[size];
    new SplittableRandom(42).nextBytes(value);
    return value;
  }

  /** The put a node proposes for an unconditional {@code PUT /v1/kv/{key}}. */
  static Command put(byte[] key, byte[] value) {
    return Command.newBuilder().setRangeId(RANGE_ID).setEpoch(EPOCH).setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(value)))
        .build();
  }
}
