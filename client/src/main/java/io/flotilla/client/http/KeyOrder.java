package io.flotilla.client.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key space's order: keys compare as unsigned UTF-8 bytes (which is code point order, not
 * Java's UTF-16 {@code String} order). An empty array stands for "unbounded" as a span's end.
 */
final class KeyOrder {
  static final byte[] NONE = new byte[0];

  private KeyOrder() {}

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  /** The smallest key after {@code key}: key + U+0000. */
  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /** Whether {@code position} lies at or beyond the exclusive {@code end} (empty end: never). */
  static boolean atOrAfterEnd(byte[] position, byte[] end) {
    return end.length != 0 && compare(position, end) >= 0;
  }

  /**
   * The smallest string greater than every string starting with {@code prefix}, computed on code
   * points so the result is valid UTF-8 (a byte-wise increment may not be); null when there is
   * none (empty prefix, or only U+10FFFF code points).
   */
  static String prefixEnd(String prefix) {
    int[] cps = prefix.codePoints().toArray();
    for (int i = cps.length - 1; i >= 0; i--) {
      int next = cps[i] + 1;
      if (next == Character.MIN_SURROGATE) {
        next = Character.MAX_SURROGATE + 1; // surrogates are not characters; UTF-8 skips them too
      }
      if (next <= Character.MAX_CODE_POINT) {
        cps[i] = next;
        return new String(cps, 0, i + 1);
      }
    }
    return null;
  }
}
