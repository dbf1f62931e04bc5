package io.flotilla.api.service;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;

/**
 * Opaque scan cursors: base64url of (format, direction, position). Forward scans resume at the
 * position (inclusive); reverse scans resume below it (exclusive).
 */
public final class Cursors {
  private static final byte FORMAT = 1;

  private Cursors() {}

  public static String encode(boolean reverse, byte[] position) {
    byte[] raw = ByteBuffer.allocate(2 + position.length).put(FORMAT).put((byte) (reverse ? 1 : 0)).put(position).array();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /** The position encoded in a cursor of a scan in the given direction. */
  public static byte[] decode(String cursor, boolean reverse) {
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(cursor);
    } catch (IllegalArgumentException e) {
      throw invalid();
    }
    if (raw.length < 2 || raw[0] != FORMAT || raw[1] > 1 || (raw[1] == 1) != reverse) {
      throw invalid();
    }
    return Arrays.copyOfRange(raw, 2, raw.length);
  }

  private static FlotillaException invalid() {
    return new FlotillaException(ErrorCode.INVALID_ARGUMENT,
        "cursor is not one this scan returned (pass it back unchanged, with the same reverse flag)");
  }
}
