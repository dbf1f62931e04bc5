package io.flotilla.api.service;

import io.flotilla.proto.KeyValue;
import java.util.List;

/**
 * One page of a scan: items in scan order, and the cursor of the next page (null at the end).
 * {@code servedBy} and {@code appliedRevision} describe the replica that served the page's last
 * range (revisions are per range); -1 when no range was read.
 */
public record ScanPage(List<KeyValue> items, String cursor, String servedBy, long appliedRevision) {}
