package io.flotilla.testcluster.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testcluster.ApiClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * Accounts spread over every initial range; clients move money between two accounts in
 * different ranges with one atomic batch (both puts conditional on the versions just read),
 * and read every account in one atomic batch. Every read, and the final state, must hold the
 * initial total: a partial transfer, or one applied twice, changes it.
 */
public final class BankWorkload implements Workload {
  private static final long START = 100;
  private final List<String> accounts = new ArrayList<>();

  public BankWorkload(String namespace) {
    for (String range : List.of("c", "j", "q", "x")) {
      for (int i = 0; i < 2; i++) {
        accounts.add(range + "/chaos-bank/" + namespace + "/" + i);
      }
    }
  }

  private long total() {
    return START * accounts.size();
  }

  @Override
  public void setup(ApiClient api, List<String> nodes) {
    for (String a : accounts) {
      ApiClient.Resp r = null;
      for (int attempt = 0; attempt < 20 && (r == null || r.status() != 200); attempt++) {
        r = api.put(nodes.get(attempt % nodes.size()), a, Long.toString(START));
      }
      if (r == null || r.status() != 200) {
        throw new IllegalStateException("could not open account " + a + ": " + r);
      }
    }
  }

  @Override
  public Op.Type step(int client, int process, Random random, ApiClient api, String node, History history) {
    if (random.nextInt(3) == 0) {
      Op inv = history.invoke(process, "read", null, null);
      Outcomes.Outcome o = Outcomes.read(() -> api.batch(node, batch(accounts.stream().map(BankWorkload::get).toList())));
      if (o.type() == Op.Type.OK && o.resp().status() == 200) {
        List<String> balances = new ArrayList<>();
        o.resp().json().get("results").forEach(item -> balances.add(value(item)));
        history.complete(inv, Op.Type.OK, String.join(",", balances));
        return Op.Type.OK;
      }
      history.complete(inv, Op.Type.FAIL, o.error());
      return Op.Type.FAIL;
    }
    String from = accounts.get(random.nextInt(accounts.size()));
    String to = accounts.get(random.nextInt(accounts.size()));
    while (to.charAt(0) == from.charAt(0)) {
      to = accounts.get(random.nextInt(accounts.size()));
    }
    long amount = 1 + random.nextInt(10);
    Op inv = history.invoke(process, "transfer", null, from + "->" + to + ":" + amount);
    String pairTo = to;
    Outcomes.Outcome read = Outcomes.read(() -> api.batch(node, batch(List.of(get(from), get(pairTo)))));
    if (read.type() != Op.Type.OK || read.resp().status() != 200) {
      history.complete(inv, Op.Type.FAIL, "could not read the balances: " + read.error());
      return Op.Type.FAIL;
    }
    JsonNode f = read.resp().json().get("results").get(0);
    JsonNode t = read.resp().json().get("results").get(1);
    long fromBalance = Long.parseLong(value(f));
    long toBalance = Long.parseLong(value(t));
    Outcomes.Outcome move = Outcomes.write(() -> api.batch(node, batch(List.of(
        put(from, fromBalance - amount, f.get("version").asLong()),
        put(pairTo, toBalance + amount, t.get("version").asLong())))));
    history.complete(inv, move.type(), move.error());
    return move.type();
  }

  @Override
  public Verdict check(List<Op> history, ApiClient api, List<String> nodes) {
    List<String> anomalies = new ArrayList<>();
    int reads = 0;
    for (Op op : history) {
      if ("read".equals(op.f()) && op.type() == Op.Type.OK) {
        reads++;
        long sum = sum(op.value());
        if (sum != total()) {
          anomalies.add(String.format("an atomic read at %.3f s summed to %d, not %d: %s", op.nanos() / 1e9, sum,
              total(), op.value()));
        }
      }
    }
    long transfers = history.stream().filter(op -> "transfer".equals(op.f()) && op.type() == Op.Type.OK).count();
    String last = null;
    for (int attempt = 0; attempt < 30 && last == null; attempt++) {
      try {
        ApiClient.Resp r = api.batch(nodes.get(attempt % nodes.size()),
            batch(accounts.stream().map(BankWorkload::get).toList()));
        if (r.status() == 200) {
          List<String> balances = new ArrayList<>();
          r.json().get("results").forEach(item -> balances.add(value(item)));
          last = String.join(",", balances);
        }
      } catch (java.io.UncheckedIOException e) {
        // next node
      }
    }
    if (last == null) {
      anomalies.add("the accounts could not be read back");
    } else if (sum(last) != total()) {
      anomalies.add("the final balances sum to " + sum(last) + ", not " + total() + ": " + last);
    }
    return Verdict.of(anomalies, String.format("%d transfers acknowledged, %d atomic reads checked, final balances %s",
        transfers, reads, last));
  }

  private static long sum(String balances) {
    long sum = 0;
    for (String b : balances.split(",")) {
      sum += Long.parseLong(b);
    }
    return sum;
  }

  private static String value(JsonNode item) {
    return new String(Base64.getDecoder().decode(item.get("value").asText()), StandardCharsets.UTF_8);
  }

  private static String get(String key) {
    return "{\"op\":\"get\",\"key\":\"" + key + "\"}";
  }

  private static String put(String key, long value, long version) {
    return "{\"op\":\"put\",\"key\":\"" + key + "\",\"value\":\""
        + Base64.getEncoder().encodeToString(Long.toString(value).getBytes(StandardCharsets.UTF_8))
        + "\",\"if_version\":" + version + "}";
  }

  private static String batch(List<String> ops) {
    return "{\"atomic\": true, \"ops\": [" + String.join(",", ops) + "]}";
  }
}
