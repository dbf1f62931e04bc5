package io.flotilla.api.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dropwizard.util.Duration;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** Request limits, enforced before anything reaches the Raft log. */
public class LimitsConfig {
  @Min(1) @Max(65536) @JsonProperty public int maxKeyBytes = 4096;
  @Min(0) @JsonProperty public int maxValueBytes = 1024 * 1024;
  @Min(1) @JsonProperty public int maxBatchOps = 1000;
  /**
   * Total bytes of keys and values in one batch: one batch is one log entry, and every range
   * allocates a direct buffer that holds the largest entry (Ratis's log write buffer, per
   * range and node), so this bounds memory per range. 1 MiB and 4 KiB, so a batch can carry a
   * value of the largest size and its key, and the largest entry is no larger than a single
   * put's: with 2 MiB a node needed 2.2 MB of direct memory per range and stalled creating its
   * 460th range under the default 1 GB cap (bench idle-ranges).
   */
  @Min(1) @JsonProperty public int maxBatchBytes = 1024 * 1024 + 4096;
  @Min(1) @JsonProperty public int maxScanLimit = 10_000;
  /**
   * How long the oldest request waiting in one of a range's queues on a node (to be proposed,
   * forwarded to the range's leader, or read) may have waited before the queue takes no more,
   * once it holds 32 requests or 8 MiB or more: a request it does not take is refused with 429
   * {@code overloaded}, nothing applied. The queue then holds what the range serves in about
   * this time, so an accepted request waits about this long at most, whatever its size.
   */
  @NotNull @JsonProperty public Duration maxQueueDelay = Duration.seconds(1);
  /**
   * Requests of one range a node holds waiting to be proposed, forwarded to the range's leader,
   * or read (per read mode) while earlier ones are under way. Past it a request is refused with
   * 429 {@code overloaded}, nothing applied: a closed loop of 64 clients queues at most 64.
   */
  @Min(1) @JsonProperty public int maxQueuedPerRange = 2048;
  /**
   * Bytes of keys and values of the writes a node holds waiting, over all ranges; past it a
   * write is refused with 429 {@code overloaded}, nothing applied. Bounds the heap a flood of
   * writes can take (one write always fits an empty queue, whatever its size).
   */
  @Min(1) @JsonProperty public long maxQueuedWriteBytes = 32L << 20;
  /**
   * Bytes of request bodies of 64 KiB or more a node reads at once; a request past it is refused
   * with 429 {@code overloaded} before its body is read, nothing applied. 0 (the default): a
   * quarter of the heap.
   */
  @Min(0) @JsonProperty public long maxBodyBytesInFlight = 0;

  /**
   * API requests ({@code /v1/...}) one client, by its address, may send a node per second; past
   * it the node answers 429 {@code overloaded} with {@code Retry-After}, nothing applied. 0 (the
   * default): no limit.
   */
  @Min(0) @JsonProperty public double clientRequestsPerSecond = 0;
  /** Requests a client may send at once after a pause; 0 (the default): one second's worth. */
  @Min(0) @JsonProperty public double clientBurst = 0;

  /** {@link #clientBurst}, with 0 resolved to one second's worth of requests. */
  public double clientBurstRequests() {
    return clientBurst > 0 ? Math.max(1, clientBurst) : Math.max(1, clientRequestsPerSecond);
  }

  /** {@link #maxBodyBytesInFlight}, with 0 resolved against this JVM's heap. */
  public long bodyBytesInFlight() {
    return maxBodyBytesInFlight > 0 ? maxBodyBytesInFlight : Runtime.getRuntime().maxMemory() / 4;
  }
  @Min(1) @JsonProperty public int defaultScanLimit = 100;
}
