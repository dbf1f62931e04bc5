package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.k;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class StoredValueTest {
  @Test
  void encodeThenDecodeGivesBackVersionExpiryAndValue() {
    StoredValue back = StoredValue.decode(new StoredValue(42, 1_700_000_000_123L, k("payload")).encode());
    assertEquals(42, back.version());
    assertEquals(1_700_000_000_123L, back.expiresAtMillis());
    assertArrayEquals(k("payload"), back.value());
  }

  @Test
  void extremeVersionsAndBinaryValuesRoundTrip() {
    byte[] binary = {0, (byte) 0xff, 1, (byte) 0x80, 0};
    StoredValue back = StoredValue.decode(new StoredValue(Long.MAX_VALUE, Long.MAX_VALUE, binary).encode());
    assertEquals(Long.MAX_VALUE, back.version());
    assertEquals(Long.MAX_VALUE, back.expiresAtMillis());
    assertArrayEquals(binary, back.value());
  }

  @Test
  void anEmptyValueRoundTripsAsEmpty() {
    byte[] encoded = new StoredValue(1, 0, new byte[0]).encode();
    assertEquals(17, encoded.length, "format byte, version and expiry");
    assertArrayEquals(new byte[0], StoredValue.decode(encoded).value());
  }

  @Test
  void theEncodingIsAFormatByteThenBigEndianVersionAndExpiryThenTheValue() {
    byte[] encoded = new StoredValue(0x0102, 0x0304, k("v")).encode();
    assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 'v'}, encoded);
  }

  @Test
  void theValueViewIsTheValueAfterTheHeaderAndRefusesWhatDecodeRefuses() {
    byte[] binary = {0, (byte) 0xff, 1, (byte) 0x80, 0};
    byte[] encoded = new StoredValue(7, 9, binary).encode();
    assertArrayEquals(binary, StoredValue.valueOf(encoded).toByteArray());
    assertEquals(0, StoredValue.valueOf(new StoredValue(1, 0, new byte[0]).encode()).size());
    assertEquals(7, StoredValue.peekVersion(encoded));
    assertEquals(9, StoredValue.peekExpiresAt(encoded));
    assertThrows(IllegalStateException.class, () -> StoredValue.valueOf(k("plain user bytes")));
  }

  @Test
  void bytesThatAreNotAStoredValueAreRefused() {
    assertThrows(IllegalStateException.class, () -> StoredValue.decode(new byte[0]));
    assertThrows(IllegalStateException.class, () -> StoredValue.decode(k("plain user bytes")));
    byte[] valid = new StoredValue(1, 0, k("x")).encode();
    assertThrows(IllegalStateException.class, () -> StoredValue.decode(Arrays.copyOf(valid, 16)));
    byte[] otherFormat = valid.clone();
    otherFormat[0] = 2;
    assertThrows(IllegalStateException.class, () -> StoredValue.decode(otherFormat));
  }

  @Test
  void zeroExpiryNeverExpiresAndAnyOtherExpiresAtItsInstant() {
    assertFalse(new StoredValue(1, 0, new byte[0]).expiredAt(Long.MAX_VALUE));
    StoredValue v = new StoredValue(1, 500, new byte[0]);
    assertFalse(v.expiredAt(499));
    assertTrue(v.expiredAt(500));
    assertFalse(StoredValue.expired(0, Long.MAX_VALUE));
    assertFalse(StoredValue.expired(500, 499));
    assertTrue(StoredValue.expired(500, 500));
    assertTrue(v.expiredAt(501));
  }

  @Test
  void theHeaderCanBeReadWithoutDecodingTheValue() {
    byte[] stored = new StoredValue(42, 1234, new byte[] {1, 2, 3}).encode();
    org.junit.jupiter.api.Assertions.assertEquals(42, StoredValue.peekVersion(stored));
    org.junit.jupiter.api.Assertions.assertEquals(1234, StoredValue.peekExpiresAt(stored));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> StoredValue.peekVersion(new byte[3]));
  }
}
