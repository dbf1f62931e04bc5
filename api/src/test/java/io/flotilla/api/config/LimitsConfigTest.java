package io.flotilla.api.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dropwizard.util.Duration;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LimitsConfigTest {
  private final Validator validator = Validation.buildDefaultValidatorFactory().getValidator();

  private Set<String> invalidFields(LimitsConfig limits) {
    return validator.validate(limits).stream().map(ConstraintViolation::getPropertyPath).map(Object::toString)
        .collect(Collectors.toSet());
  }

  @Test
  void theDefaultsAreValidAndResolveAgainstTheHeapAndTheRate() {
    LimitsConfig limits = new LimitsConfig();
    assertEquals(Set.of(), invalidFields(limits));
    assertEquals(Runtime.getRuntime().maxMemory() / 4, limits.bodyBytesInFlight());
    limits.clientRequestsPerSecond = 50;
    assertEquals(50, limits.clientBurstRequests(), "a second's worth of requests by default");
    limits.clientBurst = 0.5;
    assertEquals(1, limits.clientBurstRequests(), "a burst is at least one request");
  }

  @Test
  void negativeRatesAndBoundsAndAMissingQueueDelayAreRefusedByName() {
    LimitsConfig limits = new LimitsConfig();
    limits.clientRequestsPerSecond = -1;
    limits.clientBurst = -2;
    limits.maxQueuedPerRange = 0;
    limits.maxQueuedWriteBytes = 0;
    limits.maxBodyBytesInFlight = -1;
    limits.maxQueueDelay = null;
    Set<String> invalid = invalidFields(limits);
    for (String field : Set.of("clientRequestsPerSecond", "clientBurst", "maxQueuedPerRange", "maxQueuedWriteBytes",
        "maxBodyBytesInFlight", "maxQueueDelay")) {
      assertTrue(invalid.contains(field), field + " should be refused; refused: " + invalid);
    }
  }

  @Test
  void aSetQueueDelayIsKept() {
    LimitsConfig limits = new LimitsConfig();
    limits.maxQueueDelay = Duration.milliseconds(250);
    assertEquals(Set.of(), invalidFields(limits));
  }
}
