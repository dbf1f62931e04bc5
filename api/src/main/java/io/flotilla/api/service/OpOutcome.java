package io.flotilla.api.service;

import io.flotilla.common.FlotillaException;
import io.flotilla.proto.EntryResult;

/** The outcome of one batch op: a result at a range revision, or an error. */
public record OpOutcome(EntryResult result, long revision, FlotillaException error) {
  public static OpOutcome ok(EntryResult result, long revision) {
    return new OpOutcome(result, revision, null);
  }

  public static OpOutcome failed(FlotillaException error) {
    return new OpOutcome(null, 0, error);
  }
}
