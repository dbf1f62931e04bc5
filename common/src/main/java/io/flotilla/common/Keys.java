package io.flotilla.common;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/** Key ordering and spans. Keys order as unsigned bytes, which for UTF-8 is code-point order. */
public final class Keys {
  /** Orders keys as RocksDB's default bytewise comparator does. */
  public static final Comparator<byte[]> ORDER = Arrays::compareUnsigned;

  /**
   * A key above every valid key: keys are UTF-8, in which byte 0xff never occurs. Use it as
   * the exclusive end of "to +infinity" spans where an engine needs a concrete bound.
   */
  public static final byte[] END_OF_KEYSPACE = {(byte) 0xff};

  private Keys() {}

  public static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  /** True when key lies in [start, end); an empty end means +infinity. */
  public static boolean inSpan(byte[] key, byte[] start, byte[] end) {
    return compare(key, start) >= 0 && (end.length == 0 || compare(key, end) < 0);
  }

  /** The smallest key greater than every key with this prefix, or empty (+infinity) if none. */
  public static byte[] prefixEnd(byte[] prefix) {
    byte[] end = Arrays.copyOf(prefix, prefix.length);
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xff) {
        end[i]++;
        return Arrays.copyOf(end, i + 1);
      }
    }
    return new byte[0];
  }

  /** The larger of two span starts. */
  public static byte[] maxStart(byte[] a, byte[] b) {
    return compare(a, b) >= 0 ? a : b;
  }

  /** The smaller of two span ends, where empty means +infinity. */
  public static byte[] minEnd(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    return compare(a, b) <= 0 ? a : b;
  }

  /** Strictly decodes UTF-8; malformed input is an {@code invalid_argument} error. */
  public static String decodeUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new FlotillaException(ErrorCode.INVALID_ARGUMENT, "key is not valid UTF-8");
    }
  }

  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
