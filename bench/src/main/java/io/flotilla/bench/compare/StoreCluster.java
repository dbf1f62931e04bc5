package io.flotilla.bench.compare;

import io.flotilla.bench.load.Endpoint;
import io.flotilla.bench.load.StoreApi;
import java.util.List;

/**
 * A store under test, started fresh on this machine for one comparison: how to talk to it, and
 * where. {@link #close()} stops every process it started (a JVM shutdown hook does too).
 */
public interface StoreCluster extends AutoCloseable {
  StoreApi api();

  /** Where its members serve HTTP; the generator spreads requests over all of them. */
  List<Endpoint> endpoints();

  /** A line for the report: version, members, layout after the runs. */
  String describe();

  @Override
  void close();
}
