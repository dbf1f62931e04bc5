package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CursorsTest {
  @Test
  void aCursorRoundTripsItsPositionInItsDirection() {
    byte[] pos = "users/42\0".getBytes(StandardCharsets.UTF_8);
    assertArrayEquals(pos, Cursors.decode(Cursors.encode(false, pos), false));
    assertArrayEquals(pos, Cursors.decode(Cursors.encode(true, pos), true));
  }

  @Test
  void aCursorFromTheOtherDirectionOrGarbageIsRefused() {
    String forward = Cursors.encode(false, new byte[] {1, 2});
    assertEquals(ErrorCode.INVALID_ARGUMENT,
        assertThrows(FlotillaException.class, () -> Cursors.decode(forward, true)).code());
    assertThrows(FlotillaException.class, () -> Cursors.decode("!!!", false));
    assertThrows(FlotillaException.class, () -> Cursors.decode("", false));
  }
}
