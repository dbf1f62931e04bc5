package io.flotilla.api.resources;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyCodecTest {
  private final KeyCodec codec = new KeyCodec(16);

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static ErrorCode codeOf(Runnable r) {
    return assertThrows(FlotillaException.class, r::run).code();
  }

  @Test
  void percentEscapesDecodeToTheirBytesAndSlashesStayInTheKey() {
    assertArrayEquals(utf8("users/42"), codec.fromPath("users/42"));
    assertArrayEquals(utf8("a/b%c"), codec.fromPath("a%2Fb%25c"));
    assertArrayEquals(utf8("é"), codec.fromPath("%C3%A9"));
    assertArrayEquals(utf8("é"), codec.fromPath("é"));
  }

  @Test
  void malformedEscapesInvalidUtf8AndEmptyKeysAreInvalidArguments() {
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromPath("a%zz")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromPath("a%2")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromPath("%ff")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromPath("%C3")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromPath("")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, codeOf(() -> codec.fromString("bad \uD800 surrogate", "key")));
  }

  @Test
  void keysLongerThanTheLimitAreTooLargeCountingBytesNotCharacters() {
    assertEquals(16, codec.fromPath("k".repeat(16)).length);
    assertEquals(ErrorCode.TOO_LARGE, codeOf(() -> codec.fromPath("k".repeat(17))));
    assertEquals(ErrorCode.TOO_LARGE, codeOf(() -> codec.fromPath("é".repeat(9))));
  }
}
