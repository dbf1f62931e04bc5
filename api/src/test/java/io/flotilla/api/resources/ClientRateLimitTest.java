package io.flotilla.api.resources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClientRateLimitTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private long nanos = 1_000;
  private final ClientRateLimit limit = new ClientRateLimit(10, 3, () -> nanos, new ObjectMapper(), new MetricRegistry());

  @Test
  void aClientGetsItsBurstAtOnceThenItsRate() {
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limit.take("10.0.0.1"), "request " + i + " of the burst");
    }
    assertEquals(SECOND / 10, limit.take("10.0.0.1"), "the fourth waits a tenth of a second for a token");
    nanos += SECOND / 20;
    assertEquals(SECOND / 20, limit.take("10.0.0.1"), "half a token later, half the wait is left");
    nanos += SECOND / 20;
    assertEquals(0, limit.take("10.0.0.1"));
    assertEquals(SECOND / 10, limit.take("10.0.0.1"));
  }

  @Test
  void clientsHaveBucketsOfTheirOwn() {
    for (int i = 0; i < 3; i++) {
      limit.take("10.0.0.1");
    }
    assertEquals(0, limit.take("10.0.0.2"), "another client is not held up");
  }

  @Test
  void aPauseRefillsNoMoreThanTheBurst() {
    for (int i = 0; i < 3; i++) {
      limit.take("10.0.0.1");
    }
    nanos += 60 * SECOND;
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limit.take("10.0.0.1"));
    }
    assertEquals(SECOND / 10, limit.take("10.0.0.1"));
  }

  @Test
  void bucketsThatFilledUpAgainAreForgottenAtTheNextSweep() {
    limit.take("10.0.0.1");
    limit.take("10.0.0.2");
    for (int i = 0; i < 3; i++) {
      limit.take("10.0.0.3");
    }
    assertEquals(3, limit.clients());
    nanos += 61 * SECOND;
    limit.take("10.0.0.4");
    assertEquals(1, limit.clients(), "only the client seen since the sweep is left");
  }

  @Test
  void aLimitWithoutARateOrWithALessThanOneBurstIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new ClientRateLimit(0, 3, () -> 0, new ObjectMapper(), new MetricRegistry()));
    assertThrows(IllegalArgumentException.class,
        () -> new ClientRateLimit(5, 0.5, () -> 0, new ObjectMapper(), new MetricRegistry()));
  }
}
