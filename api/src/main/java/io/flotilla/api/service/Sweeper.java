package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.dropwizard.lifecycle.Managed;
import io.flotilla.proto.Intent;
import io.flotilla.proto.KeyVersion;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.Intents;
import io.flotilla.statemachine.KvEngine;
import io.flotilla.statemachine.KvIterator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background upkeep of the ranges this node leads, run every {@code intervalMillis}:
 * <ul>
 *   <li>intents of transactions whose record is older than the abandon time are pushed
 *       (finished when decided, aborted when still pending), so a crashed coordinator never
 *       leaves keys locked for long;
 *   <li>expired keys are removed through the range's log ({@code ExpireOp}), so storage does not
 *       grow with keys nobody can read any more. Each pass reads at most {@value #SCAN_BUDGET}
 *       entries over all ranges, resuming where the last pass stopped; a range whose last full
 *       scan met no key with a TTL is not read until one may have arrived ({@link TtlScans}).
 * </ul>
 * Only the leader sweeps, and from its own replica, so the work is done once per range; every
 * change still goes through the log, so replicas stay identical.
 */
public final class Sweeper implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);
  private static final int SCAN_BUDGET = 20_000;
  private static final int INTENTS_PER_PASS = 200;

  private final NodeHost host;
  private final KeyService keys;
  private final Clock clock;
  private final long intervalMillis;
  private final long abandonAfterMillis;
  private final TtlScans ttl;
  private ScheduledExecutorService timer;
  /** Entries the current pass may still read (all ranges together: idle nodes stay idle). */
  private int budget;
  /** The position in the hosted-range list where the next pass starts. */
  private long nextRange;

  /**
   * @param maxExpireBytes the most key bytes one expire command carries (its keys are one log
   *     entry, which must stay well under the largest entry the log takes)
   */
  public Sweeper(NodeHost host, KeyService keys, Clock clock, long intervalMillis, long abandonAfterMillis,
      long maxExpireBytes) {
    this.ttl = new TtlScans(maxExpireBytes);
    this.host = host;
    this.keys = keys;
    this.clock = clock;
    this.intervalMillis = intervalMillis;
    this.abandonAfterMillis = abandonAfterMillis;
  }

  @Override
  public void start() {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "flotilla-sweeper");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::sweepQuietly, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  private void sweepQuietly() {
    try {
      sweep();
    } catch (RuntimeException e) {
      LOG.warn("sweep failed (retried next interval): {}", e.toString());
    }
  }

  /** One pass over every range this node leads. */
  void sweep() {
    List<Led> led = new ArrayList<>();
    for (long rangeId : host.hostedRanges()) {
      boolean leader = host.division(rangeId).map(d -> d.isLeader()).orElse(false);
      RangeStateMachine replica = host.replica(rangeId).orElse(null);
      // the generation is read before the descriptor and the scan: a TTL write after it changes it
      long generation = replica == null ? 0 : replica.ttlGeneration();
      RangeDescriptor range = replica == null ? null : replica.descriptor();
      if (leader && range != null) {
        led.add(new Led(range, generation));
      }
    }
    ttl.retain(led.stream().map(l -> l.range().getId()).collect(java.util.stream.Collectors.toSet()));
    led.forEach(l -> pushAbandonedIntents(l.range())); // cheap: the locks column family is nearly always empty
    budget = SCAN_BUDGET;
    // TTL scans share one budget; start where the last pass ran out, so every range gets its turn.
    int from = led.isEmpty() ? 0 : (int) Math.floorMod(nextRange, (long) led.size());
    for (int i = 0; i < led.size() && budget > 0; i++) {
      nextRange = from + i;
      removeExpired(led.get((from + i) % led.size()));
    }
    if (budget > 0) {
      nextRange++;
    }
  }

  /** A range this node leads, with its replica's TTL generation read before its descriptor. */
  private record Led(RangeDescriptor range, long generation) {}

  private void pushAbandonedIntents(RangeDescriptor range) {
    long now = clock.millis();
    Set<ByteString> seen = new HashSet<>();
    KvEngine engine = host.engine();
    try (KvIterator it = engine.iterate(ColumnFamily.LOCKS, range.getStart().toByteArray(),
        range.getEnd().toByteArray(), false)) {
      for (; it.valid() && seen.size() < INTENTS_PER_PASS; it.next()) {
        Intent intent = Intents.decode(it.value());
        if (now - intent.getStartedAtMillis() >= abandonAfterMillis && seen.add(intent.getTxnId())) {
          keys.transactions().push(intent).exceptionally(e -> {
            LOG.debug("range {}: pushing an abandoned transaction failed: {}", range.getId(), e.toString());
            return null;
          });
        }
      }
    }
  }

  private void removeExpired(Led led) {
    RangeDescriptor range = led.range();
    TtlScans.Step step = ttl.step(host.engine(), range, led.generation(), clock.millis(), budget);
    budget -= step.read();
    List<KeyVersion> expired = step.expired();
    if (!expired.isEmpty()) {
      keys.expire(expired).exceptionally(e -> {
        LOG.debug("range {}: removing {} expired keys failed: {}", range.getId(), expired.size(), e.toString());
        return 0L;
      });
    }
  }
}
