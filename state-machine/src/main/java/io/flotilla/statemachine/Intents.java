package io.flotilla.statemachine;

import com.google.protobuf.InvalidProtocolBufferException;
import io.flotilla.proto.Intent;

/** Decoding of the LOCKS column family's values. */
public final class Intents {
  private Intents() {}

  public static Intent decode(byte[] stored) {
    try {
      return Intent.parseFrom(stored);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt transaction intent in the locks column family", e);
    }
  }

  /** True when this intent is its transaction's record (the anchor key's intent). */
  public static boolean isRecord(Intent intent) {
    return intent.getKey().equals(intent.getAnchorKey());
  }
}
