package io.flotilla.statemachine;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A data entry as stored: a header (format, version, expiry) followed by the user's value.
 *
 * @param version the range revision at which the key was last written (never reused)
 * @param expiresAtMillis wall-clock expiry decided at proposal time, 0 = never
 */
public record StoredValue(long version, long expiresAtMillis, byte[] value) {
  private static final byte FORMAT_V1 = 1;
  private static final int HEADER = 1 + 8 + 8;

  public byte[] encode() {
    return ByteBuffer.allocate(HEADER + value.length)
        .put(FORMAT_V1).putLong(version).putLong(expiresAtMillis).put(value).array();
  }

  public static StoredValue decode(byte[] stored) {
    checkHeader(stored);
    ByteBuffer b = ByteBuffer.wrap(stored);
    b.get();
    long version = b.getLong();
    long expires = b.getLong();
    return new StoredValue(version, expires, Arrays.copyOfRange(stored, HEADER, stored.length));
  }

  /** The version of a stored entry, read from its header without copying the value. */
  public static long peekVersion(byte[] stored) {
    checkHeader(stored);
    return ByteBuffer.wrap(stored, 1, 8).getLong();
  }

  /** The expiry of a stored entry (0 = never), read from its header without copying the value. */
  public static long peekExpiresAt(byte[] stored) {
    checkHeader(stored);
    return ByteBuffer.wrap(stored, 9, 8).getLong();
  }

  /**
   * The user's value of a stored entry as a view of {@code stored}, not a copy: a read's value
   * was copied once already, out of the engine, and two more copies of a 1 KB value were about
   * a seventh of what a read allocated. Engines never change an array once they returned it
   * ({@link KvReader#get}), and the caller hands {@code stored} over.
   */
  public static ByteString valueOf(byte[] stored) {
    checkHeader(stored);
    return UnsafeByteOperations.unsafeWrap(stored, HEADER, stored.length - HEADER);
  }

  private static void checkHeader(byte[] stored) {
    if (stored.length < HEADER || stored[0] != FORMAT_V1) {
      throw new IllegalStateException("corrupt stored value (format " + (stored.length == 0 ? -1 : stored[0]) + ")");
    }
  }

  /** True when the key has expired at {@code nowMillis}; such a key is treated as absent. */
  public boolean expiredAt(long nowMillis) {
    return expired(expiresAtMillis, nowMillis);
  }

  /** True when an entry expiring at {@code expiresAtMillis} (0 = never) has expired at {@code nowMillis}. */
  public static boolean expired(long expiresAtMillis, long nowMillis) {
    return expiresAtMillis != 0 && expiresAtMillis <= nowMillis;
  }
}
