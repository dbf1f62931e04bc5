package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads, writes and compare-and-sets on a few registers (one per initial range), with reads in
 * both linearizable modes (strong and follower). Every written value is unique, so a CAS by
 * version ({@code if_version} of a value this client read) is a CAS on that value; the
 * linearizability checker judges each register's history.
 */
public final class RegisterWorkload implements Workload {
  private final List<String> keys;

  private final AtomicLong values = new AtomicLong();
  /** The last value (and its version) each process read per key: "process/key" -> [value, version]. */
  private final Map<String, String[]> lastRead = new ConcurrentHashMap<>();
  private final long checkSeconds;

  /** {@code namespace} keeps this run's registers apart from earlier runs' on the same cluster. */
  public RegisterWorkload(String namespace, long checkSeconds) {
    this.checkSeconds = checkSeconds;
    this.keys = java.util.stream.Stream.of("b", "h", "o", "v").map(p -> p + "/chaos-reg/" + namespace).toList();
  }

  @Override
  public Op.Type step(int client, int process, Random random, ApiClient api, String node, History history) {
    String key = keys.get(random.nextInt(keys.size()));
    String[] seen = lastRead.get(process + "/" + key);
    int dice = random.nextInt(10);
    if (dice < 4 || (dice >= 8 && seen == null)) {
      String mode = random.nextBoolean() ? "strong" : "follower";
      Op inv = history.invoke(process, "read", key, mode);
      Outcomes.Outcome o = Outcomes.read(() -> api.get(node, key, "consistency=" + mode + "&raw"));
      String value = null;
      if (o.type() == Op.Type.OK && o.resp().status() == 200) {
        value = new String(o.resp().body(), StandardCharsets.UTF_8);
        lastRead.put(process + "/" + key, new String[] {value, o.resp().header("X-Flotilla-Version")});
      } else if (o.type() == Op.Type.OK) {
        lastRead.put(process + "/" + key, new String[] {null, "0"});
      }
      history.complete(inv, o.type(), o.type() == Op.Type.OK ? value : o.error());
      return o.type();
    }
    String next = "v" + values.incrementAndGet();
    if (dice < 8) {
      Op inv = history.invoke(process, "write", key, next);
      Outcomes.Outcome o = Outcomes.write(() -> api.put(node, key, next));
      history.complete(inv, o.type(), o.error());
      return o.type();
    }
    String expected = seen[0] == null ? "nil" : seen[0];
    Op inv = history.invoke(process, "cas", key, expected + "->" + next);
    Outcomes.Outcome o = Outcomes.write(() -> api.put(node, key, next.getBytes(StandardCharsets.UTF_8),
        "if_version=" + seen[1]));
    // A 409 (version_conflict) fail means the register held another value; any other refusal
    // (unavailable, never sent) only that nothing happened: the checker tells them apart.
    history.complete(inv, o.type(), o.error());
    return o.type();
  }

  @Override
  public Verdict check(List<Op> history, ApiClient api, List<String> nodes) {
    List<String> anomalies = new ArrayList<>();
    StringBuilder summary = new StringBuilder();
    boolean unknown = false;
    for (String key : keys) {
      List<Op> ops = history.stream().filter(op -> key.equals(op.key())).toList();
      List<Linearizability.Call> calls = Linearizability.calls(ops);
      Linearizability.Result r = Linearizability.check(calls, null, 5_000_000,
          System.nanoTime() + checkSeconds * 1_000_000_000L);
      summary.append(String.format("%s: %d ops %s (%d states); ", key, calls.size(), r.verdict(), r.statesExplored()));
      if (r.verdict() == Linearizability.Verdict.INVALID) {
        anomalies.add(key + " is not linearizable; no order explains these operations: " + r.window());
      }
      unknown |= r.verdict() == Linearizability.Verdict.UNKNOWN;
    }
    return new Verdict(anomalies.isEmpty() && !unknown, unknown && anomalies.isEmpty(), summary.toString(), anomalies);
  }
}
