package io.flotilla.client.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An in-memory Flotilla cluster behind real HTTP servers on 127.0.0.1 (one per node), speaking
 * enough of shared/API.md for the client: keys, scans, batches and the range listing.
 *
 * <p>Replication is modelled the way sessions care about: each range has an authoritative
 * revision and a history of every key; each node has an applied revision per range. A write
 * is applied by the node that received it (and by every node when {@link #replicateAtOnce});
 * the other nodes lag. {@code strong} and {@code follower} reads see the latest state (a follower
 * catches up first, as a read index makes it); a {@code stale} read sees the node's applied state,
 * and with {@code min_revision=R} the node first catches up to R, or answers {@code 504} when the
 * range has not reached R (the real node would wait out its request timeout).
 *
 * <p>Faults per node: {@link Node#stop} (connections refused), {@link Behavior#UNAVAILABLE}
 * (503 for everything), {@link Behavior#HANG} (the request is read, no answer until {@link
 * #close}), {@link Behavior#RESET} (the connection is closed without an answer), and
 * {@link Node#respondNext} for one canned answer. Every request a node got is recorded.
 */
final class FakeCluster implements AutoCloseable {
  enum Behavior { NORMAL, UNAVAILABLE, HANG, RESET }

  /** A request as a node received it. */
  record Request(String method, String path, Map<String, String> params, byte[] body, String authorization) {
    String param(String name) {
      return params.get(name);
    }
  }

  private record Version(long revision, byte[] value, long expiresAtMillis) {}

  private static final class Range {
    final long id;
    final String start;
    String end; // null: unbounded
    long revision;

    Range(long id, String start, String end, long revision) {
      this.id = id;
      this.start = start;
      this.end = end;
      this.revision = revision;
    }

    boolean holds(String key) {
      return key.compareTo(start) >= 0 && (end == null || key.compareTo(end) < 0);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Range> ranges = new ArrayList<>();
  private final TreeMap<String, List<Version>> history = new TreeMap<>();
  private final List<Node> nodes = new ArrayList<>();
  private final CountDownLatch released = new CountDownLatch(1);
  private final ExecutorService pool = Executors.newCachedThreadPool();
  volatile boolean replicateAtOnce;
  /** When set, every node answers 401 to a request without {@code Authorization: Bearer <it>}, as with auth on. */
  volatile String requiredToken;

  /** A cluster of {@code nodes} nodes and ranges cut at {@code splitKeys} (ids 1, 2, ...). */
  FakeCluster(int nodeCount, String... splitKeys) throws IOException {
    String start = "";
    long id = 1;
    for (String cut : splitKeys) {
      ranges.add(new Range(id++, start, cut, 0));
      start = cut;
    }
    ranges.add(new Range(id, start, null, 0));
    for (int i = 0; i < nodeCount; i++) {
      nodes.add(new Node("n" + (i + 1)));
    }
  }

  Node node(int i) {
    return nodes.get(i - 1);
  }

  List<String> urls() {
    return nodes.stream().map(Node::url).toList();
  }

  /** Every request any node received for paths starting with {@code prefix}. */
  List<Request> requests(String prefix) {
    List<Request> out = new ArrayList<>();
    nodes.forEach(n -> n.received.stream().filter(r -> r.path().startsWith(prefix)).forEach(out::add));
    return out;
  }

  synchronized long revisionOf(long rangeId) {
    return range(rangeId).revision;
  }

  /** Splits range {@code id} at {@code at}: the upper half becomes range {@code childId}, inheriting the revision. */
  synchronized void split(long id, String at, long childId) {
    Range parent = range(id);
    Range child = new Range(childId, at, parent.end, parent.revision);
    parent.end = at;
    ranges.add(ranges.indexOf(parent) + 1, child);
    for (Node n : nodes) {
      n.applied.put(childId, n.applied.getOrDefault(id, 0L));
    }
  }

  /** Every node catches up with every range. */
  synchronized void catchUpAll() {
    for (Node n : nodes) {
      ranges.forEach(r -> n.applied.put(r.id, r.revision));
    }
  }

  private Range range(long id) {
    return ranges.stream().filter(r -> r.id == id).findFirst().orElseThrow();
  }

  private Range rangeOf(String key) {
    return ranges.stream().filter(r -> r.holds(key)).findFirst().orElseThrow();
  }

  @Override
  public void close() {
    released.countDown();
    nodes.forEach(Node::stop);
    pool.shutdownNow();
  }

  final class Node {
    final String id;
    final List<Request> received = new CopyOnWriteArrayList<>();
    final Map<Long, Long> applied = new HashMap<>();
    private final HttpServer server;
    private volatile Behavior behavior = Behavior.NORMAL;
    private volatile int[] nextStatus;
    private volatile String nextBody;

    Node(String id) throws IOException {
      this.id = id;
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(pool);
      server.createContext("/", this::handle);
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void behave(Behavior b) {
      behavior = b;
    }

    /** The next request gets this status and JSON body, whatever it asks. */
    void respondNext(int status, String body) {
      nextBody = body;
      nextStatus = new int[] {status};
    }

    /** Closes the listening socket: further connections are refused. */
    void stop() {
      server.stop(0);
    }

    long appliedOf(long rangeId) {
      synchronized (FakeCluster.this) {
        return applied.getOrDefault(rangeId, 0L);
      }
    }

    List<Request> received(String method, String pathPrefix) {
      return received.stream().filter(r -> r.method().equals(method) && r.path().startsWith(pathPrefix)).toList();
    }

    private void handle(HttpExchange ex) throws IOException {
      byte[] body = ex.getRequestBody().readAllBytes();
      String path = decode(ex.getRequestURI().getRawPath());
      Request request = new Request(ex.getRequestMethod(), path, params(ex.getRequestURI().getRawQuery()), body,
          ex.getRequestHeaders().getFirst("Authorization"));
      received.add(request);
      String token = requiredToken;
      if (token != null && !("Bearer " + token).equals(request.authorization())) {
        send(ex, 401, error("unauthenticated", "no token this node knows"), Map.of("WWW-Authenticate", "Bearer"));
        return;
      }
      int[] status = nextStatus;
      if (status != null) {
        nextStatus = null;
        send(ex, status[0], JSON.readTree(nextBody), Map.of());
        return;
      }
      switch (behavior) {
        case UNAVAILABLE -> {
          send(ex, 503, error("unavailable", "node " + id + " is starting"), Map.of("Retry-After", "1"));
          return;
        }
        case HANG -> {
          try {
            released.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          ex.close();
          return;
        }
        case RESET -> {
          ex.close(); // no status line: the client sees the connection end
          return;
        }
        default -> { }
      }
      Answer a;
      synchronized (FakeCluster.this) {
        a = answer(ex.getRequestMethod(), path, request);
      }
      send(ex, a.status, a.body, a.headers);
    }

    private Answer answer(String method, String path, Request req) {
      if (path.equals("/v1/admin/ranges")) {
        return listing();
      }
      if (path.equals("/v1/batch") && method.equals("POST")) {
        return batch(req);
      }
      if (path.equals("/v1/kv")) {
        return method.equals("GET") ? scan(req) : deleteSpan(req);
      }
      if (!path.startsWith("/v1/kv/")) {
        return new Answer(404, error("not_found", "no such endpoint"), Map.of());
      }
      String key = path.substring("/v1/kv/".length());
      if (method.equals("POST") && key.endsWith("/incr")) {
        return incr(key.substring(0, key.length() - "/incr".length()), req);
      }
      return switch (method) {
        case "PUT" -> put(key, req);
        case "GET", "HEAD" -> get(key, req, method.equals("HEAD"));
        case "DELETE" -> delete(key, req);
        default -> new Answer(405, error("method_not_allowed", method), Map.of());
      };
    }

    // ---- reads --------------------------------------------------------------------------

    /** The revision this node serves range {@code r} at, or -1 if it cannot reach min_revision. */
    private long readRevision(Range r, Request req) {
      String mode = req.params().getOrDefault("consistency", "strong");
      if (!mode.equals("stale")) {
        applied.put(r.id, r.revision); // strong: the leader's state; follower: caught up to the read index
        return r.revision;
      }
      long min = Long.parseLong(req.params().getOrDefault("min_revision", "0"));
      if (min > r.revision) {
        return -1;
      }
      long mine = Math.max(applied.getOrDefault(r.id, 0L), min);
      applied.put(r.id, mine);
      return mine;
    }

    private Answer get(String key, Request req, boolean head) {
      Range r = rangeOf(key);
      long at = readRevision(r, req);
      if (at < 0) {
        return timeout();
      }
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("X-Flotilla-Served-By", id);
      if (!req.params().getOrDefault("consistency", "strong").equals("strong")) {
        headers.put("X-Flotilla-Applied-Revision", Long.toString(at));
      }
      Version v = visible(key, at);
      if (v == null) {
        return new Answer(404, head ? null : error("not_found", "key '" + key + "' does not exist"), headers);
      }
      if (head) {
        headers.put("X-Flotilla-Version", Long.toString(v.revision()));
        headers.put("X-Flotilla-Revision", Long.toString(at));
        return new Answer(200, null, headers);
      }
      ObjectNode out = item(key, v, true).put("revision", at);
      return new Answer(200, out, headers);
    }

    private Answer scan(Request req) {
      String prefix = req.param("prefix");
      String start = prefix != null ? prefix : req.params().getOrDefault("start", "");
      String end = prefix != null ? (prefix.isEmpty() ? null : prefix + Character.MAX_VALUE) : req.param("end");
      boolean reverse = "true".equals(req.param("reverse"));
      boolean keysOnly = "true".equals(req.param("keys_only"));
      int limit = Integer.parseInt(req.params().getOrDefault("limit", "100"));
      String cursor = req.param("cursor");
      Map<Long, Long> at = new HashMap<>();
      for (Range r : ranges) {
        boolean overlaps = (end == null || r.start.compareTo(end) < 0) && (r.end == null || r.end.compareTo(start) > 0);
        if (overlaps) {
          long rev = readRevision(r, req);
          if (rev < 0) {
            return timeout();
          }
          at.put(r.id, rev);
        }
      }
      List<String> keys = new ArrayList<>((end == null ? history.tailMap(start, true)
          : history.subMap(start, true, end, false)).keySet());
      if (reverse) {
        java.util.Collections.reverse(keys);
      }
      ArrayNode items = JSON.createArrayNode();
      String next = null;
      for (String k : keys) {
        if (cursor != null && (reverse ? k.compareTo(cursor) >= 0 : k.compareTo(cursor) < 0)) {
          continue;
        }
        Version v = visible(k, at.get(rangeOf(k).id));
        if (v == null) {
          continue;
        }
        if (items.size() == limit) {
          next = reverse ? items.get(limit - 1).get("key").asText() : items.get(limit - 1).get("key").asText() + "\0";
          break;
        }
        items.add(item(k, v, !keysOnly));
      }
      ObjectNode out = JSON.createObjectNode();
      out.set("items", items);
      out.put("cursor", next);
      return new Answer(200, out, Map.of("X-Flotilla-Served-By", id));
    }

    private Version visible(String key, long revision) {
      List<Version> versions = history.get(key);
      if (versions == null) {
        return null;
      }
      Version found = null;
      for (Version v : versions) {
        if (v.revision() <= revision) {
          found = v;
        }
      }
      return found == null || found.value() == null ? null : found;
    }

    private long currentVersion(String key) {
      Version v = visible(key, rangeOf(key).revision);
      return v == null ? 0 : v.revision();
    }

    // ---- writes -------------------------------------------------------------------------

    /** Applies one write at the key's range's next revision; returns that revision. */
    private long apply(String key, byte[] value, long expiresAt) {
      Range r = rangeOf(key);
      r.revision++;
      history.computeIfAbsent(key, k -> new ArrayList<>()).add(new Version(r.revision, value, expiresAt));
      for (Node n : nodes) {
        if (n == this || replicateAtOnce) {
          n.applied.put(r.id, r.revision);
        }
      }
      return r.revision;
    }

    private Answer conflictUnless(String key, String ifVersion) {
      if (ifVersion == null) {
        return null;
      }
      long current = currentVersion(key);
      if (Long.parseLong(ifVersion) != current) {
        ObjectNode e = error("version_conflict", "key '" + key + "' is at version " + current);
        e.put("current_version", current);
        return new Answer(409, e, Map.of());
      }
      return null;
    }

    private Answer put(String key, Request req) {
      Answer conflict = conflictUnless(key, req.param("if_version"));
      if (conflict != null) {
        return conflict;
      }
      String ttl = req.param("ttl");
      long expires = ttl == null ? 0 : System.currentTimeMillis() + Long.parseLong(ttl) * 1000;
      long rev = apply(key, req.body(), expires);
      ObjectNode out = JSON.createObjectNode().put("key", key).put("version", rev).put("revision", rev);
      if (expires != 0) {
        out.put("expires_at", Instant.ofEpochMilli(expires).toString());
      }
      return new Answer(200, out, Map.of());
    }

    private Answer delete(String key, Request req) {
      Answer conflict = conflictUnless(key, req.param("if_version"));
      if (conflict != null) {
        return conflict;
      }
      boolean existed = currentVersion(key) != 0;
      long rev = apply(key, null, 0);
      return new Answer(200, JSON.createObjectNode().put("key", key).put("deleted", existed).put("revision", rev),
          Map.of());
    }

    private Answer incr(String key, Request req) {
      long delta;
      try {
        delta = req.body().length == 0 ? 1 : JSON.readTree(req.body()).path("delta").asLong(1);
      } catch (IOException e) {
        return new Answer(400, error("invalid_argument", "bad JSON"), Map.of());
      }
      Version v = visible(key, rangeOf(key).revision);
      long value;
      try {
        value = (v == null ? 0 : Long.parseLong(new String(v.value(), StandardCharsets.US_ASCII))) + delta;
      } catch (NumberFormatException e) {
        return new Answer(422, error("unprocessable", "the value is not a decimal integer"), Map.of());
      }
      long rev = apply(key, Long.toString(value).getBytes(StandardCharsets.US_ASCII), 0);
      return new Answer(200, JSON.createObjectNode().put("key", key).put("value", value).put("version", rev)
          .put("revision", rev), Map.of());
    }

    private Answer deleteSpan(Request req) {
      String prefix = req.param("prefix");
      String start = prefix != null ? prefix : req.param("start");
      String end = prefix != null ? prefix + Character.MAX_VALUE : req.param("end");
      long n = 0;
      for (String k : new ArrayList<>(history.subMap(start, true, end, false).keySet())) {
        if (currentVersion(k) != 0) {
          apply(k, null, 0);
          n++;
        }
      }
      return new Answer(200, JSON.createObjectNode().put("deleted", n), Map.of());
    }

    private Answer batch(Request req) {
      JsonNode root;
      try {
        root = JSON.readTree(req.body());
      } catch (IOException e) {
        return new Answer(400, error("invalid_argument", "bad JSON"), Map.of());
      }
      boolean atomic = root.path("atomic").asBoolean();
      JsonNode ops = root.path("ops");
      if (atomic) {
        for (int i = 0; i < ops.size(); i++) {
          JsonNode op = ops.get(i);
          if (op.has("if_version") && op.get("if_version").asLong() != currentVersion(op.get("key").asText())) {
            ObjectNode e = error("version_conflict", "op " + i + " of the atomic batch; nothing was applied");
            e.put("failed_index", i).put("current_version", currentVersion(op.get("key").asText()));
            return new Answer(409, e, Map.of());
          }
        }
      }
      ArrayNode results = JSON.createArrayNode();
      int ok = 0;
      for (JsonNode op : ops) {
        String key = op.get("key").asText();
        String kind = op.get("op").asText();
        if (op.has("if_version") && op.get("if_version").asLong() != currentVersion(key)) {
          results.add(error("version_conflict", "condition failed").put("current_version", currentVersion(key))
              .put("key", key));
          continue;
        }
        ok++;
        switch (kind) {
          case "put" -> {
            long rev = apply(key, Base64.getDecoder().decode(op.get("value").asText()), 0);
            results.add(JSON.createObjectNode().put("op", "put").put("key", key).put("version", rev).put("revision", rev));
          }
          case "delete" -> {
            boolean existed = currentVersion(key) != 0;
            long rev = apply(key, null, 0);
            results.add(JSON.createObjectNode().put("op", "delete").put("key", key).put("deleted", existed)
                .put("revision", rev));
          }
          default -> {
            Version v = visible(key, rangeOf(key).revision);
            results.add(v == null ? JSON.createObjectNode().put("op", "get").put("key", key).put("found", false)
                : item(key, v, true).put("op", "get").put("found", true));
          }
        }
      }
      ObjectNode out = JSON.createObjectNode();
      out.set("results", results);
      out.put("succeeded", ok).put("failed", ops.size() - ok);
      return new Answer(200, out, Map.of());
    }

    private Answer listing() {
      ArrayNode list = JSON.createArrayNode();
      for (Range r : ranges) {
        ObjectNode o = list.addObject().put("id", r.id).put("start", r.start).put("end", r.end);
        o.putObject("epoch").put("version", 1).put("conf", 1);
        o.putArray("replicas");
        o.putNull("leader");
        o.put("revision", r.revision);
      }
      ObjectNode out = JSON.createObjectNode();
      out.set("ranges", list);
      return new Answer(200, out, Map.of());
    }
  }

  private record Answer(int status, JsonNode body, Map<String, String> headers) {}

  private static Answer timeout() {
    return new Answer(504, error("timeout", "the get did not complete within 10000 ms"), Map.of());
  }

  private static ObjectNode item(String key, Version v, boolean withValue) {
    ObjectNode o = JSON.createObjectNode().put("key", key);
    if (withValue) {
      o.put("value", Base64.getEncoder().encodeToString(v.value()));
    }
    o.put("version", v.revision());
    if (v.expiresAtMillis() != 0) {
      o.put("expires_at", Instant.ofEpochMilli(v.expiresAtMillis()).toString());
    }
    return o;
  }

  private static ObjectNode error(String code, String message) {
    return JSON.createObjectNode().put("error", code).put("message", message);
  }

  private static void send(HttpExchange ex, int status, JsonNode body, Map<String, String> headers) throws IOException {
    headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
    if (body == null || ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
    } else {
      byte[] bytes = JSON.writeValueAsBytes(body);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(status, bytes.length);
      ex.getResponseBody().write(bytes);
    }
    ex.close();
  }

  private static String decode(String raw) {
    return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static Map<String, String> params(String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      out.put(decode(eq < 0 ? pair : pair.substring(0, eq)), eq < 0 ? "" : decode(pair.substring(eq + 1)));
    }
    return out;
  }
}
