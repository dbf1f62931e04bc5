package io.flotilla.statemachine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Keys of the meta column family. Fixed-width big-endian ids keep them ordered by range id. */
public final class MetaKeys {
  private static final byte[] DESCRIPTOR = "range/".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STATE = "state/".getBytes(StandardCharsets.US_ASCII);
  /** Node-level facts (bootstrap marker, node identity). */
  public static final byte[] NODE_PREFIX = "node/".getBytes(StandardCharsets.US_ASCII);

  private MetaKeys() {}

  public static byte[] descriptor(long rangeId) {
    return withId(DESCRIPTOR, rangeId);
  }

  public static byte[] state(long rangeId) {
    return withId(STATE, rangeId);
  }

  public static byte[] descriptorPrefix() {
    return DESCRIPTOR.clone();
  }

  public static byte[] node(String name) {
    return (new String(NODE_PREFIX, StandardCharsets.US_ASCII) + name).getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] withId(byte[] prefix, long id) {
    return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(id).array();
  }
}
