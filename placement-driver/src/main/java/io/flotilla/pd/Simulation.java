package io.flotilla.pd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The placement logic against a simulated cluster: no Ratis, no network, just {@link Planner}
 * deciding and a fake cluster applying each operator at once. Starts from a cluster that needs
 * work (replicas on down nodes, brand-new empty nodes, every leader on the first replica) and
 * plans round after round until the planner has nothing left to do.
 *
 * <p>Deterministic for a seed. Not thread-safe.
 */
public final class Simulation {
  /** What a run measured. Times are nanoseconds. */
  public record Result(int rounds, boolean converged, long operators, long planNanosTotal, long planNanosMax,
      long rangeCheckNanosAvg, int replicaSpread, int leaderSpread, int rangesNotWhole, int rangesWithoutQuorum) {}

  private final Planner planner;
  private final Map<String, NodeState> nodes = new LinkedHashMap<>();
  private final Map<Long, RangeView> ranges = new LinkedHashMap<>();
  private final int replication;

  /**
   * @param nodeCount nodes in all, of which {@code newNodes} start empty and {@code downNodes}
   *     (among the others) are down
   */
  public Simulation(int nodeCount, int rangeCount, int newNodes, int downNodes, long seed, PlacementConfig config) {
    this.planner = new Planner(config);
    this.replication = config.replication();
    Random random = new Random(seed);
    List<String> old = new ArrayList<>();
    for (int i = 1; i <= nodeCount; i++) {
      String id = String.format("n%04d", i);
      nodes.put(id, NodeState.UP);
      if (i <= nodeCount - newNodes) {
        old.add(id);
      }
    }
    for (long id = 1; id <= rangeCount; id++) {
      List<String> copy = new ArrayList<>(old);
      List<String> replicas = new ArrayList<>();
      while (replicas.size() < replication) {
        replicas.add(copy.remove(random.nextInt(copy.size())));
      }
      byte[] start = id == 1 ? new byte[0] : key(id);
      byte[] end = id == rangeCount ? new byte[0] : key(id + 1);
      // Mid-sized and lukewarm: neither splits nor merges, so the run is about placement.
      ranges.put(id, new RangeView(id, start, end, replicas, replicas.get(0), 32L << 20, 100_000, 50));
    }
    List<String> shuffled = new ArrayList<>(old);
    Collections.shuffle(shuffled, random);
    shuffled.stream().limit(downNodes).forEach(n -> nodes.put(n, NodeState.DOWN));
  }

  private static byte[] key(long id) {
    return ByteBuffer.allocate(8).putLong(id).array();
  }

  public Result run(int maxRounds) {
    long operators = 0;
    long total = 0;
    long max = 0;
    int rounds = 0;
    boolean converged = false;
    while (rounds < maxRounds) {
      ClusterView view = view();
      long t0 = System.nanoTime();
      List<Operator> ops = planner.plan(view, List.of());
      long took = System.nanoTime() - t0;
      total += took;
      max = Math.max(max, took);
      rounds++;
      if (ops.isEmpty()) {
        converged = true;
        break;
      }
      ops.forEach(this::apply);
      operators += ops.size();
    }
    ClusterView view = view();
    return new Result(rounds, converged, operators, total, max, rangeCheckNanos(view), spread(view, true),
        spread(view, false), notWhole(view), withoutQuorum(view));
  }

  /** The average cost of the decision made when one range heartbeats. */
  private long rangeCheckNanos(ClusterView view) {
    int samples = Math.min(2000, view.ranges().size());
    long t0 = System.nanoTime();
    for (int i = 0; i < samples; i++) {
      planner.checkRange(view, view.ranges().get(i * (view.ranges().size() / samples)), List.of());
    }
    return (System.nanoTime() - t0) / Math.max(1, samples);
  }

  /**
   * The cluster as the planner would see it: a range whose leader's node is down has elected
   * one of its up replicas; a range without a majority of up replicas has no leader.
   */
  public ClusterView view() {
    List<NodeView> views = new ArrayList<>();
    nodes.forEach((id, state) -> views.add(new NodeView(id, state)));
    List<RangeView> current = new ArrayList<>(ranges.size());
    for (RangeView r : ranges.values()) {
      List<String> up = r.replicas().stream().filter(n -> nodes.get(n) == NodeState.UP).toList();
      boolean quorum = up.size() >= r.replicas().size() / 2 + 1;
      if (quorum && r.leader() != null && nodes.get(r.leader()) == NodeState.UP) {
        current.add(r);
        continue;
      }
      RangeView elected = r.withReplicas(r.replicas(), quorum ? up.get(0) : null);
      ranges.put(r.id(), elected);
      current.add(elected);
    }
    return ClusterView.of(views, current);
  }

  private void apply(Operator op) {
    RangeView r = ranges.get(op.rangeId());
    List<String> replicas = new ArrayList<>(r.replicas());
    String leader = r.leader();
    for (Step step : op.steps()) {
      if (step instanceof Step.AddReplica add) {
        replicas.add(add.node());
      } else if (step instanceof Step.TransferLeader transfer) {
        leader = transfer.node();
      } else if (step instanceof Step.RemoveReplica remove) {
        replicas.remove(remove.node());
        if (remove.node().equals(leader)) {
          leader = replicas.get(0);
        }
      } else {
        throw new IllegalStateException("the simulation does not split or merge: " + op);
      }
    }
    ranges.put(r.id(), r.withReplicas(replicas, leader));
  }

  /** Max minus min replicas (or leaders) over up nodes. */
  private static int spread(ClusterView view, boolean replicas) {
    int min = Integer.MAX_VALUE;
    int max = 0;
    for (NodeView n : view.nodes()) {
      if (n.state() == NodeState.UP) {
        int count = replicas ? view.replicaCount(n.id()) : view.leaderCount(n.id());
        min = Math.min(min, count);
        max = Math.max(max, count);
      }
    }
    return max - min;
  }

  /**
   * Ranges that kept a quorum but lack their full replica count on up nodes or an up leader:
   * what the planner should have repaired.
   */
  private int notWhole(ClusterView view) {
    int bad = 0;
    for (RangeView r : view.ranges()) {
      long up = r.replicas().stream().filter(n -> view.state(n) == NodeState.UP).count();
      boolean quorum = r.leader() != null;
      if (quorum && (up != replication || r.replicas().size() != replication
          || view.state(r.leader()) != NodeState.UP)) {
        bad++;
      }
    }
    return bad;
  }

  /** Ranges that lost a majority of their replicas with the down nodes: no leader, no repair. */
  private static int withoutQuorum(ClusterView view) {
    return (int) view.ranges().stream().filter(r -> r.leader() == null).count();
  }

  /** Per-node replica counts, for reports. */
  public Map<String, Integer> replicaCounts() {
    ClusterView view = view();
    Map<String, Integer> out = new HashMap<>();
    view.nodes().forEach(n -> out.put(n.id(), view.replicaCount(n.id())));
    return out;
  }
}
