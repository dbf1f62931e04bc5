package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.incr;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putExpiring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.CommandResult;
import io.flotilla.proto.Rejection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code incr}: a decimal ASCII long, absent counts as zero, anything else is refused. */
class RangeLogicIncrTest {
  private final Replica replica = new Replica(new InMemoryKvEngine(), Replica.range(7, "b", "m", 3, 1));

  @Test
  void anAbsentKeyCountsAsZero() {
    CommandResult r = replica.apply(incr("c", 5));
    assertEquals(5, r.getIncr().getValue());
    assertEquals(1, r.getIncr().getVersion());
    assertEquals("5", replica.value("c"));
  }

  @Test
  void incrementsAccumulateAndStoreDecimalAscii() {
    replica.apply(put("c", "41"));
    CommandResult r = replica.apply(incr("c", 1));
    assertEquals(42, r.getIncr().getValue());
    assertEquals("42", replica.value("c"));
    assertEquals(r.getRevision(), r.getIncr().getVersion());
    assertEquals(r.getIncr().getVersion(), replica.stored("c").version());
  }

  @Test
  void aNegativeDeltaDecrementsBelowZero() {
    replica.apply(incr("c", 3));
    CommandResult r = replica.apply(incr("c", -10));
    assertEquals(-7, r.getIncr().getValue());
    assertEquals("-7", replica.value("c"));
    assertEquals(3, replica.apply(incr("c", 10)).getIncr().getValue());
  }

  @Test
  void eachIncrementIsAWriteWithAGreaterVersion() {
    long v1 = replica.apply(incr("c", 1)).getIncr().getVersion();
    long v2 = replica.apply(incr("c", 1)).getIncr().getVersion();
    assertTrue(v2 > v1);
    assertEquals(2, replica.revision);
  }

  @ParameterizedTest(name = "\"{0}\" is not an integer")
  @ValueSource(strings = {"", "-", "twelve", "1.5", " 1", "1 ", "+1", "0x10", "--1", "1-", "1e3",
      "\u0661", "9223372036854775808", "-9223372036854775809", "99999999999999999999"})
  void aValueThatIsNotADecimalLongIsRefusedAndLeftAlone(String bad) {
    long v = replica.apply(put("c", bad)).getPut().getVersion();
    CommandResult r = replica.apply(incr("c", 1));
    assertEquals(Rejection.Reason.NOT_AN_INTEGER, r.getRejected().getReason());
    assertEquals(bad, replica.value("c"));
    assertEquals(v, replica.stored("c").version());
    assertEquals(v, replica.revision);
  }

  @Test
  void theExtremesOfALongAreAcceptedAsValues() {
    replica.apply(put("c", Long.toString(Long.MIN_VALUE)));
    assertEquals(Long.MIN_VALUE + 1, replica.apply(incr("c", 1)).getIncr().getValue());
    replica.apply(put("d", Long.toString(Long.MAX_VALUE)));
    assertEquals(Long.MAX_VALUE - 1, replica.apply(incr("d", -1)).getIncr().getValue());
  }

  @Test
  void overflowPastTheLargestLongIsRefusedAsNotAnInteger() {
    replica.apply(put("c", Long.toString(Long.MAX_VALUE)));
    CommandResult r = replica.apply(incr("c", 1));
    assertEquals(Rejection.Reason.NOT_AN_INTEGER, r.getRejected().getReason());
    assertEquals(Long.toString(Long.MAX_VALUE), replica.value("c"));
  }

  @Test
  void underflowPastTheSmallestLongIsRefusedAsNotAnInteger() {
    replica.apply(incr("c", -1));
    CommandResult r = replica.apply(incr("c", Long.MIN_VALUE));
    assertEquals(Rejection.Reason.NOT_AN_INTEGER, r.getRejected().getReason());
    assertEquals("-1", replica.value("c"));
  }

  @Test
  void anIncrementKeepsTheKeysExpiry() {
    long expiry = replica.now + 60_000;
    replica.apply(putExpiring("c", "10", expiry));
    replica.now += 1_000;
    replica.apply(incr("c", 5));
    assertEquals(expiry, replica.stored("c").expiresAtMillis());
    assertEquals("15", replica.value("c"));
    replica.now = expiry;
    assertEquals(false, replica.read("c").getFound(), "the counter still expires when the put said");
  }

  @Test
  void anExpiredCounterStartsAgainFromZeroWithoutExpiry() {
    long expiry = replica.now + 1_000;
    replica.apply(putExpiring("c", "10", expiry));
    replica.now = expiry;
    CommandResult r = replica.apply(incr("c", 2));
    assertEquals(2, r.getIncr().getValue());
    assertEquals(0, replica.stored("c").expiresAtMillis());
  }

  @Test
  void anExpiredValueThatIsNotAnIntegerDoesNotBlockAnIncrement() {
    long expiry = replica.now + 1_000;
    replica.apply(putExpiring("c", "not a number", expiry));
    replica.now = expiry;
    assertEquals(1, replica.apply(incr("c", 1)).getIncr().getValue());
  }
}
