package io.flotilla.testcluster.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient;
import io.flotilla.testcluster.Network;
import io.flotilla.testcluster.ProcessCluster;
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
  List<String> KINDS = List.of("kill-leader", "kill-random", "kill-majority", "kill-all", "pause", "partition-leader",
      "partition-halves");

  static Nemesis of(String kind, ProcessCluster cluster, Network network) {
    return switch (kind) {
      case "kill-leader" -> new Kill(cluster, c -> List.of(leaderOfSomeRange(c)));
      case "kill-random" -> new Kill(cluster, c -> List.of(c.pick(nodes(c))));
      case "kill-majority" -> new Kill(cluster, c -> c.shuffled(nodes(c)).subList(0, nodes(c).size() / 2 + 1));
      case "kill-all" -> new Kill(cluster, c -> nodes(c));
      case "pause" -> new Pause(cluster);
      case "partition-leader", "partition-halves" -> {
        if (network == null) {
          throw new IllegalArgumentException("partitions need iptables and cgroup v2: " + Network.unavailableReason());
        }
        yield new Partition(cluster, network, kind.equals("partition-leader"));
      }
      default -> throw new IllegalArgumentException("unknown nemesis " + kind + "; one of " + KINDS);
    };
  }

  /** Chooses from the runner's seeded random source. */
  final class Choice {
    final ProcessCluster cluster;
    final Random random;

    Choice(ProcessCluster cluster, Random random) {
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
    return c.cluster.nodes().stream().map(m -> m.id).toList();
  }

  /** The leader of a random range, as some live node reports it (a random node if none answers). */
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
    return c.pick(nodes(c));
  }

  /** kill -9 of the chosen nodes; heal restarts them and waits until they are ready. */
  final class Kill implements Nemesis {
    private final ProcessCluster cluster;
    private final java.util.function.Function<Choice, List<String>> victims;
    private List<String> killed = List.of();

    Kill(ProcessCluster cluster, java.util.function.Function<Choice, List<String>> victims) {
      this.cluster = cluster;
      this.victims = victims;
    }

    @Override
    public String start(Random random) throws Exception {
      killed = victims.apply(new Choice(cluster, random));
      for (String id : killed) {
        cluster.kill(id);
      }
      return "killed " + killed;
    }

    @Override
    public String heal() throws Exception {
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
    private final ProcessCluster cluster;
    private String paused;

    Pause(ProcessCluster cluster) {
      this.cluster = cluster;
    }

    @Override
    public String start(Random random) throws Exception {
      paused = new Choice(cluster, random).pick(nodes(new Choice(cluster, random)));
      cluster.pause(paused);
      return "paused " + paused;
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

  /** Cuts a range leader off from every other node, or the cluster into two halves. */
  final class Partition implements Nemesis {
    private final ProcessCluster cluster;
    private final Network network;
    private final boolean isolateLeader;

    Partition(ProcessCluster cluster, Network network, boolean isolateLeader) {
      this.cluster = cluster;
      this.network = network;
      this.isolateLeader = isolateLeader;
    }

    @Override
    public String start(Random random) throws Exception {
      Choice c = new Choice(cluster, random);
      if (isolateLeader) {
        String leader = leaderOfSomeRange(c);
        network.isolate(leader);
        return "isolated " + leader;
      }
      List<String> all = c.shuffled(nodes(c));
      List<String> side = all.subList(0, all.size() / 2);
      List<String> other = all.subList(all.size() / 2, all.size());
      network.partition(side, other);
      return "partitioned " + side + " | " + other;
    }

    @Override
    public String heal() throws Exception {
      network.heal();
      return "healed the network";
    }
  }
}
