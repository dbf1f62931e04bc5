package io.flotilla.client;

import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;

/**
 * Every replica a range client knows answered that it does not host the range's group: the
 * range was merged away or moved off those nodes. Nothing was applied; the caller's routing is
 * stale and must be refreshed before retrying.
 */
public final class RangeNotHostedException extends FlotillaException {
  private final long rangeId;

  public RangeNotHostedException(long rangeId, Object replicas) {
    super(ErrorCode.UNAVAILABLE, "range " + rangeId + " is not hosted by any of " + replicas
        + " (merged away or moved); nothing was applied, retry");
    this.rangeId = rangeId;
  }

  public long rangeId() {
    return rangeId;
  }
}
