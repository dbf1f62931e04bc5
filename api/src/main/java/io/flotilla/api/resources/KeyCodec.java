package io.flotilla.api.resources;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.common.Keys;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Turns keys from URLs and JSON into validated UTF-8 bytes, with API.md's errors. */
public final class KeyCodec {
  private final int maxKeyBytes;

  public KeyCodec(int maxKeyBytes) {
    this.maxKeyBytes = maxKeyBytes;
  }

  /** Decodes a still percent-encoded URL path segment strictly: bad escapes and bad UTF-8 are 400. */
  public byte[] fromPath(String encoded) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c == '%') {
        if (i + 2 >= encoded.length()) {
          throw invalid("malformed percent-encoding in the key (a '%' must be followed by two hex digits)");
        }
        int hi = Character.digit(encoded.charAt(i + 1), 16);
        int lo = Character.digit(encoded.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw invalid("malformed percent-encoding in the key (a '%' must be followed by two hex digits)");
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (c < 0x80) {
        out.write(c);
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return validate(out.toByteArray());
  }

  /** Encodes a key from a JSON string or query parameter; lone surrogates are 400. */
  public byte[] fromString(String key, String what) {
    if (key == null) {
      throw invalid(what + " is required");
    }
    CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      ByteBuffer b = enc.encode(CharBuffer.wrap(key));
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw invalid(what + " is not valid Unicode text");
    }
  }

  /** A key must be 1..maxKeyBytes bytes of valid UTF-8. */
  public byte[] validate(byte[] key) {
    if (key.length == 0) {
      throw invalid("the key is empty; keys are 1 to " + maxKeyBytes + " bytes of UTF-8");
    }
    if (key.length > maxKeyBytes) {
      throw new FlotillaException(ErrorCode.TOO_LARGE,
          "the key is " + key.length + " bytes; the limit is " + maxKeyBytes);
    }
    Keys.decodeUtf8(key);
    return key;
  }

  /** Validates a bound of a span (start, end, prefix): UTF-8 and within the key limit, may be empty. */
  public byte[] bound(String value, String what) {
    if (value == null || value.isEmpty()) {
      return new byte[0];
    }
    byte[] bytes = fromString(value, what);
    if (bytes.length > maxKeyBytes) {
      throw new FlotillaException(ErrorCode.TOO_LARGE, what + " is " + bytes.length + " bytes; the limit is " + maxKeyBytes);
    }
    return bytes;
  }

  static FlotillaException invalid(String message) {
    return new FlotillaException(ErrorCode.INVALID_ARGUMENT, message);
  }
}
