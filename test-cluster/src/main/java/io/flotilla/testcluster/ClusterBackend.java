package io.flotilla.testcluster;

import java.time.Duration;
import java.util.List;

/**
 * A running cluster the chaos harness can hurt: local node processes ({@link ProcessCluster}) or
 * containers ({@link DockerCluster}). Every fault it offers has its undo: a killed node starts
 * again with its data, a paused one resumes.
 */
public interface ClusterBackend extends AutoCloseable {
  /** Node ids, in the cluster's order. */
  List<String> nodeIds();

  /** A node's HTTP base URL. */
  String url(String id);

  /** kill -9: the node gets no chance to flush. */
  void kill(String id) throws Exception;

  /**
   * SIGTERM, as an operator's restart or a rolling upgrade stops a node: it hands its
   * leaderships over and closes cleanly. Returns once it has exited (kill -9 after a grace
   * period).
   */
  void stop(String id) throws Exception;

  /** Starts a killed node again on its data. */
  void start(String id) throws Exception;

  /** SIGSTOP (or the container runtime's freeze). */
  void pause(String id) throws Exception;

  void resume(String id) throws Exception;

  /** Waits until every node answers ready. */
  void awaitReady(Duration timeout) throws InterruptedException;

  /** Network faults between nodes, or null when this backend cannot cut them apart. */
  Network network();

  @Override
  void close();
}
