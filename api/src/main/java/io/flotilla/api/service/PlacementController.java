package io.flotilla.api.service;

import io.dropwizard.lifecycle.Managed;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.pd.ClusterView;
import io.flotilla.pd.HeartbeatTracker;
import io.flotilla.pd.NodeState;
import io.flotilla.pd.NodeView;
import io.flotilla.pd.Operator;
import io.flotilla.pd.PdOperators;
import io.flotilla.pd.PdStateMachine;
import io.flotilla.pd.Planner;
import io.flotilla.pd.RangeView;
import io.flotilla.proto.HeartbeatReply;
import io.flotilla.proto.HostedReplica;
import io.flotilla.proto.NodeHeartbeat;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdState;
import io.flotilla.proto.PdStep;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeHeartbeat;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The placement driver's control loop, run on every node; only the node whose PD member leads
 * the PD group plans and runs operators.
 *
 * <p>Every tick each node heartbeats every PD member (so a newly elected PD leader already
 * knows the cluster): the ranges it leads with their size and write rate, and every replica it
 * hosts. A PD member answers with the replicas the node should drop (ranges that removed it
 * while it was away). The PD leader then builds a {@link ClusterView}, asks the {@link Planner}
 * for operators, records each in the PD log, and runs its steps one by one through
 * {@link RangeOperations}, recording progress after each step; a new PD leader resumes the
 * running operators from the step they reached. Every step is safe to repeat.
 */
public final class PlacementController implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(PlacementController.class);

  /** The last heartbeat of a range's leader; {@code sinceMillis}: when this epoch was first seen. */
  private record RangeReport(RangeHeartbeat heartbeat, String leader, long atMillis, long sinceMillis) {}

  /** How long a range must keep its epoch before a replica it lists but nobody hosts is re-seeded. */
  private static final long MISSING_GRACE_MILLIS = 10_000;

  /** How long a range must keep its epoch before the planner starts an operator on it. */
  private static final long SETTLE_MILLIS = 5_000;

  private final NodeHost host;
  private final PdClient pd;
  private final PdStateMachine localPd;
  private final RangeOperations ops;
  private final Peers peers;
  private final Planner planner;
  private final HeartbeatTracker liveness;
  private final Clock clock;
  private final Duration interval;
  private final Duration operatorTimeout;
  private final boolean enabled;
  private final Map<Long, RangeReport> reports = new ConcurrentHashMap<>();
  private final Map<Long, Long> lastRevision = new HashMap<>();
  private final Set<String> executing = ConcurrentHashMap.newKeySet();
  private final AtomicLong sequence = new AtomicLong();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "placement");
    t.setDaemon(true);
    return t;
  });
  private volatile long leaderSince;
  private final Set<Long> seeding = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.ExecutorService seeder = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "replica-seeder");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param localPd this node's PD state machine, or null when this node is not a PD member
   */
  public PlacementController(NodeHost host, PdClient pd, PdStateMachine localPd, RangeOperations ops, Peers peers,
      Planner planner, Clock clock, Duration interval, Duration nodeDownAfter, Duration operatorTimeout,
      boolean enabled) {
    this.host = host;
    this.pd = pd;
    this.localPd = localPd;
    this.ops = ops;
    this.peers = peers;
    this.planner = planner;
    this.clock = clock;
    this.interval = interval;
    this.operatorTimeout = operatorTimeout;
    this.enabled = enabled;
    this.liveness = new HeartbeatTracker(clock, interval.multipliedBy(3), nodeDownAfter);
  }

  @Override
  public void start() {
    timer.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    timer.shutdownNow();
    seeder.shutdownNow();
  }

  private void tick() {
    try {
      heartbeat();
      if (enabled) {
        plan();
      }
    } catch (RuntimeException e) {
      LOG.warn("placement tick failed: {}", e.toString(), e);
    }
  }

  // ---- heartbeats -------------------------------------------------------------------------

  private void heartbeat() {
    NodeHeartbeat.Builder hb = NodeHeartbeat.newBuilder().setNode(host.self().id());
    double seconds = interval.toMillis() / 1000.0;
    for (long id : host.hostedRanges()) {
      RangeStateMachine replica = host.replica(id).orElse(null);
      RangeDescriptor range = replica == null ? null : replica.descriptor();
      if (range == null) {
        continue;
      }
      hb.addHosted(HostedReplica.newBuilder().setRangeId(id).setEpoch(range.getEpoch()));
      // A sleeping range is reported by its first replica's node (the same on every replica, and
      // across restarts): the placement driver keeps it in view though no leader runs, and
      // repairs it if a replica's node dies (the repair's first step wakes it). When that node
      // itself stops, the driver keeps its last report, and repairs the range from it.
      boolean leads = host.division(id).map(d -> d.isLeader()).orElse(false);
      boolean asleep = !leads && host.reportsAsleep(id);
      if (leads || asleep) {
        long revision = replica.revision();
        Long before = lastRevision.put(id, revision);
        double writes = before == null ? 0 : Math.max(0, revision - before) / seconds;
        RangeHeartbeat.Builder rb = RangeHeartbeat.newBuilder().setRange(range).setWritesPerSecond(writes)
            .setAsleep(asleep).setApproximateBytes(host.engine().approximateSize(range.getStart().toByteArray(),
                range.getEnd().toByteArray()));
        if (writes > planner.config().splitWritesPerSecond()) {
          replica.loadSplitKey().ifPresent(k -> rb.setLoadSplitKey(com.google.protobuf.ByteString.copyFrom(k)));
        }
        hb.addRanges(rb);
      }
    }
    NodeHeartbeat beat = hb.setMembersKnown(host.nodes().size()).build();
    for (var member : pd.members()) {
      CompletableFuture<HeartbeatReply> reply = member.id().equals(host.self().id())
          ? CompletableFuture.completedFuture(receive(beat))
          : peers.heartbeat(member.id(), beat);
      reply.thenAccept(this::onReply).exceptionally(e -> null);
    }
  }

  /** A heartbeat from a node (this one included): remembered by every PD member. */
  public HeartbeatReply receive(NodeHeartbeat beat) {
    long now = clock.millis();
    liveness.heartbeat(beat.getNode());
    for (RangeHeartbeat r : beat.getRangesList()) {
      learn(r, beat.getNode(), now);
    }
    HeartbeatReply.Builder reply = HeartbeatReply.newBuilder();
    if (beat.getMembersKnown() < host.nodes().size()) {
      host.nodes().values().forEach(n -> reply.addMembers(ClusterJoin.address(n)));
    }
    if (pd.leadsLocally()) {
      Set<Long> hostedIds = new java.util.HashSet<>();
      for (HostedReplica hosted : beat.getHostedList()) {
        hostedIds.add(hosted.getRangeId());
        RangeReport known = reports.get(hosted.getRangeId());
        if (known != null && !known.heartbeat().getRange().getReplicasList().contains(beat.getNode())
            && newer(known.heartbeat().getRange(), hosted)) {
          reply.addRemoved(known.heartbeat().getRange());
        }
      }
      for (RangeReport known : reports.values()) {
        RangeDescriptor range = known.heartbeat().getRange();
        if (range.getReplicasList().contains(beat.getNode()) && !hostedIds.contains(range.getId())
            && !beat.getNode().equals(known.leader()) && now - known.sinceMillis() >= MISSING_GRACE_MILLIS
            && now - known.atMillis() < 3 * interval.toMillis()) {
          reply.addMissing(io.flotilla.proto.MissingReplica.newBuilder().setRange(range).setLeader(known.leader()));
        }
      }
    }
    return reply.build();
  }

  private static boolean newer(RangeDescriptor known, HostedReplica hosted) {
    return known.getEpoch().getConf() > hosted.getEpoch().getConf();
  }

  private void learn(RangeHeartbeat r, String leader, long now) {
    RangeDescriptor range = r.getRange();
    RangeReport old = reports.get(range.getId());
    if (old != null && olderThan(range, old.heartbeat().getRange())) {
      return;
    }
    long since = old != null && old.heartbeat().getRange().getEpoch().equals(range.getEpoch()) ? old.sinceMillis() : now;
    reports.put(range.getId(), new RangeReport(r, leader, now, since));
    if (old != null && old.heartbeat().getRange().getEpoch().getVersion() == range.getEpoch().getVersion()) {
      return; // same span as before: nothing else can have changed
    }
    // A new span (split or merge): drop reports of other ranges it covers with an older epoch.
    reports.values().removeIf(other -> other.heartbeat().getRange().getId() != range.getId()
        && overlaps(other.heartbeat().getRange(), range)
        && other.heartbeat().getRange().getEpoch().getVersion() < range.getEpoch().getVersion());
  }

  private static boolean olderThan(RangeDescriptor a, RangeDescriptor b) {
    int v = Long.compare(a.getEpoch().getVersion(), b.getEpoch().getVersion());
    return v < 0 || (v == 0 && a.getEpoch().getConf() < b.getEpoch().getConf());
  }

  private static boolean overlaps(RangeDescriptor a, RangeDescriptor b) {
    return Ranges.overlaps(a, b.getStart().toByteArray(), b.getEnd().toByteArray());
  }

  private void onReply(HeartbeatReply reply) {
    for (io.flotilla.proto.NodeAddress member : reply.getMembersList()) {
      try {
        host.addMember(ClusterJoin.node(member));
      } catch (java.io.IOException e) {
        LOG.warn("node {}: could not remember member {}: {}", host.self().id(), member.getId(), e.toString());
      }
    }
    for (io.flotilla.proto.MissingReplica missing : reply.getMissingList()) {
      RangeDescriptor range = missing.getRange();
      if (host.replica(range.getId()).isPresent() || !seeding.add(range.getId())) {
        continue;
      }
      seeder.execute(() -> {
        try {
          LOG.info("node {}: {} lists this node but it holds no replica (it missed the range's creation); "
              + "copying it from {}", host.self().id(), Ranges.describe(range), missing.getLeader());
          host.seedReplica(range, range.getReplicasList(), missing.getLeader());
        } catch (java.io.IOException | RuntimeException e) {
          LOG.info("node {}: not seeding range {} now: {}", host.self().id(), range.getId(), e.getMessage());
        } finally {
          seeding.remove(range.getId());
        }
      });
    }
    for (RangeDescriptor range : reply.getRemovedList()) {
      try {
        if (host.replica(range.getId()).isPresent() && !range.getReplicasList().contains(host.self().id())) {
          LOG.info("node {}: the placement driver says {} no longer lists this node; dropping the replica",
              host.self().id(), Ranges.describe(range));
          host.removeReplica(range.getId(), range);
        }
      } catch (IllegalStateException newer) {
        // This node holds the range at a newer configuration that lists it: the driver's view is behind.
        LOG.debug("node {}: kept its replica of range {}: {}", host.self().id(), range.getId(), newer.getMessage());
      } catch (java.io.IOException | RuntimeException e) {
        LOG.warn("node {}: could not drop the stale replica of range {}: {}", host.self().id(), range.getId(), e.toString());
      }
    }
  }

  // ---- planning and running operators ------------------------------------------------------

  private void plan() {
    if (localPd == null || !pd.leadsLocally()) {
      leaderSince = 0;
      return;
    }
    long now = clock.millis();
    if (leaderSince == 0) {
      leaderSince = now;
    }
    if (now - leaderSince < 3 * interval.toMillis()) {
      return; // let every node heartbeat this leader first
    }
    PdState state = localPd.state();
    List<Operator> running = new ArrayList<>();
    for (PdOperator op : state.getOperatorsList()) {
      if ("running".equals(op.getStatus())) {
        running.add(PdOperators.fromProto(op));
        if (executing.add(op.getId())) {
          LOG.info("placement: resuming operator {} at step {}", op.getId(), op.getNextStep());
          execute(op);
        }
      }
    }
    ClusterView view = view(state, now);
    for (Operator op : planner.plan(view, running)) {
      RangeReport report = reports.get(op.rangeId());
      if (report == null) {
        continue; // replaced by a newer report meanwhile: plan it next tick
      }
      if (now - report.sinceMillis() < SETTLE_MILLIS) {
        // Its membership or span just changed: an admin move between its add and remove steps
        // looks like "one replica too many" for a moment. Let it finish first.
        continue;
      }
      RangeDescriptor descriptor = report.heartbeat().getRange();
      PdOperator record = PdOperators.toProto(host.self().id() + "-" + now + "-" + sequence.incrementAndGet(), op,
          descriptor.getEpoch(), now);
      executing.add(record.getId());
      LOG.info("placement: starting {} as {}", op, record.getId());
      pd.propose(PdCommand.newBuilder().setOperator(record).build())
          .whenComplete((x, e) -> {
            if (e != null) {
              executing.remove(record.getId());
              LOG.warn("placement: could not record operator {}: {}", record.getId(), e.toString());
            } else {
              execute(record);
            }
          });
    }
    for (NodeStateChange declared : state.getNodesList()) {
      if ("DECOMMISSIONING".equals(declared.getState()) && view.replicaCount(declared.getNode()) == 0) {
        LOG.info("placement: node {} holds no replica any more: decommissioned", declared.getNode());
        pd.propose(PdCommand.newBuilder().setNodeState(declared.toBuilder().setState("REMOVED")).build());
      }
    }
  }

  private ClusterView view(PdState state, long now) {
    Map<String, NodeState> declared = new HashMap<>();
    state.getNodesList().forEach(n -> declared.put(n.getNode(), NodeState.valueOf(n.getState())));
    List<NodeView> nodes = new ArrayList<>();
    for (String id : host.nodes().keySet()) {
      nodes.add(new NodeView(id, liveness.state(id, declared.getOrDefault(id, NodeState.UP))));
    }
    List<RangeView> ranges = new ArrayList<>();
    for (RangeReport r : reports.values()) {
      RangeDescriptor d = r.heartbeat().getRange();
      // A sleeping range's reporter does not lead it: balancing leaders must neither count it
      // nor move it (a move would wake the range, and it would sleep again under the same reporter).
      boolean leading = !r.heartbeat().getAsleep() && !liveness.isDown(r.leader());
      ranges.add(new RangeView(d.getId(), d.getStart().toByteArray(), d.getEnd().toByteArray(), d.getReplicasList(),
          leading ? r.leader() : null, r.heartbeat().getApproximateBytes(), r.heartbeat().getKeys(),
          r.heartbeat().getWritesPerSecond(), r.heartbeat().getLoadSplitKey().toByteArray()));
    }
    return ClusterView.of(nodes, ranges);
  }

  /** Runs the operator's remaining steps in order, recording progress; then its outcome. */
  private void execute(PdOperator op) {
    runFrom(op, op.getNextStep())
        .orTimeout(operatorTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((done, error) -> {
          if (error == null && done == null) {
            executing.remove(op.getId()); // lost PD leadership: the next leader resumes it
            return;
          }
          PdOperator finished = (done != null ? done : op).toBuilder()
              .setStatus(error == null ? "succeeded" : "failed").setFinishedAtMillis(clock.millis())
              .setMessage(error == null ? "" : KeyService.unwrap(error).getMessage()).build();
          LOG.info("placement: operator {} {}{}", op.getId(), finished.getStatus(),
              error == null ? "" : ": " + finished.getMessage());
          pd.propose(PdCommand.newBuilder().setOperator(finished).build())
              .whenComplete((x, e) -> executing.remove(op.getId()));
        });
  }

  /** Completes with the operator after its last step, or null when this node stopped leading the PD. */
  private CompletableFuture<PdOperator> runFrom(PdOperator op, int step) {
    if (step >= op.getStepsCount()) {
      return CompletableFuture.completedFuture(op);
    }
    if (!pd.leadsLocally()) {
      return CompletableFuture.completedFuture(null);
    }
    return runStep(op, op.getSteps(step)).thenCompose(x -> {
      PdOperator progressed = op.toBuilder().setNextStep(step + 1).build();
      if (step + 1 >= op.getStepsCount()) {
        return CompletableFuture.completedFuture(progressed);
      }
      return pd.propose(PdCommand.newBuilder().setOperator(progressed).build())
          .thenCompose(y -> runFrom(progressed, step + 1));
    });
  }

  private CompletableFuture<?> runStep(PdOperator op, PdStep step) {
    long id = op.getRangeId();
    return switch (step.getKindCase()) {
      case ADD_REPLICA -> ops.addReplicaTo(id, step.getAddReplica());
      case REMOVE_REPLICA -> ops.removeReplicaFrom(id, step.getRemoveReplica());
      case TRANSFER_LEADER -> ops.transferLeader(id, step.getTransferLeader());
      case SPLIT -> ops.leaderStatus(id, false).thenCompose(s ->
          s.getRange().getEpoch().getVersion() > op.getStartEpoch().getVersion()
              ? CompletableFuture.completedFuture(null) // split (or merged) already: a resumed step
              : ops.split(id, step.getSplitAt().isEmpty() ? null : step.getSplitAt().toByteArray()));
      case MERGE_WITH -> ops.merge(id, step.getMergeWith());
      case KIND_NOT_SET -> CompletableFuture.failedFuture(new IllegalStateException("empty step"));
    };
  }

  // ---- for the admin API -----------------------------------------------------------------

  /** Whether this node has heard from {@code node} recently (as a PD member). */
  public boolean isDown(String node) {
    return liveness.isDown(node);
  }

  /** Ranges in key order as the PD knows them: for reports. */
  public List<RangeDescriptor> knownRanges() {
    List<RangeDescriptor> out = new ArrayList<>();
    reports.values().forEach(r -> out.add(r.heartbeat().getRange()));
    out.sort((a, b) -> Keys.compare(a.getStart().toByteArray(), b.getStart().toByteArray()));
    return out;
  }
}
