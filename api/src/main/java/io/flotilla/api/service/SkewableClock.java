package io.flotilla.api.service;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;

/**
 * The node's wall clock (TTL expiry at proposal, transaction ages, operation times) with an
 * offset the chaos harness may set through a test-only endpoint, to skew one node's clock or
 * make it jump. Raft timing (elections, leader leases) runs on the monotonic clock and is not
 * affected, as with a real skewed wall clock.
 */
public final class SkewableClock extends Clock {
  private final Clock base;
  private volatile long offsetMillis;

  public SkewableClock(Clock base) {
    this.base = base;
  }

  public void setOffsetMillis(long offsetMillis) {
    this.offsetMillis = offsetMillis;
  }

  public long offsetMillis() {
    return offsetMillis;
  }

  @Override
  public ZoneId getZone() {
    return base.getZone();
  }

  @Override
  public Clock withZone(ZoneId zone) {
    SkewableClock c = new SkewableClock(base.withZone(zone));
    c.offsetMillis = offsetMillis;
    return c;
  }

  @Override
  public long millis() {
    return base.millis() + offsetMillis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }
}
