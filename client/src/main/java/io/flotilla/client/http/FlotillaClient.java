package io.flotilla.client.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

/**
 * The Java SDK's HTTP client of a Flotilla cluster: every key operation of shared/API.md,
 * asynchronous, against a list of nodes (any node serves any key).
 *
 * <pre>{@code
 * FlotillaClient client = FlotillaClient.builder()
 *     .nodes(List.of("http://127.0.0.11:7001", "http://127.0.0.12:7001"))
 *     .requestTimeout(Duration.ofSeconds(15))
 *     .build();
 * client.put("users/42", bytes).join();
 * Session session = client.newSession();   // read-your-writes and monotonic reads
 * }</pre>
 *
 * <p>Requests go to one node and stay with it until it fails; the package documentation says
 * what is retried on the next node and what is reported as {@link OutcomeUnknownException}.
 * Thread-safe; one instance per application is the intended use (it pools connections).
 */
public final class FlotillaClient implements KeyOperations {
  private final HttpKv kv;
  private final RoutingCache routing;

  private FlotillaClient(HttpKv kv, RoutingCache routing) {
    this.kv = kv;
    this.routing = routing;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A new session: its reads observe its own writes and never go back in time, on any node and read mode. */
  public Session newSession() {
    return new Session(kv, routing, new SessionFloors());
  }

  /**
   * This client aimed at one node only (it need not be in the node list): same settings and
   * connections, no failover. For tools and tests that must talk to a given node.
   */
  public FlotillaClient onNode(String baseUrl) {
    return new FlotillaClient(new HttpKv(kv.transport().pinned(normalize(baseUrl))), routing);
  }

  /** Lists the ranges again now (sessions also refresh by themselves, see {@link Builder#routingRefresh}). */
  public CompletableFuture<Void> refreshRouting() {
    return routing.refresh().thenApply(x -> null);
  }

  public List<URI> nodes() {
    return kv.transport().nodes();
  }

  @Override
  public CompletableFuture<PutResult> put(String key, byte[] value, PutOptions options) {
    return kv.put(key, value, options);
  }

  @Override
  public CompletableFuture<Optional<KeyValue>> get(String key, Consistency consistency) {
    return kv.get(key, consistency, 0).thenApply(HttpKv.Observed::value);
  }

  @Override
  public CompletableFuture<OptionalLong> version(String key, Consistency consistency) {
    return kv.version(key, consistency, 0).thenApply(HttpKv.Observed::value);
  }

  @Override
  public CompletableFuture<DeleteResult> delete(String key) {
    return kv.delete(key, null);
  }

  @Override
  public CompletableFuture<DeleteResult> delete(String key, long ifVersion) {
    return kv.delete(key, ifVersion);
  }

  @Override
  public CompletableFuture<IncrResult> incr(String key, long delta) {
    return kv.incr(key, delta);
  }

  @Override
  public CompletableFuture<ScanPage> scan(ScanRequest request) {
    return kv.scan(request, 0);
  }

  @Override
  public CompletableFuture<Long> deleteRange(String start, String end) {
    return kv.deleteRange(start, end);
  }

  @Override
  public CompletableFuture<Long> deletePrefix(String prefix) {
    return kv.deletePrefix(prefix);
  }

  @Override
  public CompletableFuture<BatchResult> batch(boolean atomic, List<BatchOp> ops) {
    return kv.batch(atomic, List.copyOf(ops));
  }

  static URI normalize(String url) {
    String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    URI uri = URI.create(u);
    if (uri.getScheme() == null || uri.getHost() == null) {
      throw new IllegalArgumentException("a node URL looks like http://127.0.0.11:7001 (got '" + url + "')");
    }
    return uri;
  }

  /** Settings of a {@link FlotillaClient}; only {@link #nodes} is required. */
  public static final class Builder {
    private final List<URI> nodes = new ArrayList<>();
    private Duration requestTimeout = Duration.ofSeconds(15);
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Executor executor;
    private Integer maxAttempts;
    private Duration backoffBase = Duration.ofMillis(50);
    private Duration backoffMax = Duration.ofSeconds(1);
    private Duration routingRefresh = Duration.ofSeconds(30);
    private Clock clock = Clock.systemUTC();
    private String token;
    private javax.net.ssl.SSLContext sslContext;

    private Builder() {}

    /**
     * Whom to trust for {@code https://} nodes, for instance {@code
     * NodeTls.clientContext(Path.of("certs/ca.crt"))} for a cluster of {@code bin/flotilla
     * certs}. Default: the JVM's trusted authorities.
     */
    public Builder sslContext(javax.net.ssl.SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "context");
      return this;
    }

    /**
     * The token to authenticate with, for nodes with auth on: sent as {@code Authorization:
     * Bearer <token>} on every request. A request refused for it fails with
     * {@code unauthenticated} (401) or {@code permission_denied} (403) and is not retried.
     */
    public Builder token(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("a token must not be empty");
      }
      this.token = token;
      return this;
    }

    /** Base URLs of the nodes, e.g. {@code http://127.0.0.11:7001}; requests start at the first. */
    public Builder nodes(List<String> baseUrls) {
      baseUrls.forEach(this::node);
      return this;
    }

    public Builder node(String baseUrl) {
      nodes.add(normalize(baseUrl));
      return this;
    }

    /**
     * How long one request may take before the client gives up on it (a write then has an
     * unknown outcome). Keep it above the nodes' own request timeout (10 s by default), so the
     * node's answer, {@code 504} included, arrives first. Default 15 s.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /** How long opening a connection may take; a node that does not accept in time is skipped. Default 2 s. */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /** Runs the HTTP client's work and the futures' completions; default: the HTTP client's own pool. */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Sends per request at most, failovers included. Default: 3 or the number of nodes, whichever is larger. */
    public Builder maxAttempts(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1 (got " + attempts + ")");
      }
      this.maxAttempts = attempts;
      return this;
    }

    /** The pause before the second send, doubling up to {@code max}. Default 50 ms up to 1 s. */
    public Builder backoff(Duration base, Duration max) {
      this.backoffBase = Objects.requireNonNull(base, "base");
      this.backoffMax = Objects.requireNonNull(max, "max");
      return this;
    }

    /** How old the range listing sessions route by may get before it is fetched again. Default 30 s. */
    public Builder routingRefresh(Duration interval) {
      this.routingRefresh = positive(interval, "routingRefresh");
      return this;
    }

    /** The clock that ages the range listing (tests pass a manual one). */
    Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public FlotillaClient build() {
      if (nodes.isEmpty()) {
        throw new IllegalArgumentException("give at least one node URL, e.g. http://127.0.0.11:7001");
      }
      HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER);
      if (executor != null) {
        http.executor(executor);
      }
      if (sslContext != null) {
        http.sslContext(sslContext);
      }
      int attempts = maxAttempts != null ? maxAttempts : Math.max(3, nodes.size());
      Transport transport = new Transport(http.build(), nodes, requestTimeout, attempts, backoffBase, backoffMax,
          executor != null ? executor : ForkJoinPool.commonPool(), token);
      return new FlotillaClient(new HttpKv(transport), new RoutingCache(transport, clock, routingRefresh));
    }

    private static Duration positive(Duration d, String name) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive (got " + d + ")");
      }
      return d;
    }
  }
}
