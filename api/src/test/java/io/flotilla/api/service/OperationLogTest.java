package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.statemachine.InMemoryKvEngine;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class OperationLogTest {
  private final InMemoryKvEngine engine = new InMemoryKvEngine();
  private final ObjectMapper json = new ObjectMapper();
  private final Clock clock = Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC);

  @Test
  void finishedOperationsOutliveARestartAndARunningOneBecomesUnknown() {
    OperationLog log = new OperationLog("n1", clock, engine, json);
    log.track("split", Map.of("range", 7), CompletableFuture.completedFuture("done"), v -> Map.of("left", 7));
    log.track("merge", Map.of("left", 1, "right", 2),
        CompletableFuture.failedFuture(new FlotillaException(ErrorCode.UNPROCESSABLE, "not adjacent")), v -> Map.of());
    log.track("move", Map.of("range", 3, "from", "n1", "to", "n4"), new CompletableFuture<String>(), v -> Map.of());

    OperationLog restarted = new OperationLog("n1", clock, engine, json);
    List<Map<String, Object>> views = restarted.views();
    assertEquals(3, views.size(), views::toString);
    Map<String, Object> move = views.get(0);
    assertEquals("n1-3", move.get("id"));
    assertEquals("unknown", move.get("status"), "it may or may not have taken effect");
    assertTrue(((String) move.get("message")).contains("stopped while it ran"), move::toString);
    assertEquals("n4", move.get("to"));
    assertEquals("failed", views.get(1).get("status"));
    assertEquals("not adjacent", views.get(1).get("message"));
    Map<String, Object> split = views.get(2);
    assertEquals("succeeded", split.get("status"));
    assertEquals(Map.of("left", 7), split.get("result"));
    assertEquals(7, split.get("range"));
    assertNull(split.get("message"));

    // New operations continue the numbering instead of reusing an id.
    var next = restarted.track("split", Map.of("range", 9), CompletableFuture.completedFuture("x"), v -> Map.of());
    assertEquals("n1-4", next.operation().id());
    assertEquals("unknown", new OperationLog("n1", clock, engine, json).views().get(1).get("status"),
        "an unknown outcome stays unknown");
  }

  @Test
  void onlyTheLatestTwoHundredAreKept() {
    OperationLog log = new OperationLog("n2", clock, engine, json);
    for (int i = 0; i < 250; i++) {
      log.track("split", Map.of("range", i), CompletableFuture.completedFuture("x"), v -> Map.of());
    }
    List<Map<String, Object>> views = new OperationLog("n2", clock, engine, json).views();
    assertEquals(200, views.size());
    assertEquals("n2-250", views.get(0).get("id"));
    assertEquals("n2-51", views.get(199).get("id"));
  }
}
