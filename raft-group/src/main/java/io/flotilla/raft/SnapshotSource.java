package io.flotilla.raft;

import java.io.IOException;
import java.io.InputStream;

/** Opens a stream of a range's snapshot (see RangeSnapshots) served by another node. */
@FunctionalInterface
public interface SnapshotSource {
  InputStream open(String nodeId, long rangeId) throws IOException;
}
