package io.flotilla.testcluster.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient;
import io.flotilla.testcluster.Network;
import io.flotilla.testcluster.ClusterBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A fault, started and healed by the runner. Each one undoes itself completely in {@link #heal}
 * (a killed node restarts, a paused one resumes, a partition is lifted), so faults compose: the
 * runner picks one of the configured kinds at random (from the run's seed) per fault window.
 */
public interface Nemesis {
  /** Starts the fault; returns what it did, for the history. */
  String start(Random random) throws Exception;

  /** Undoes it; returns what it did. */
  String heal() throws Exception;

  /** The fault kinds {@code bin/flotilla chaos --nemesis} accepts. */
  List<String> KINDS = List.of("kill-leader", "kill-pd-leader", "kill-random", "kill-majority", "kill-all",
      "restart-leader", "pause", "partition-leader", "partition-halves", "partition-bridge", "admin", "clock");

  static Nemesis of(String kind, ClusterBackend cluster, Network network) {
    return switch (kind) {
      case "kill-leader" -> new Kill(cluster, c -> List.of(leaderOfSomeRange(c)));
      case "kill-pd-leader" -> new Kill(cluster, c -> List.of(placementDriverLeader(c)));
      case "kill-random" -> new Kill(cluster, c -> List.of(c.pick(nodes(c))));
      case "kill-majority" -> new Kill(cluster, c -> c.shuffled(nodes(c)).subList(0, nodes(c).size() / 2 + 1));
      case "kill-all" -> new Kill(cluster, c -> nodes(c));
      case "restart-leader" -> new Kill(cluster, c -> List.of(leaderOfSomeRange(c)), true);
      case "pause" -> new Pause(cluster);
      case "admin" -> new Admin(cluster);
      case "clock" -> new ClockSkew(cluster);
      case "partition-leader", "partition-halves", "partition-bridge" -> {
        if (network == null) {
          throw new IllegalArgumentException("this cluster cannot be partitioned (process backend started isolatable, "
              + "with iptables and cgroup v2): " + Network.unavailableReason());
        }
        yield new Partition(cluster, network, kind.substring("partition-".length()));
      }
      default -> throw new IllegalArgumentException("unknown nemesis " + kind + "; one of " + KINDS);
    };
  }

  /** Chooses from the runner's seeded random source. */
  final class Choice {
    final ClusterBackend cluster;
    final Random random;
    /** Said after what the fault did, for the history, when a choice fell back to chance; else empty. */
    String fallback = "";

    Choice(ClusterBackend cluster, Random random) {
      this.cluster = cluster;
      this.random = random;
    }

    String pick(List<String> from) {
      return from.get(random.nextInt(from.size()));
    }

    List<String> shuffled(List<String> from) {
      List<String> copy = new ArrayList<>(from);
      java.util.Collections.shuffle(copy, random);
      return copy;
    }
  }

  private static List<String> nodes(Choice c) {
    return c.cluster.nodeIds();
  }

  /**
   * The leader of a random range, as some live node reports it; a random node, noted in {@link
   * Choice#fallback}, if no node names one (none answers, or every range sleeps).
   */
  private static String leaderOfSomeRange(Choice c) {
    ApiClient api = new ApiClient(Duration.ofSeconds(3));
    for (String via : c.shuffled(nodes(c))) {
      try {
        JsonNode ranges = api.raw("GET", c.cluster.url(via) + "/v1/admin/ranges", null).json().get("ranges");
        List<String> leaders = new ArrayList<>();
        ranges.forEach(r -> {
          if (r.path("leader").isTextual()) {
            leaders.add(r.get("leader").asText());
          }
        });
        if (!leaders.isEmpty()) {
          return c.pick(leaders);
        }
      } catch (RuntimeException e) {
        // that node is down or slow: ask another
      }
    }
    c.fallback = " (a random node: no node named a range leader; sleeping ranges have none)";
    return c.pick(nodes(c));
  }

  /** The placement driver's leader as some live node reports it (a random node if none answers). */
  private static String placementDriverLeader(Choice c) {
    ApiClient api = new ApiClient(Duration.ofSeconds(3));
    for (String via : c.shuffled(nodes(c))) {
      try {
        JsonNode leader = api.raw("GET", c.cluster.url(via) + "/v1/admin/cluster", null).json()
            .path("summary").path("placement_driver_leader");
        if (leader.isTextual()) {
          return leader.asText();
        }
      } catch (RuntimeException | AssertionError e) {
        // that node is down or slow: ask another
      }
    }
    return c.pick(nodes(c));
  }

  /**
   * kill -9 of the chosen nodes, or SIGTERM (a graceful stop, as a rolling restart does: the
   * node hands its leaderships over first); heal restarts them and waits until they are ready.
   */
  final class Kill implements Nemesis {
    private final ClusterBackend cluster;
    private final java.util.function.Function<Choice, List<String>> victims;
    private final boolean graceful;
    private List<String> killed = List.of();
    /** A graceful stop under way: it goes on (the handoff, the close) inside the fault window. */
    private java.util.concurrent.CompletableFuture<Void> stopping;

    Kill(ClusterBackend cluster, java.util.function.Function<Choice, List<String>> victims) {
      this(cluster, victims, false);
    }

    Kill(ClusterBackend cluster, java.util.function.Function<Choice, List<String>> victims, boolean graceful) {
      this.cluster = cluster;
      this.victims = victims;
      this.graceful = graceful;
    }

    @Override
    public String start(Random random) throws Exception {
      Choice c = new Choice(cluster, random);
      killed = victims.apply(c);
      if (graceful) {
        List<String> victimsNow = killed;
        stopping = java.util.concurrent.CompletableFuture.runAsync(() -> {
          for (String id : victimsNow) {
            try {
              cluster.stop(id);
            } catch (Exception e) {
              throw new IllegalStateException("stopping " + id + " failed", e);
            }
          }
        });
        return "stopping (SIGTERM) " + killed + c.fallback;
      }
      for (String id : killed) {
        cluster.kill(id);
      }
      return "killed " + killed + c.fallback;
    }

    @Override
    public String heal() throws Exception {
      if (stopping != null) {
        stopping.get(60, java.util.concurrent.TimeUnit.SECONDS); // exited (kill -9 after the grace period)
        stopping = null;
      }
      for (String id : killed) {
        cluster.start(id);
      }
      cluster.awaitReady(Duration.ofSeconds(120));
      String done = "restarted " + killed;
      killed = List.of();
      return done;
    }
  }

  /** SIGSTOP of one node; heal sends SIGCONT. */
  final class Pause implements Nemesis {
    private final ClusterBackend cluster;
    private String paused;

    Pause(ClusterBackend cluster) {
      this.cluster = cluster;
    }

    @Override
    public String start(Random random) throws Exception {
      String node = new Choice(cluster, random).pick(nodes(new Choice(cluster, random)));
      // Docker can refuse a pause when the container's cgroup does not freeze in time (a thread
      // blocked in an fsync on a loaded machine): nothing was paused then, so try again, and
      // if it keeps refusing, record that this fault did not happen rather than end the run.
      RuntimeException refused = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        try {
          cluster.pause(node);
          paused = node; // only once it is: heal must not resume a node that never paused
          return "paused " + paused;
        } catch (RuntimeException e) {
          refused = e;
          try {
            cluster.resume(node); // in case the refusal came after all
          } catch (RuntimeException notPaused) {
            // the usual case: it never paused
          }
          Thread.sleep(200);
        }
      }
      return "pause of " + node + " refused: " + refused.getMessage();
    }

    @Override
    public String heal() throws Exception {
      if (paused == null) {
        return "nothing paused";
      }
      cluster.resume(paused);
      String done = "resumed " + paused;
      paused = null;
      return done;
    }
  }

  /**
   * Range operations fired at random while clients run: split a range (at its middle key),
   * merge two neighbours (colocating them first), hand a range's leadership to another replica,
   * or move a replica when some node holds none. Heal has nothing to undo.
   */
  final class Admin implements Nemesis {
    private final ClusterBackend cluster;
    private final ApiClient api = new ApiClient(Duration.ofSeconds(15));

    Admin(ClusterBackend cluster) {
      this.cluster = cluster;
    }

    @Override
    public String start(Random random) throws Exception {
      Choice c = new Choice(cluster, random);
      String via = cluster.url(c.pick(nodes(c)));
      JsonNode ranges;
      try {
        ranges = api.raw("GET", via + "/v1/admin/ranges", null).json().get("ranges");
      } catch (RuntimeException | AssertionError e) {
        return "admin: no-op (" + via + " did not list ranges: " + e.getMessage() + ")";
      }
      if (ranges == null || ranges.isEmpty()) {
        return "admin: no ranges listed by " + via;
      }
      JsonNode r = ranges.get(random.nextInt(ranges.size()));
      long id = r.get("id").asLong();
      List<String> replicas = new ArrayList<>();
      r.get("replicas").forEach(n -> replicas.add(n.asText()));
      String action;
      ApiClient.Resp resp;
      switch (random.nextInt(4)) {
        case 0 -> {
          action = "split range " + id;
          resp = post(via + "/v1/admin/ranges/" + id + "/split", "{}");
        }
        case 1 -> {
          int i = random.nextInt(Math.max(1, ranges.size() - 1));
          if (ranges.size() < 2) {
            return "admin: one range, nothing to merge";
          }
          long left = ranges.get(i).get("id").asLong();
          long right = ranges.get(i + 1).get("id").asLong();
          action = "merge ranges " + left + " and " + right;
          resp = post(via + "/v1/admin/ranges/merge", "{\"left\": " + left + ", \"right\": " + right + "}");
        }
        case 2 -> {
          String to = c.pick(replicas);
          action = "transfer leadership of range " + id + " to " + to;
          resp = post(via + "/v1/admin/ranges/" + id + "/transfer-leader", "{\"to\": \"" + to + "\"}");
        }
        default -> {
          List<String> others = nodes(c).stream().filter(n -> !replicas.contains(n)).toList();
          if (others.isEmpty()) {
            action = "transfer leadership of range " + id + " to " + replicas.get(0);
            resp = post(via + "/v1/admin/ranges/" + id + "/transfer-leader", "{\"to\": \"" + replicas.get(0) + "\"}");
          } else {
            String to = c.pick(others);
            action = "move range " + id + " from " + replicas.get(0) + " to " + to;
            resp = post(via + "/v1/admin/ranges/" + id + "/move", "{\"from\": \"" + replicas.get(0)
                + "\", \"to\": \"" + to + "\"}");
          }
        }
      }
      return action + ": " + resp.status();
    }

    /** Starts the operation; a long one (202) carries on in the background while clients run. */
    private ApiClient.Resp post(String url, String body) {
      try {
        return api.raw("POST", url, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        return new ApiClient.Resp(599, java.util.Map.of(), String.valueOf(e.getMessage()).getBytes(
            java.nio.charset.StandardCharsets.UTF_8));
      }
    }

    @Override
    public String heal() {
      return "admin: nothing to undo";
    }
  }

  /**
   * Skews one node's wall clock by up to a minute either way, or makes it jump, through the
   * node's test-only clock endpoint (the cluster must run with clockSkewForTests); heal resets it.
   */
  final class ClockSkew implements Nemesis {
    private final ClusterBackend cluster;
    private final ApiClient api = new ApiClient(Duration.ofSeconds(5));
    private String skewed;

    ClockSkew(ClusterBackend cluster) {
      this.cluster = cluster;
    }

    @Override
    public String start(Random random) {
      Choice c = new Choice(cluster, random);
      skewed = c.pick(nodes(c));
      long offset = (random.nextBoolean() ? 1 : -1) * (1_000L + random.nextInt(60_000));
      ApiClient.Resp r = api.raw("PUT", cluster.url(skewed) + "/internal/v1/clock?offset_ms=" + offset, null);
      if (r.status() != 200) {
        throw new IllegalStateException("node " + skewed + " refused the clock change (run it with "
            + "clockSkewForTests): " + r);
      }
      return "skewed the clock of " + skewed + " by " + offset + " ms";
    }

    @Override
    public String heal() {
      if (skewed == null) {
        return "no clock skewed";
      }
      try {
        api.raw("PUT", cluster.url(skewed) + "/internal/v1/clock?offset_ms=0", null);
      } catch (RuntimeException e) {
        // the node is down: it restarts with no offset anyway
      }
      String done = "reset the clock of " + skewed;
      skewed = null;
      return done;
    }
  }

  /**
   * Cuts the network: {@code leader} isolates a range leader from every other node; {@code
   * halves} cuts the cluster in two (minority | majority); {@code bridge} cuts it in two halves
   * that one node still talks to both of (so every node but the bridge sees a different
   * majority, the "majority ring" of Jepsen).
   */
  final class Partition implements Nemesis {
    private final ClusterBackend cluster;
    private final Network network;
    private final String shape;

    Partition(ClusterBackend cluster, Network network, String shape) {
      this.cluster = cluster;
      this.network = network;
      this.shape = shape;
    }

    @Override
    public String start(Random random) throws Exception {
      Choice c = new Choice(cluster, random);
      if (shape.equals("leader")) {
        String leader = leaderOfSomeRange(c);
        network.isolate(leader);
        return "isolated " + leader + c.fallback;
      }
      List<String> all = c.shuffled(nodes(c));
      if (shape.equals("bridge")) {
        int mid = all.size() / 2;
        List<String> left = all.subList(0, mid);
        List<String> right = all.subList(mid + 1, all.size());
        network.partition(left, right);
        return "cut " + left + " from " + right + ", bridged by " + all.get(mid);
      }
      List<String> side = all.subList(0, all.size() / 2);
      List<String> other = all.subList(all.size() / 2, all.size());
      network.partition(side, other);
      return "partitioned " + side + " from " + other;
    }

    @Override
    public String heal() throws Exception {
      network.heal();
      return "healed the network";
    }
  }
}
