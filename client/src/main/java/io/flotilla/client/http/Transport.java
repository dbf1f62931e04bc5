package io.flotilla.client.http;

import io.flotilla.client.Completions;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends one API request to one node at a time and fails over to the next node.
 *
 * <p>Which failures are retried (on the next node, after a backoff, at most {@code maxAttempts}
 * sends in all):
 * <ul>
 *   <li>the connection could not be opened: nothing was sent, so any request may go again;
 *   <li>{@code 503 unavailable} and {@code 429 overloaded}: API.md's "nothing was applied, retry";
 *   <li>for reads only, any other I/O failure or a client-side timeout.
 * </ul>
 * A write whose request may have reached a node (a client-side timeout, a connection that broke
 * after sending) fails at once with {@link OutcomeUnknownException}: retrying it blindly could
 * apply it twice. Every other response, errors included, goes back to the caller as it is.
 *
 * <p>The node that last answered is remembered, so requests stick to one node until it fails.
 */
final class Transport {
  /** A request: method, path with query, body, and whether it writes (so must not be resent blindly). */
  record Call(String method, String target, byte[] body, String contentType, boolean write) {
    static Call read(String method, String target) {
      return new Call(method, target, null, null, false);
    }
  }

  /** A response and the node that gave it. */
  record Reply(int status, byte[] body, HttpHeaders headers, URI node) {
    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }
  }

  private final HttpClient http;
  private final List<URI> nodes;
  private final Duration timeout;
  private final int maxAttempts;
  private final Duration backoffBase;
  private final Duration backoffMax;
  private final Executor executor;
  private final AtomicInteger preferred = new AtomicInteger();
  /** The token every request carries ({@code Authorization: Bearer}), or null (nodes with auth off). */
  private final String token;

  Transport(HttpClient http, List<URI> nodes, Duration timeout, int maxAttempts, Duration backoffBase,
      Duration backoffMax, Executor executor) {
    this(http, nodes, timeout, maxAttempts, backoffBase, backoffMax, executor, null);
  }

  /** @param token sent as {@code Authorization: Bearer <token>} on every request, if not null */
  Transport(HttpClient http, List<URI> nodes, Duration timeout, int maxAttempts, Duration backoffBase,
      Duration backoffMax, Executor executor, String token) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("at least one node URL is needed");
    }
    this.http = http;
    this.nodes = List.copyOf(nodes);
    this.timeout = timeout;
    this.maxAttempts = maxAttempts;
    this.backoffBase = backoffBase;
    this.backoffMax = backoffMax;
    this.executor = executor;
    this.token = token;
  }

  /** The same transport aimed at one node only (retries of refused requests go to it again). */
  Transport pinned(URI node) {
    return new Transport(http, List.of(node), timeout, maxAttempts, backoffBase, backoffMax, executor, token);
  }

  List<URI> nodes() {
    return nodes;
  }

  CompletableFuture<Reply> send(Call call) {
    return attempt(call, preferred.get(), 0);
  }

  private CompletableFuture<Reply> attempt(Call call, int nodeIndex, int attempt) {
    int index = Math.floorMod(nodeIndex, nodes.size());
    URI node = nodes.get(index);
    HttpRequest request;
    try {
      request = request(node, call);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new FlotillaClientException("invalid_argument", 0,
          "cannot build the request " + call.method() + " " + call.target() + ": " + e.getMessage(), null, null,
          node, e));
    }
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).handle((resp, error) -> {
      if (error == null) {
        Reply reply = new Reply(resp.statusCode(), resp.body(), resp.headers(), node);
        boolean refused = reply.status() == 503 || reply.status() == 429;
        if (!refused) {
          return CompletableFuture.completedFuture(reply);
        }
        return retry(call, index, attempt, CompletableFuture.completedFuture(reply));
      }
      Throwable cause = Completions.unwrap(error);
      boolean notSent = cause instanceof ConnectException || cause instanceof HttpConnectTimeoutException
          || cause instanceof UnresolvedAddressException;
      if (!notSent && call.write()) {
        // Invariant: a write that may have reached a node is never sent again by this client.
        String code = cause instanceof HttpTimeoutException ? "timeout" : "unavailable";
        return CompletableFuture.<Reply>failedFuture(new OutcomeUnknownException(code, 0,
            call.method() + " " + call.target() + " was sent but no answer came (" + describe(cause)
                + "); the write may or may not have been applied", node, cause));
      }
      if (!notSent && !(cause instanceof IOException)) {
        return CompletableFuture.<Reply>failedFuture(new FlotillaClientException("internal", 0,
            "the HTTP client failed: " + describe(cause), null, null, node, cause));
      }
      String code = cause instanceof HttpTimeoutException && !notSent ? "timeout" : "unavailable";
      return retry(call, index, attempt, CompletableFuture.failedFuture(new FlotillaClientException(code, 0,
          "no answer from the node (" + describe(cause) + ")", null, null, node, cause)));
    }).thenCompose(f -> f);
  }

  /** After a refused or failed attempt at {@code index}: the next node after a backoff, or {@code last}. */
  private CompletableFuture<Reply> retry(Call call, int index, int attempt, CompletableFuture<Reply> last) {
    int next = (index + 1) % nodes.size();
    preferred.compareAndSet(index, next);
    if (attempt + 1 >= maxAttempts) {
      return last;
    }
    long pause = Math.min(backoffMax.toMillis(), backoffBase.toMillis() << Math.min(attempt, 20));
    return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(pause, TimeUnit.MILLISECONDS,
        executor)).thenCompose(x -> attempt(call, next, attempt + 1));
  }

  private HttpRequest request(URI node, Call call) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node + call.target())).timeout(timeout);
    HttpRequest.BodyPublisher body = call.body() == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(call.body());
    if (call.contentType() != null) {
      b.header("Content-Type", call.contentType());
    }
    b.header("Accept", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b.method(call.method(), body).build();
  }


  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}
