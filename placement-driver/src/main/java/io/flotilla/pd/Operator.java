package io.flotilla.pd;

import java.util.List;

/**
 * A change to one range: ordered steps that a controller runs one after another, plus who
 * asked and why. Checkers' operators repair ({@link Priority#REPAIR}) and go before schedulers'
 * ({@link Priority#BALANCE}); a range runs at most one operator at a time.
 */
public record Operator(long rangeId, String kind, Priority priority, List<Step> steps, String reason) {
  public enum Priority { REPAIR, SPLIT_MERGE, BALANCE }

  public Operator {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("an operator needs at least one step");
    }
  }

  /** The nodes this operator copies a replica to (each costs one snapshot on that node). */
  public List<String> targets() {
    return steps.stream().filter(s -> s instanceof Step.AddReplica).map(s -> ((Step.AddReplica) s).node()).toList();
  }

  @Override
  public String toString() {
    return kind + " of range " + rangeId + " " + steps + " (" + reason + ")";
  }
}
