package io.flotilla.api.service;

import io.dropwizard.lifecycle.Managed;
import io.flotilla.common.Keys;
import io.flotilla.common.Ranges;
import io.flotilla.pd.ClusterView;
import io.flotilla.pd.HeartbeatTracker;
import io.flotilla.pd.LeaderBalancer;
import io.flotilla.pd.NodeState;
import io.flotilla.pd.NodeView;
import io.flotilla.pd.Operator;
import io.flotilla.pd.PdOperators;
import io.flotilla.pd.PdPlacement;
import io.flotilla.pd.PdStateMachine;
import io.flotilla.pd.Planner;
import io.flotilla.pd.RangeView;
import io.flotilla.proto.HeartbeatReply;
import io.flotilla.proto.HostedReplica;
import io.flotilla.proto.NodeHeartbeat;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdMembers;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdState;
import io.flotilla.proto.PdStep;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.RangeHeartbeat;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
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

  /** A step's result when this node handed the PD's leadership over instead of running it. */
  private static final Object HANDED_OVER = new Object();

  /** How long a range must keep its epoch before the planner starts an operator on it. */
  private static final long SETTLE_MILLIS = 5_000;

  /**
   * Heartbeat intervals a node that came back (restarted, or heard again after a silence) waits
   * before it gets new replicas or leaders: it is still waking its ranges and catching up.
   */
  private static final int SETTLE_INTERVALS = 10;

  /**
   * Heartbeat intervals after a leader transfer of a range before the leader balancer moves that
   * range's leadership again: the range's heartbeats name the new leader only after a round or
   * two, and a transfer that failed may still be changing the group's priorities.
   */
  private static final int REBALANCE_AFTER_INTERVALS = 10;

  /** Ranges being thawed after a merge was abandoned (by id), so that one thaw runs at a time. */
  private final Set<Long> thawing = ConcurrentHashMap.newKeySet();

  private final NodeHost host;
  private final PdClient pd;
  /** This node's PD state machine (null until it hosts a member of the PD group). */
  private final Supplier<PdStateMachine> localPd;
  private final RangeOperations ops;
  private final Peers peers;
  private final Planner planner;
  private final HeartbeatTracker liveness;
  private final Clock clock;
  private final Duration interval;
  private final Duration operatorTimeout;
  private final Duration abandonedMergeAfter;
  private final boolean enabled;
  private final Map<Long, RangeReport> reports = new ConcurrentHashMap<>();
  private final Map<Long, Long> lastRevision = new java.util.concurrent.ConcurrentHashMap<>();
  private final Set<String> executing = ConcurrentHashMap.newKeySet();
  private final AtomicLong sequence = new AtomicLong();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "placement");
    t.setDaemon(true);
    return t;
  });
  private volatile long leaderSince;
  private final Set<Long> seeding = ConcurrentHashMap.newKeySet();
  private final ExecutorService seeder = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "replica-seeder");
    t.setDaemon(true);
    return t;
  });
  /** Set while an operator on the PD group's own members runs here (until its step really ends). */
  private final AtomicBoolean pdMoveUnderWay = new AtomicBoolean();
  /**
   * Nodes that host a member of the PD group its configuration no longer lists, confirmed by
   * this node as PD leader with a linearizable read in its last planning round: their
   * heartbeat replies tell them to leave. Empty on every other node.
   */
  private volatile Set<String> toLeave = Set.of();
  /** What each node said in its last heartbeat about hosting a member of the PD group, and when. */
  private record PdCopy(boolean hosts, long atMillis) {}
  private final Map<String, PdCopy> pdCopies = new ConcurrentHashMap<>();
  /** When a PD member last answered this node's heartbeat. */
  private volatile long lastMemberAnswer;

  /** Runs the blocking changes to the PD group's own members, and this node leaving it. */
  private final ExecutorService membership = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pd-membership");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param localPd this node's PD state machine; null while this node hosts no member of the PD group
   */
  public PlacementController(NodeHost host, PdClient pd, Supplier<PdStateMachine> localPd, RangeOperations ops, Peers peers,
      Planner planner, Clock clock, Duration interval, Duration nodeDownAfter, Duration operatorTimeout,
      Duration abandonedMergeAfter, boolean enabled) {
    this.host = host;
    this.pd = pd;
    this.localPd = localPd;
    this.ops = ops;
    this.peers = peers;
    this.planner = planner;
    this.clock = clock;
    this.interval = interval;
    this.operatorTimeout = operatorTimeout;
    this.abandonedMergeAfter = abandonedMergeAfter;
    this.enabled = enabled;
    this.liveness = new HeartbeatTracker(clock, host.self().id(), interval.multipliedBy(3), nodeDownAfter, interval.multipliedBy(SETTLE_INTERVALS));
  }

  @Override
  public void start() {
    timer.scheduleWithFixedDelay(this::tick, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    // The timer's last heartbeat must not follow the stopping one (it would mark the node as
    // up again): the timer ends first.
    timer.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      // stopping anyway; the interrupt is not kept, so the handoff after this still runs
    }
    announceStopping();
    seeder.shutdownNow();
    membership.shutdownNow();
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

  /**
   * Tells the placement driver's members this node is shutting down, so that none plans a
   * leadership or replica onto it meanwhile (its leaderships are about to be handed away, and
   * a leader balance would otherwise move some back). Waits at most a second for them.
   */
  private void announceStopping() {
    try {
      NodeHeartbeat beat = beat().toBuilder().setStopping(true).build();
      List<CompletableFuture<?>> sent = new ArrayList<>();
      for (String to : pd.members().stream().map(m -> m.id()).toList()) {
        sent.add(to.equals(host.self().id()) ? CompletableFuture.completedFuture(receive(beat))
            : peers.heartbeat(to, beat).exceptionally(e -> null));
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException | RuntimeException e) {
      LOG.info("placement: not every placement driver member heard that this node is stopping: {}", e.toString());
    } catch (InterruptedException e) {
      // stopping anyway; the interrupt is not kept, so the handoff after this still runs
    }
  }

  /** This node's report to the placement driver: the replicas it hosts, the ranges it leads. */
  private NodeHeartbeat beat() {
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
    return hb.setMembersKnown(host.nodes().size()).setHostsPlacementDriver(pd.hostsMember()).build();
  }

  private void heartbeat() {
    NodeHeartbeat beat = beat();
    long now = clock.millis();
    if (lastMemberAnswer == 0) {
      lastMemberAnswer = now;
    }
    List<String> members = pd.members().stream().map(m -> m.id()).toList();
    // No member answered for a while: they may all have moved while this node was away. Ask
    // every node, any of which can say where the placement driver is now.
    List<String> recipients = now - lastMemberAnswer > 10 * interval.toMillis()
        ? List.copyOf(host.nodes().keySet()) : members;
    for (String to : recipients) {
      CompletableFuture<HeartbeatReply> reply = to.equals(host.self().id())
          ? CompletableFuture.completedFuture(receive(beat))
          : peers.heartbeat(to, beat);
      reply.thenAccept(r -> {
        if (members.contains(to)) {
          lastMemberAnswer = clock.millis();
        }
        onReply(r);
      }).exceptionally(e -> null);
    }
  }

  /**
   * True when {@code node} told this node that it is shutting down and has not heartbeated as
   * usual since. Only placement driver members hear heartbeats: elsewhere this is always false.
   */
  public boolean heardStopping(String node) {
    return liveness.isStopping(node);
  }

  /** A heartbeat from a node (this one included): remembered by every PD member. */
  public HeartbeatReply receive(NodeHeartbeat beat) {
    long now = clock.millis();
    if (beat.getStopping()) {
      liveness.stopping(beat.getNode());
      LOG.info("placement: node {} is stopping; it gets no new replicas or leaders until it is back", beat.getNode());
    } else {
      liveness.heartbeat(beat.getNode());
    }
    for (RangeHeartbeat r : beat.getRangesList()) {
      learn(r, beat.getNode(), now);
    }
    HeartbeatReply.Builder reply = HeartbeatReply.newBuilder();
    if (beat.getMembersKnown() < host.nodes().size()) {
      host.nodes().values().forEach(n -> reply.addMembers(ClusterJoin.address(n)));
    }
    reply.setPlacementDriver(pd.committedHere().orElse(pd.known()));
    pdCopies.put(beat.getNode(), new PdCopy(beat.getHostsPlacementDriver(), now));
    if (toLeave.contains(beat.getNode()) && pd.committedHere().isPresent()) {
      reply.setLeavePlacementDriver(true); // moved off it (while it ran, or while it was down)
    }
    if (pd.leadsLocally()) {
      Set<Long> hostedIds = new HashSet<>();
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

  /**
   * The nodes to tell to leave the PD group: they host a member of it, the group's settled
   * configuration does not list them, no move of the group runs, and none that failed recently
   * was adding them (its new member may still be catching up, or its configuration change
   * still under way in Ratis). Confirmed with a linearizable read of the PD's state, so a leader that lost its place (and
   * still has an older configuration) tells no one to leave.
   */
  private Set<String> nodesToLeave(PdMembers members, long now) {
    long recentMillis = now - 2 * operatorTimeout.toMillis();
    Set<String> out = new HashSet<>();
    pdCopies.forEach((node, copy) -> {
      if (copy.hosts() && now - copy.atMillis() < 3 * interval.toMillis() && !members.getIdsList().contains(node)) {
        out.add(node);
      }
    });
    if (out.isEmpty() || pdMoveUnderWay.get()) {
      return Set.of();
    }
    PdState confirmed;
    try {
      confirmed = pd.state().get(interval.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return Set.of();
    }
    for (PdOperator op : confirmed.getOperatorsList()) {
      if (!PdPlacement.isPlacementDriver(op)) {
        continue;
      }
      if ("running".equals(op.getStatus())) {
        return Set.of();
      }
      if ("failed".equals(op.getStatus()) && op.getFinishedAtMillis() > recentMillis) {
        // Its new member may still be joining: Ratis can go on with a change its caller gave up on.
        op.getStepsList().stream().filter(PdStep::hasAddReplica).forEach(step -> out.remove(step.getAddReplica()));
      }
    }
    // Still the leader, with the same settled configuration, after the read.
    return pd.committedHere().filter(members::equals).isPresent() ? Set.copyOf(out) : Set.of();
  }

  private void onReply(HeartbeatReply reply) {
    for (io.flotilla.proto.NodeAddress member : reply.getMembersList()) {
      try {
        host.addMember(ClusterJoin.node(member));
      } catch (IOException e) {
        LOG.warn("node {}: could not remember member {}: {}", host.self().id(), member.getId(), e.toString());
      }
    }
    pd.learn(reply.getPlacementDriver());
    if (reply.getLeavePlacementDriver()) {
      membership.execute(() -> {
        try {
          pd.leave();
        } catch (IOException | RuntimeException e) {
          LOG.warn("node {}: could not leave the placement driver's group: {}", host.self().id(), e.toString());
        }
      });
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
        } catch (IOException | RuntimeException e) {
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
      } catch (IOException | RuntimeException e) {
        LOG.warn("node {}: could not drop the stale replica of range {}: {}", host.self().id(), range.getId(), e.toString());
      }
    }
  }

  // ---- planning and running operators ------------------------------------------------------

  private void plan() {
    PdStateMachine machine = localPd.get();
    if (machine == null || !pd.leadsLocally()) {
      leaderSince = 0;
      toLeave = Set.of();
      return;
    }
    long now = clock.millis();
    if (leaderSince == 0) {
      leaderSince = now;
    }
    if (now - leaderSince < 3 * interval.toMillis()) {
      return; // let every node heartbeat this leader first
    }
    PdState state = machine.state();
    List<Operator> running = new ArrayList<>();
    for (PdOperator op : state.getOperatorsList()) {
      if ("running".equals(op.getStatus())) {
        running.add(PdOperators.fromProto(op));
        if (executing.add(op.getId())) {
          LOG.info("placement: resuming operator {} at step {}", op.getId(), op.getNextStep());
          if (PdPlacement.isPlacementDriver(op)) {
            pdMoveUnderWay.set(true);
          }
          execute(op);
        }
      }
    }
    ClusterView view = view(state, now);
    Optional<PdMembers> pdMembers = pd.committedHere();
    if (pdMembers.isPresent() && running.stream().noneMatch(PdPlacement::isPlacementDriver) && !pdMoveUnderWay.get()) {
      // A member whose node says it holds no copy of the PD's log (its directory was lost) is
      // replaced like one on a node that is down.
      Set<String> lost = new HashSet<>();
      pdCopies.forEach((node, copy) -> {
        if (!copy.hosts() && now - copy.atMillis() < 3 * interval.toMillis()) {
          lost.add(node);
        }
      });
      PdPlacement.next(pdMembers.get().getIdsList(), List.copyOf(view.nodes()), host.self().id(), lost).ifPresent(op -> {
        pdMoveUnderWay.set(true);
        toLeave = Set.of();
        start(op, RangeEpoch.getDefaultInstance(), now);
      });
    }
    toLeave = pdMembers.map(m -> nodesToLeave(m, now)).orElse(Set.of());
    Set<Long> balancedLately = balancedLately(state, now);
    List<Operator> started = new ArrayList<>(running);
    for (Operator op : planner.plan(view, running, balancedLately)) {
      RangeReport report = reports.get(op.rangeId());
      if (report == null) {
        continue; // replaced by a newer report meanwhile: plan it next tick
      }
      if (now - report.sinceMillis() < SETTLE_MILLIS) {
        // Its membership or span just changed: an admin move between its add and remove steps
        // looks like "one replica too many" for a moment. Let it finish first.
        continue;
      }
      start(op, report.heartbeat().getRange().getEpoch(), now);
      started.add(op);
    }
    thawAbandonedMerges(started, now);
    for (NodeStateChange declared : state.getNodesList()) {
      // Done once it holds no replica and is no member of the PD group: it can be turned off.
      if ("DECOMMISSIONING".equals(declared.getState()) && view.replicaCount(declared.getNode()) == 0
          && pdMembers.isPresent() && !pdMembers.get().getIdsList().contains(declared.getNode())) {
        LOG.info("placement: node {} holds no replica any more: decommissioned", declared.getNode());
        pd.propose(PdCommand.newBuilder().setNodeState(declared.toBuilder().setState("REMOVED")).build());
      }
    }
  }

  /**
   * Thaws ranges that have stayed frozen for a merge longer than any coordinator takes (it waits
   * for the freeze at most half a request timeout, then commits or gives up): the coordinator
   * died between the freeze and the commit, or its thaw failed. Until then the range refuses
   * every read and write. Ranges a running operator works on are left to it.
   */
  private void thawAbandonedMerges(List<Operator> running, long now) {
    if (abandonedMergeAfter.isZero()) {
      return;
    }
    Set<Long> busy = new HashSet<>();
    for (Operator op : running) {
      busy.add(op.rangeId());
      op.steps().forEach(step -> {
        if (step instanceof io.flotilla.pd.Step.MergeWith m) {
          busy.add(m.rightId());
        }
      });
    }
    for (RangeReport report : reports.values()) {
      RangeDescriptor range = report.heartbeat().getRange();
      if (range.getFrozenInto() == 0 || busy.contains(range.getId()) || busy.contains(range.getFrozenInto())
          || now - report.sinceMillis() < abandonedMergeAfter.toMillis()
          || now - report.atMillis() > 3 * interval.toMillis() || !thawing.add(range.getId())) {
        continue;
      }
      LOG.warn("placement: {} has been frozen for a merge into range {} for {} s with no merge finishing it: "
          + "calling the merge off", Ranges.describe(range), range.getFrozenInto(), (now - report.sinceMillis()) / 1000);
      ops.giveUpMerge(range).whenComplete((x, e) -> thawing.remove(range.getId()));
    }
  }

  /** Ranges whose leadership a balancing operator moved (or tried to) a short while ago. */
  private Set<Long> balancedLately(PdState state, long now) {
    Set<Long> out = new HashSet<>();
    long after = now - REBALANCE_AFTER_INTERVALS * interval.toMillis();
    for (PdOperator op : state.getOperatorsList()) {
      if (op.getKind().equals(LeaderBalancer.KIND) && op.getFinishedAtMillis() > after) {
        out.add(op.getRangeId());
      }
    }
    return out;
  }

  /** Records a new operator in the PD log, then runs it. */
  private void start(Operator op, RangeEpoch epoch, long now) {
    PdOperator record = PdOperators.toProto(host.self().id() + "-" + now + "-" + sequence.incrementAndGet(), op,
        epoch, now);
    executing.add(record.getId());
    LOG.info("placement: starting {} as {}", op, record.getId());
    pd.propose(PdCommand.newBuilder().setOperator(record).build())
        .whenComplete((x, e) -> {
          if (e != null) {
            executing.remove(record.getId());
            if (PdPlacement.isPlacementDriver(op)) {
              pdMoveUnderWay.set(false);
            }
            LOG.warn("placement: could not record operator {}: {}", record.getId(), e.toString());
          } else {
            execute(record);
          }
        });
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
    boolean movesPd = PdPlacement.isPlacementDriver(op);
    CompletableFuture<PdOperator> run = runFrom(op, op.getNextStep());
    // A move of the PD group is not cut short: its step would go on in Ratis (a member still
    // catching up, a configuration change under way) while the operator counted as over. Its
    // Raft calls end by themselves, bounded by the client's retries.
    (movesPd ? run : run.orTimeout(operatorTimeout.toMillis(), TimeUnit.MILLISECONDS))
        .whenComplete((done, error) -> {
          if (error == null && done == null) {
            executing.remove(op.getId()); // lost PD leadership: the next leader resumes it
            if (movesPd) {
              pdMoveUnderWay.set(false);
            }
            return;
          }
          PdOperator finished = (done != null ? done : op).toBuilder()
              .setStatus(error == null ? "succeeded" : "failed").setFinishedAtMillis(clock.millis())
              .setMessage(error == null ? "" : KeyService.unwrap(error).getMessage()).build();
          LOG.info("placement: operator {} {}{}", op.getId(), finished.getStatus(),
              error == null ? "" : ": " + finished.getMessage());
          pd.propose(PdCommand.newBuilder().setOperator(finished).build())
              .whenComplete((x, e) -> {
                executing.remove(op.getId());
                if (movesPd) {
                  pdMoveUnderWay.set(false);
                }
              });
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
      if (x == HANDED_OVER) {
        return CompletableFuture.completedFuture(null); // the new PD leader resumes it at this step
      }
      PdOperator progressed = op.toBuilder().setNextStep(step + 1).build();
      if (step + 1 >= op.getStepsCount()) {
        return CompletableFuture.completedFuture(progressed);
      }
      return pd.propose(PdCommand.newBuilder().setOperator(progressed).build())
          .thenCompose(y -> runFrom(progressed, step + 1));
    });
  }

  private CompletableFuture<?> runStep(PdOperator op, PdStep step) {
    if (PdPlacement.isPlacementDriver(op)) {
      return CompletableFuture.supplyAsync(() -> {
        try {
          switch (step.getKindCase()) {
            case ADD_REPLICA -> pd.addMember(step.getAddReplica());
            case REMOVE_REPLICA -> {
              if (!pd.removeMember(step.getRemoveReplica(), id -> liveness.state(id, NodeState.UP) == NodeState.UP)) {
                return HANDED_OVER;
              }
            }
            default -> throw new IllegalStateException("a placement driver operator cannot " + step.getKindCase());
          }
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, membership);
    }
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
