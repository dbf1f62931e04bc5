package io.flotilla.api.service;

import io.flotilla.proto.KeyValue;
import java.util.List;

/** One page of a scan: items in scan order, and the cursor of the next page (null at the end). */
public record ScanPage(List<KeyValue> items, String cursor, String servedBy) {}
