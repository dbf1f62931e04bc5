package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import io.flotilla.testcluster.Network;
import io.flotilla.testcluster.ClusterBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One chaos run, structured as Jepsen's: a workload (clients, and a checker of the history they
 * record) times a nemesis (faults started and healed on a schedule) times options. Clients and
 * the fault schedule draw from the seed, so the schedule of a run can be replayed; what the
 * cluster does under it cannot (timing), which is what the checker judges.
 */
public final class ChaosRun {
  /**
   * @param faultEvery healthy time between faults; each fault lasts as long
   */
  public record Options(String workload, List<String> nemeses, Duration time, long seed, int clients,
      Duration faultEvery, Path runDir) {}

  /** What a run found, and where its files are. */
  public record Result(Workload.Verdict verdict, int ok, int fail, int info, List<String> faults, Path runDir) {
    public boolean valid() {
      return verdict.valid();
    }
  }

  private ChaosRun() {}

  public static Workload workload(String name, String namespace, Duration checkBudget) {
    return switch (name) {
      case "register" -> new RegisterWorkload(namespace, checkBudget.toSeconds());
      case "set" -> new SetWorkload(namespace);
      case "counter" -> new CounterWorkload(namespace);
      case "bank" -> new BankWorkload(namespace);
      case "stale" -> new StaleWorkload(namespace);
      default -> throw new IllegalArgumentException("unknown workload " + name
          + "; one of register, set, counter, bank, stale");
    };
  }

  /** Runs against a started cluster (partitions need a backend whose {@code network()} is not null). */
  public static Result run(Options o, ClusterBackend cluster) throws Exception {
    Workload workload = workload(o.workload(), o.seed() + "-" + System.currentTimeMillis(), Duration.ofSeconds(60));
    Network network = cluster.network();
    List<Nemesis> nemeses = new ArrayList<>();
    for (String kind : o.nemeses()) {
      nemeses.add(Nemesis.of(kind, cluster, kind.startsWith("partition") ? network : null));
    }
    History history = new History();
    ApiClient api = new ApiClient(Duration.ofSeconds(10));
    List<String> urls = cluster.nodeIds().stream().map(cluster::url).toList();
    workload.setup(api, urls);
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < o.clients(); c++) {
      int client = c;
      Random random = new Random(o.seed() * 1_000 + c);
      Thread t = new Thread(() -> {
        int process = client;
        while (!stop.get()) {
          String node = urls.get(random.nextInt(urls.size()));
          Op.Type outcome;
          try {
            outcome = workload.step(client, process, random, api, node, history);
          } catch (RuntimeException | AssertionError e) {
            // An answer the client could not read (an unexpected body): its operation stays
            // open, which every checker takes as unknown, and the client goes on as a new process.
            System.err.println("chaos client " + client + ": " + e);
            outcome = Op.Type.INFO;
          }
          if (outcome == Op.Type.INFO) {
            process += o.clients(); // the old process may still be in flight: never reuse it
          }
          sleepQuietly(random.nextInt(20));
        }
      }, "chaos-client-" + c);
      t.start();
      clients.add(t);
    }
    List<String> faults = new ArrayList<>();
    Random schedule = new Random(o.seed());
    long end = System.nanoTime() + o.time().toNanos();
    try {
      while (System.nanoTime() + 2 * o.faultEvery().toNanos() <= end && !nemeses.isEmpty()) {
        Thread.sleep(o.faultEvery().toMillis());
        Nemesis n = nemeses.get(schedule.nextInt(nemeses.size()));
        String started = n.start(schedule);
        history.nemesis("start", started);
        faults.add(started);
        Thread.sleep(o.faultEvery().toMillis());
        history.nemesis("stop", n.heal());
      }
      Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
    } catch (Exception | Error e) {
      // Heal and stop first, then report the fault that stopped the run, not a heal that
      // failed after it (a heal that follows a failed start may well fail too).
      try {
        healAndStop(nemeses, stop, clients);
      } catch (Exception healing) {
        e.addSuppressed(healing);
      }
      throw e;
    }
    healAndStop(nemeses, stop, clients);
    cluster.awaitReady(Duration.ofSeconds(120));
    List<Op> ops = history.ops();
    Workload.Verdict verdict = workload.check(ops, api, urls);
    int ok = 0;
    int fail = 0;
    int info = 0;
    for (Op op : ops) {
      if (op.process() != History.NEMESIS) {
        ok += op.type() == Op.Type.OK ? 1 : 0;
        fail += op.type() == Op.Type.FAIL ? 1 : 0;
        info += op.type() == Op.Type.INFO ? 1 : 0;
      }
    }
    Files.createDirectories(o.runDir());
    history.write(o.runDir().resolve("history.jsonl"));
    Files.writeString(o.runDir().resolve("latency.svg"), Plot.latency(ops, o.workload() + " x " + o.nemeses()));
    Result result = new Result(verdict, ok, fail, info, faults, o.runDir());
    Files.writeString(o.runDir().resolve("verdict.txt"), describe(o, result));
    return result;
  }

  public static String describe(Options o, Result r) {
    StringBuilder b = new StringBuilder();
    b.append(r.verdict().valid() ? "VALID" : r.verdict().unknown() ? "UNKNOWN" : "INVALID")
        .append(": ").append(o.workload()).append(" x ").append(o.nemeses()).append(", ").append(o.time().toSeconds())
        .append(" s, seed ").append(o.seed()).append('\n');
    b.append(String.format("operations: %d ok, %d fail, %d info%n", r.ok(), r.fail(), r.info()));
    b.append("faults: ").append(r.faults()).append('\n');
    b.append("checker: ").append(r.verdict().summary()).append('\n');
    for (String a : r.verdict().anomalies()) {
      b.append("ANOMALY: ").append(a).append('\n');
    }
    b.append("run directory: ").append(r.runDir()).append('\n');
    return b.toString();
  }

  /** Heals every nemesis, then stops the clients and waits for them. */
  private static void healAndStop(List<Nemesis> nemeses, AtomicBoolean stop, List<Thread> clients) throws Exception {
    try {
      for (Nemesis n : nemeses) {
        n.heal();
      }
    } finally {
      stop.set(true);
      for (Thread t : clients) {
        t.join();
      }
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
