package io.flotilla.client;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that complete Ratis replies and run what callers chained onto them (for the node's
 * API, that includes writing the HTTP response). Never Ratis's own threads: Ratis completes
 * replies while holding locks a chained call may need (see {@link RangeClient#write}). Not the
 * common ForkJoin pool either: it has one thread per core but one, so on a 2-core machine every
 * reply of the node queued behind a single thread.
 */
public final class Completions {
  private static final int THREADS = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
  private static final AtomicInteger NAMES = new AtomicInteger();

  /** Shared by every client of the JVM; daemon threads, idle ones exit after a minute. */
  public static final ExecutorService EXECUTOR = newExecutor();

  private Completions() {}

  /** Completes, on these threads, {@code millis} from now: a pause before a retry or the next poll. */
  public static java.util.concurrent.CompletableFuture<Void> after(long millis) {
    return java.util.concurrent.CompletableFuture.runAsync(() -> { },
        java.util.concurrent.CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS, EXECUTOR));
  }

  /** The failure inside the wrappers futures put around it ({@code CompletionException}, {@code ExecutionException}). */
  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static ExecutorService newExecutor() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        r -> {
          Thread t = new Thread(r, "flotilla-completions-" + NAMES.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }
}
