package io.flotilla.client.http;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A scan page through a session: the span is cut at the range boundaries of the routing cache
 * and each piece is read with the floor of its own range as {@code min_revision}.
 *
 * <p>Why not one request with the largest floor of the ranges spanned: that would be safe (a
 * replica that applied revision F >= floor(r) has everything the session saw in r, because a
 * replica's revision only grows), but revisions are counters per range, so a range written less
 * may not reach the largest floor for a long time, and a {@code stale} read waits for it until
 * the request times out ({@code 504}). One piece per range asks each range for exactly its own
 * floor: as safe, and never waits for a revision its range has not reached.
 *
 * <p>Each piece is a plain {@code start}/{@code end} scan (no server cursor), so the session
 * keeps its own cursors: {@value #CURSOR_PREFIX} + base64url(direction, position). They are
 * valid only for session scans, and a page may end at a range boundary with a cursor whose next
 * page turns out empty. Items raise the floors too: an item of version v was written at revision
 * v of its range, so the replica that returned it had applied at least v.
 */
final class SessionScan {
  static final String CURSOR_PREFIX = "s1.";
  private static final int DEFAULT_LIMIT = 100;

  private final HttpKv kv;
  private final RoutingCache routing;
  private final SessionFloors floors;

  SessionScan(HttpKv kv, RoutingCache routing, SessionFloors floors) {
    this.kv = kv;
    this.routing = routing;
    this.floors = floors;
  }

  private record State(ScanRequest request, byte[] start, byte[] end, int limit, List<ScanItem> items) {
    boolean full() {
      return items.size() >= limit;
    }
  }

  CompletableFuture<ScanPage> page(ScanRequest request) {
    State s = new State(request, request.spanStart(), request.spanEnd(),
        request.limit() == null ? DEFAULT_LIMIT : request.limit(), new ArrayList<>());
    byte[] position;
    try {
      position = request.cursor() == null ? (request.reverse() ? s.end() : s.start())
          : decode(request.cursor(), s);
    } catch (FlotillaClientException e) {
      return CompletableFuture.failedFuture(e);
    }
    return routing.map().thenCompose(m -> step(s, position));
  }

  private CompletableFuture<ScanPage> step(State s, byte[] position) {
    boolean reverse = s.request().reverse();
    boolean exhausted = reverse ? position.length != 0 && KeyOrder.compare(position, s.start()) <= 0
        : KeyOrder.atOrAfterEnd(position, s.end());
    if (exhausted) {
      return done(s, null);
    }
    SessionFloors.Floor floor = reverse ? floors.below(routing.latest(), position)
        : floors.of(routing.latest(), position);
    RangeSpan range = floor.range();
    byte[] pieceStart = reverse ? max(s.start(), range.start()) : position;
    byte[] pieceEnd = reverse ? position : minEnd(s.end(), range.end());
    ScanRequest piece = new ScanRequest(orNull(pieceStart), orNull(pieceEnd), null, s.limit() - s.items().size(),
        reverse, s.request().keysOnly(), null, s.request().consistency());
    long minRevision = s.request().consistency() == Consistency.STRONG ? 0 : floor.revision();
    return kv.scan(piece, minRevision).thenCompose(page -> {
      for (ScanItem item : page.items()) {
        floors.observe(routing.latest(), KeyOrder.utf8(item.key()), item.version());
      }
      s.items().addAll(page.items());
      if (page.cursor() != null && !page.items().isEmpty()) {
        // the piece has more: continue right after the last item
        byte[] last = KeyOrder.utf8(page.items().get(page.items().size() - 1).key());
        byte[] next = reverse ? last : KeyOrder.successor(last);
        return s.full() ? done(s, encode(reverse, next)) : step(s, next);
      }
      byte[] boundary = reverse ? range.start() : range.end();
      boolean lastPiece = boundary.length == 0
          || (reverse ? KeyOrder.compare(boundary, s.start()) <= 0 : KeyOrder.atOrAfterEnd(boundary, s.end()));
      if (lastPiece) {
        return done(s, null);
      }
      return s.full() ? done(s, encode(reverse, boundary)) : step(s, boundary);
    });
  }

  private static CompletableFuture<ScanPage> done(State s, String cursor) {
    return CompletableFuture.completedFuture(new ScanPage(s.items(), cursor));
  }

  private static byte[] max(byte[] a, byte[] b) {
    return KeyOrder.compare(a, b) >= 0 ? a : b;
  }

  /** The smaller of two exclusive ends, empty meaning unbounded. */
  private static byte[] minEnd(byte[] a, byte[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    return KeyOrder.compare(a, b) <= 0 ? a : b;
  }

  private static String orNull(byte[] bound) {
    return bound.length == 0 ? null : KeyOrder.string(bound);
  }

  static String encode(boolean reverse, byte[] position) {
    byte[] raw = ByteBuffer.allocate(1 + position.length).put((byte) (reverse ? 1 : 0)).put(position).array();
    return CURSOR_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
  }

  /** The position of a session cursor; it must match the scan's direction and lie in its span. */
  private static byte[] decode(String cursor, State s) {
    boolean reverse = s.request().reverse();
    byte[] raw = null;
    if (cursor.startsWith(CURSOR_PREFIX)) {
      try {
        raw = Base64.getUrlDecoder().decode(cursor.substring(CURSOR_PREFIX.length()));
      } catch (IllegalArgumentException e) {
        raw = null;
      }
    }
    if (raw == null || raw.length < 1 || raw[0] != (reverse ? 1 : 0)) {
      throw invalidCursor();
    }
    byte[] position = Arrays.copyOfRange(raw, 1, raw.length);
    boolean outside = reverse
        ? s.end().length != 0 && (position.length == 0 || KeyOrder.compare(position, s.end()) > 0)
        : KeyOrder.compare(position, s.start()) < 0;
    if (outside) {
      throw invalidCursor();
    }
    return position;
  }

  private static FlotillaClientException invalidCursor() {
    return new FlotillaClientException("invalid_argument", 0, "the cursor is not one this session's scan returned "
        + "(pass it back unchanged, with the same span and reverse flag)", null, null, null, null);
  }
}
