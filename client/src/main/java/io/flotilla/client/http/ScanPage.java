package io.flotilla.client.http;

import java.util.List;

/**
 * One page of a scan.
 *
 * @param cursor pass it back (in the same request, via {@link ScanRequest#withCursor(String)}) for
 *     the next page; null when the scan is complete
 */
public record ScanPage(List<ScanItem> items, String cursor) {
  public ScanPage {
    items = List.copyOf(items);
  }

  public boolean hasMore() {
    return cursor != null;
  }
}
