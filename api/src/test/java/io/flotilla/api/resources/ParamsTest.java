package io.flotilla.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.common.FlotillaException;
import org.junit.jupiter.api.Test;

class ParamsTest {
  @Test
  void ttlMustBeAPositiveWholeNumberOfSeconds() {
    assertEquals(0, Params.ttl(null));
    assertEquals(30, Params.ttl("30"));
    for (String bad : new String[] {"-1", "0", "abc", "", "1.5", "99999999999"}) {
      assertThrows(FlotillaException.class, () -> Params.ttl(bad), bad);
    }
  }

  @Test
  void ifVersionIsZeroOrPositive() {
    assertNull(Params.ifVersion(null));
    assertEquals(0L, Params.ifVersion("0"));
    assertEquals(7L, Params.ifVersion("7"));
    assertThrows(FlotillaException.class, () -> Params.ifVersion("x"));
    assertThrows(FlotillaException.class, () -> Params.ifVersion("-1"));
  }

  @Test
  void limitIsBoundedAndFlagsAcceptOnlyBooleans() {
    assertEquals(100, Params.limit(null, 100, 10_000));
    assertEquals(10_000, Params.limit("10000", 100, 10_000));
    assertThrows(FlotillaException.class, () -> Params.limit("0", 100, 10_000));
    assertThrows(FlotillaException.class, () -> Params.limit("10001", 100, 10_000));
    assertFalse(Params.flag("reverse", null));
    assertTrue(Params.flag("reverse", ""));
    assertTrue(Params.flag("reverse", "true"));
    assertFalse(Params.flag("reverse", "0"));
    assertThrows(FlotillaException.class, () -> Params.flag("reverse", "maybe"));
  }
}
