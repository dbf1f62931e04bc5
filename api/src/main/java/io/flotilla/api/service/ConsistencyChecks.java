package io.flotilla.api.service;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.dropwizard.lifecycle.Managed;
import io.flotilla.raft.NodeHost;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consistency checks of ranges ({@link RangeOperations#checkConsistency}): asked for through the
 * admin API, and run in the background by each node on the ranges it leads, one range every
 * {@code interval} in turn (ranges asleep are skipped: nothing changed in them, and a check would
 * wake them). Every check is counted; a range whose replicas disagree is logged as an error
 * with each replica's checksum and counted in {@code flotilla.consistency.inconsistent}.
 */
public final class ConsistencyChecks implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(ConsistencyChecks.class);

  private final NodeHost host;
  private final RangeOperations operations;
  private final Duration interval;
  private final Meter checks;
  private final Meter inconsistent;
  private final Meter incomplete;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "consistency-checks");
    t.setDaemon(true);
    return t;
  });
  /** Touched only on the timer thread. */
  private long lastChecked = -1;
  private volatile boolean running;

  /** @param interval how often this node checks one of the ranges it leads; zero: never by itself */
  public ConsistencyChecks(NodeHost host, RangeOperations operations, Duration interval, MetricRegistry metrics) {
    this.host = host;
    this.operations = operations;
    this.interval = interval;
    this.checks = metrics.meter("flotilla.consistency.checks");
    this.inconsistent = metrics.meter("flotilla.consistency.inconsistent");
    this.incomplete = metrics.meter("flotilla.consistency.incomplete");
  }

  /** Checks one range now. */
  public CompletableFuture<ConsistencyCheck> check(long rangeId) {
    return operations.checkConsistency(rangeId).thenApply(this::record);
  }

  private ConsistencyCheck record(ConsistencyCheck check) {
    checks.mark();
    switch (check.status()) {
      case "inconsistent" -> {
        inconsistent.mark();
        LOG.error("consistency check {} of range {}: the replicas disagree: {}", Long.toUnsignedString(check.checkId()),
            check.rangeId(), check.view().get("replicas"));
      }
      case "incomplete" -> {
        incomplete.mark();
        LOG.info("consistency check {} of range {}: not every replica answered: {}",
            Long.toUnsignedString(check.checkId()), check.rangeId(), check.view().get("replicas"));
      }
      default -> LOG.debug("consistency check {} of range {}: consistent", Long.toUnsignedString(check.checkId()),
          check.rangeId());
    }
    return check;
  }

  @Override
  public void start() {
    if (!interval.isZero()) {
      timer.scheduleWithFixedDelay(this::checkNext, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void stop() {
    timer.shutdownNow();
  }

  /** Checks the next range this node leads and that is awake, after the one checked last. */
  private void checkNext() {
    if (running) {
      return; // the last one has not finished (a large range, or a slow replica)
    }
    try {
      List<Long> led = host.hostedRanges().stream().filter(id -> host.leads(id) && !host.asleep(id)).sorted().toList();
      if (led.isEmpty()) {
        return;
      }
      long next = led.stream().filter(id -> id > lastChecked).findFirst().orElse(led.get(0));
      lastChecked = next;
      running = true;
      check(next).orTimeout(2, TimeUnit.MINUTES).whenComplete((c, e) -> {
        running = false;
        if (e != null) {
          LOG.debug("consistency check of range {} did not run: {}", next, KeyService.unwrap(e).getMessage());
        }
      });
    } catch (RuntimeException e) {
      // Never let one failure end the schedule.
      running = false;
      LOG.warn("consistency checks: {}", e.toString());
    }
  }
}
