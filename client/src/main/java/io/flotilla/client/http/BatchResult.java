package io.flotilla.client.http;

import java.util.List;

/** The answer to a batch: one result per op, in order, and how many succeeded and failed. */
public record BatchResult(List<BatchOpResult> results, int succeeded, int failed) {
  public BatchResult {
    results = List.copyOf(results);
  }
}
