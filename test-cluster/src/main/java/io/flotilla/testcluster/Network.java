package io.flotilla.testcluster;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Network partitions between the nodes of a {@link ProcessCluster#startIsolatable} cluster.
 *
 * <p>On loopback every outgoing connection carries source address 127.0.0.1 whatever the node
 * binds, so rules on source addresses cannot tell nodes apart. Each node therefore runs in its
 * own cgroup v2 group, and a cut from A to B is an iptables rule dropping what A's group sends
 * to B's address; a partition adds the rule in both directions. The test JVM itself is in no
 * such group, so it still reaches every node (to read from the isolated side, say).
 *
 * <p>Needs root, iptables and cgroup2 at {@value #CGROUP_ROOT}; {@link #available()} says
 * whether they are there. {@link #heal()} (and {@link #close()}) removes every rule added.
 */
public final class Network implements AutoCloseable {
  public static final String CGROUP_ROOT = "/sys/fs/cgroup/unified";

  private final ProcessCluster cluster;
  private final List<List<String>> rules = new ArrayList<>();

  public Network(ProcessCluster cluster) {
    this.cluster = cluster;
  }

  /** Null when partitions can be made here, else why not. */
  public static String unavailableReason() {
    if (!new File(CGROUP_ROOT, "cgroup.procs").exists()) {
      return "cgroup2 is not mounted at " + CGROUP_ROOT;
    }
    if (!new File(CGROUP_ROOT).canWrite()) {
      return "cannot create cgroups under " + CGROUP_ROOT + " (not root?)";
    }
    try {
      if (new ProcessBuilder("iptables", "-L", "OUTPUT", "-n").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() != 0) {
        return "iptables -L fails (not root, or no netfilter)";
      }
    } catch (IOException e) {
      return "iptables is not installed (apt-get install iptables)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
    return null;
  }

  public static boolean available() {
    return unavailableReason() == null;
  }

  /** Cuts every connection between {@code node} and every other node. */
  public void isolate(String node) throws IOException, InterruptedException {
    List<String> others = cluster.nodes().stream().map(m -> m.id).filter(id -> !id.equals(node)).toList();
    partition(Set.of(node), others);
  }

  /** Cuts every connection between a node of {@code side} and a node of {@code other}. */
  public void partition(Collection<String> side, Collection<String> other) throws IOException, InterruptedException {
    for (String a : side) {
      for (String b : other) {
        drop(a, b);
        drop(b, a);
      }
    }
  }

  /** Drops what {@code from} sends to {@code to} (one direction). */
  public void drop(String from, String to) throws IOException, InterruptedException {
    String group = cluster.cgroupOf(from);
    if (group == null) {
      throw new IllegalStateException("the cluster was not started with ProcessCluster.startIsolatable");
    }
    List<String> rule = List.of("OUTPUT", "-o", "lo", "-m", "cgroup", "--path", group, "-d", cluster.hostOf(to),
        "-j", "DROP");
    iptables("-I", rule);
    rules.add(rule);
  }

  /** Removes every rule this instance added. */
  public void heal() throws IOException, InterruptedException {
    IOException failed = null;
    for (List<String> rule : rules) {
      try {
        iptables("-D", rule);
      } catch (IOException e) {
        failed = e;
      }
    }
    rules.clear();
    if (failed != null) {
      throw failed;
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    heal();
  }

  private static void iptables(String action, List<String> rule) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("iptables", "-w", action));
    cmd.addAll(rule);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
