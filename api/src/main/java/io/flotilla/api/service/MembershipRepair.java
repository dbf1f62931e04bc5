package io.flotilla.api.service;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.dropwizard.lifecycle.Managed;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds, on each node, the ranges it leads whose Raft members and descriptor have differed for
 * {@code after}, and repairs them ({@link RangeOperations#repairMembership}). A replica change
 * is two steps, the group's members and then the descriptor's record, and a coordinator that
 * dies between them leaves the group with a member the descriptor does not list (four voters,
 * three of them needed), or the descriptor listing a replica the group dropped. A change in
 * progress differs for a moment too: only a difference that stays the same (same members and
 * configuration index, same descriptor conf epoch and replicas) for {@code after} is repaired,
 * and the repair is safe against a coordinator that comes back anyway (its record names the
 * conf epoch it read, which the repair moves on). Ranges asleep are not looked at; a range whose
 * members differ does not fall asleep (see {@code NodeHost}'s hibernation pins).
 */
public final class MembershipRepair implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(MembershipRepair.class);

  private final NodeHost host;
  private final RangeOperations operations;
  private final OperationLog log;
  private final Clock clock;
  private final Duration after;
  private final Meter repaired;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "membership-repair");
    t.setDaemon(true);
    return t;
  });
  /** Per range, the difference seen and since when. Touched only on the timer thread. */
  private final Map<Long, Difference> seen = new HashMap<>();
  /**
   * Per range, a difference its repair refused (both kinds at once, say): not tried again until
   * it changes, so that it does not fill the operation log. Its leader logged why.
   */
  private final Map<Long, Difference> refused = new java.util.concurrent.ConcurrentHashMap<>();
  /** A repair under way (one at a time per node); cleared when it ends or after two minutes. */
  private volatile boolean running;

  /** A descriptor (its conf epoch and replicas) and Raft members that differ, seen since then. */
  private record Difference(long conf, List<String> replicas, NodeHost.Members members, long sinceMillis) {
    boolean sameAs(RangeDescriptor range, NodeHost.Members now) {
      return conf == range.getEpoch().getConf() && replicas.equals(range.getReplicasList().stream().sorted().toList())
          && members.equals(now);
    }
  }

  /** @param after how long a difference must stay before it is repaired; zero: never */
  public MembershipRepair(NodeHost host, RangeOperations operations, OperationLog log, Clock clock, Duration after,
      MetricRegistry metrics) {
    this.host = host;
    this.operations = operations;
    this.log = log;
    this.clock = clock;
    this.after = after;
    this.repaired = metrics.meter("flotilla.membership.repaired");
  }

  @Override
  public void start() {
    if (!after.isZero()) {
      long every = Math.max(200, Math.min(5_000, after.toMillis() / 5));
      timer.scheduleWithFixedDelay(this::look, every, every, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void stop() {
    timer.shutdownNow();
  }

  private void look() {
    try {
      seen.keySet().removeIf(id -> !host.leads(id));
      for (long id : host.hostedRanges()) {
        if (running || host.asleep(id)) {
          continue;
        }
        Optional<NodeHost.Members> members = host.settledMembers(id);
        RangeDescriptor range = host.replica(id).map(RangeStateMachine::descriptor).orElse(null);
        if (members.isEmpty() || range == null) {
          seen.remove(id);
          continue;
        }
        List<String> replicas = range.getReplicasList().stream().sorted().toList();
        if (replicas.equals(members.get().ids())) {
          seen.remove(id);
          refused.remove(id);
          continue;
        }
        Difference r = refused.get(id);
        if (r != null && r.sameAs(range, members.get())) {
          continue;
        }
        long now = clock.millis();
        Difference d = seen.get(id);
        if (d == null || !d.sameAs(range, members.get())) {
          seen.put(id, new Difference(range.getEpoch().getConf(), replicas, members.get(), now));
        } else if (now - d.sinceMillis() >= after.toMillis()) {
          repair(id, d);
        }
      }
    } catch (RuntimeException e) {
      // Never let one failure end the schedule.
      LOG.warn("membership repair: {}", e.toString());
    }
  }

  private void repair(long rangeId, Difference d) {
    LOG.warn("range {}: its Raft group has had members {} while its descriptor lists {} for {} ms: repairing",
        rangeId, d.members().ids(), d.replicas(), clock.millis() - d.sinceMillis());
    seen.remove(rangeId);
    running = true;
    try {
      log.track("repair-membership", Map.of("range", rangeId, "members", d.members().ids(), "replicas", d.replicas()),
          operations.repairMembership(rangeId, d.members()), r -> Map.of("replicas", r.getReplicasList()))
          .outcome().orTimeout(2, TimeUnit.MINUTES).whenComplete((r, e) -> {
            running = false;
            if (e == null) {
              repaired.mark();
              return;
            }
            FlotillaException failure = KeyService.unwrap(e);
            LOG.warn("range {}: membership repair failed: {}", rangeId, failure.getMessage());
            if (failure.code() == ErrorCode.UNPROCESSABLE) {
              refused.put(rangeId, d);
            }
          });
    } catch (RuntimeException e) {
      running = false;
      throw e;
    }
  }
}
