package io.flotilla.pd;

import io.flotilla.proto.PdSnapshot;
import java.io.IOException;

/** Fetches a placement driver member's current state from the node that hosts it. */
@FunctionalInterface
public interface PdSnapshotSource {
  PdSnapshot fetch(String nodeId) throws IOException;
}
